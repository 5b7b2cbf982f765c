package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Adopting an existing Cinder volume: checked without changing Cinder, then tagged, exported and mapped. */
@EnableKubernetesMockClient(crud = true)
class AdoptionControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "adopt" + NS.incrementAndGet();

  @BeforeEach
  void start() throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).createDelay(Duration.ofMillis(50))
        .volumeType("iscsi", Map.of()).volumeType("fast", Map.of()).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), s -> s);
  }

  @AfterEach
  void tearDown() {
    h.close();
    sim.close();
  }

  private String existing(String name, int gib, String type) {
    String id = h.cinder.createVolume(new VolumeCreateRequest(name, gib, type, null, null,
        Map.of("owner", "finance"), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(id).status()));
    return id;
  }

  private PersistentVolumeClaim adopting(String name, String sc, String size, String volumeId) {
    return h.claim(ns, name, sc, size, b -> b.editMetadata().addToAnnotations(Annotations.ADOPT_VOLUME_ID, volumeId)
        .endMetadata());
  }

  /** Every request that would change something in Cinder, counted. */
  private long cinderWrites() {
    return sim.requestCounts().entrySet().stream().filter(e -> !e.getKey().startsWith("GET "))
        .mapToLong(Map.Entry::getValue).sum();
  }

  @Test
  void aClaimAdoptsAnExistingVolumeWhichItsPvThenKeeps() throws Exception {
    h.storageClass("adopt-" + ns, Map.of("type", "iscsi", "adopt-namespaces", "other," + ns), "Delete", "Immediate");
    String id = existing("finance-db", 3, "iscsi");
    long creates = sim.requestCount("POST /volumes");
    PersistentVolumeClaim claim = h.awaitBound(adopting("db", "adopt-" + ns, "2Gi", id));
    PersistentVolume pv = h.pvOf(claim);
    assertThat(pv.getMetadata().getAnnotations()).containsEntry(Annotations.CINDER_VOLUME_ID, id);
    assertThat(pv.getSpec().getCapacity().get("storage")).isEqualTo(new Quantity("3Gi"));
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).as("Retain unless the class says otherwise")
        .isEqualTo("Retain");
    assertThat(sim.requestCount("POST /volumes")).as("nothing created").isEqualTo(creates);
    assertThat(sim.volume(id).name()).isEqualTo("finance-db");
    assertThat(sim.volume(id).status()).isEqualTo("in-use");
    assertThat(sim.volume(id).metadata()).containsEntry("owner", "finance")
        .containsEntry(Annotations.META_CLAIM_UID, claim.getMetadata().getUid())
        .containsEntry(Annotations.META_ADOPTED, "true").containsEntry(Annotations.META_RECLAIM_POLICY, "Retain");
  }

  @Test
  void everyRefusalIsAnEventAndChangesNothingInCinder() throws Exception {
    h.storageClass("adopt-" + ns, Map.of("type", "iscsi", "adopt-namespaces", ns), "Delete", "Immediate");
    h.storageClass("closed-" + ns, Map.of("type", "iscsi"), "Delete", "Immediate");
    String small = existing("small", 1, "iscsi");
    String typed = existing("typed", 2, "fast");
    String busy = existing("busy", 2, "iscsi");
    sim.faults().setVolumeStatus(busy, "in-use");
    String named = existing("named", 2, "iscsi");
    client.persistentVolumes().resource(new PersistentVolumeBuilder().withNewMetadata().withName("held-" + ns)
        .addToAnnotations(Annotations.CINDER_VOLUME_ID, named).endMetadata().withNewSpec()
        .addToCapacity("storage", new Quantity("2Gi")).withAccessModes("ReadWriteOnce").withNewIscsi()
        .withTargetPortal("127.0.0.1:3260").withIqn("iqn.2010-10.org.openstack:x").withLun(0).endIscsi().endSpec()
        .build()).create();
    PersistentVolumeClaim mine = h.awaitBound(h.claim(ns, "mine", "adopt-" + ns, "1Gi", b -> b));
    String ours = h.pvOf(mine).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    await().atMost(Duration.ofSeconds(10)).until(() -> h.controller.isIdle());
    long writes = cinderWrites();

    Map<PersistentVolumeClaim, String> expected = new LinkedHashMap<>();
    expected.put(adopting("closed", "closed-" + ns, "1Gi", small), "does not let claims in namespace " + ns
        + " adopt Cinder volumes");
    expected.put(adopting("missing", "adopt-" + ns, "1Gi", "00000000-0000-4000-8000-000000000000"),
        "Cinder has no such volume");
    expected.put(adopting("small", "adopt-" + ns, "2Gi", small), "it has 1 GiB and the claim asks for 2 GiB");
    expected.put(adopting("typed", "adopt-" + ns, "1Gi", typed), "its type is fast and the StorageClass says iscsi");
    expected.put(adopting("busy", "adopt-" + ns, "1Gi", busy), "its status is in-use, not available");
    expected.put(adopting("named", "adopt-" + ns, "1Gi", named), "a PersistentVolume already names it");
    expected.put(adopting("ours", "adopt-" + ns, "1Gi", ours), "it is already a provisioned volume (of claim "
        + ns + "/mine)");
    expected.put(adopting("bad", "adopt-" + ns, "1Gi", "vol-1"), "must be a Cinder volume id");
    for (var e : expected.entrySet()) {
      assertThat(h.awaitEvent(e.getKey(), "ProvisioningFailed").getNote()).as(e.getKey().getMetadata().getName())
          .contains(e.getValue());
    }
    assertThat(cinderWrites()).as("no Cinder write for any refusal").isEqualTo(writes);
    assertThat(sim.volume(small).metadata()).doesNotContainKey(Annotations.META_CLUSTER);
  }

  @Test
  void aClaimDeletedWhileAdoptingGivesTheVolumeBackUntouched() throws Exception {
    h.storageClass("adopt-" + ns, Map.of("adopt-namespaces", "*"), "Delete", "Immediate");
    String id = existing("keep-me", 1, null);
    sim.faults().failNext(50, "POST", "/attachments$", 503); // the export keeps failing: no PV is saved
    PersistentVolumeClaim claim = adopting("gone", "adopt-" + ns, "1Gi", id);
    await().atMost(Duration.ofSeconds(20)).until(() -> sim.volume(id).metadata()
        .containsKey(Annotations.META_CLAIM_UID));
    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> h.get(claim) == null);
    sim.faults().reset();
    assertThat(sim.volume(id)).as("never deleted").isNotNull();
    assertThat(sim.volume(id).status()).isEqualTo("available");
    assertThat(sim.volume(id).metadata()).containsExactly(Map.entry("owner", "finance"));
  }
}
