package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VolumeAttributesClass → Cinder retype, and the claim's modifyVolumeStatus as the API defines it. */
@EnableKubernetesMockClient(crud = true)
class ModifyControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "vac" + NS.incrementAndGet();

  @BeforeEach
  void start() throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).createDelay(Duration.ofMillis(50))
        .extendDelay(Duration.ofMillis(300)).volumeType("iscsi", Map.of()).volumeType("gold", Map.of()).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), s -> s);
    h.storageClass("std-" + ns, Map.of("type", "iscsi"), "Delete", "Immediate");
  }

  @AfterEach
  void tearDown() {
    h.close();
    sim.close();
    client.resources(VolumeAttributesClass.class).delete();
  }

  private void vac(String name, String driver, Map<String, String> params) {
    client.resources(VolumeAttributesClass.class).resource(new VolumeAttributesClassBuilder().withNewMetadata()
        .withName(name).endMetadata().withDriverName(driver).withParameters(params).build()).create();
  }

  private void ask(PersistentVolumeClaim claim, String vac) {
    h.editClaim(ns, claim.getMetadata().getName(), c -> new PersistentVolumeClaimBuilder(c).editSpec()
        .withVolumeAttributesClassName(vac).endSpec().build());
  }

  private String volumeOf(PersistentVolumeClaim claim) {
    return h.pvOf(claim).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
  }

  private String modifyState(PersistentVolumeClaim claim) {
    var s = h.get(claim).getStatus().getModifyVolumeStatus();
    return s == null ? null : s.getStatus();
  }

  @Test
  void aClaimsNewVolumeAttributesClassRetypesItsVolumeWhileExported() throws Exception {
    vac("gold-" + ns, h.settings.provisionerName(), Map.of("type", "gold"));
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "db", "std-" + ns, "1Gi", b -> b));
    String volume = volumeOf(claim);
    assertThat(sim.volume(volume).volumeType()).isEqualTo("iscsi");
    ask(claim, "gold-" + ns);
    await().atMost(Duration.ofSeconds(20)).until(() -> ("gold-" + ns).equals(h.get(claim).getStatus()
        .getCurrentVolumeAttributesClassName()));
    assertThat(sim.volume(volume).volumeType()).isEqualTo("gold");
    assertThat(sim.volume(volume).status()).as("still exported").isEqualTo("in-use");
    assertThat(modifyState(claim)).isNull();
    assertThat(h.pvOf(claim).getSpec().getVolumeAttributesClassName()).isEqualTo("gold-" + ns);
    assertThat(h.events(claim, "VolumeModifySuccessful").get(0).getNote()).contains("is now of type gold");
    assertThat(sim.requestCount("POST /volumes/{id}/action os-retype")).isEqualTo(1);
  }

  @Test
  void whatCannotBeAppliedIsInfeasibleAndAMissingClassPending() throws Exception {
    vac("other-" + ns, "ebs.csi.aws.com", Map.of("type", "gold"));
    vac("odd-" + ns, h.settings.provisionerName(), Map.of("type", "gold", "iops", "3000"));
    vac("ghost-" + ns, h.settings.provisionerName(), Map.of("type", "platinum"));
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("other-" + ns, "is for driver ebs.csi.aws.com");
    expected.put("odd-" + ns, "parameters this provisioner does not know: [iops]");
    expected.put("ghost-" + ns, "Cinder has no volume type \"platinum\"");
    int i = 0;
    for (var e : expected.entrySet()) {
      PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "c" + i++, "std-" + ns, "1Gi", b -> b));
      ask(claim, e.getKey());
      await().atMost(Duration.ofSeconds(20)).until(() -> "Infeasible".equals(modifyState(claim)));
      assertThat(h.awaitEvent(claim, "VolumeModifyFailed").getNote()).contains(e.getValue());
      assertThat(h.get(claim).getStatus().getCurrentVolumeAttributesClassName()).isNull();
    }
    PersistentVolumeClaim later = h.awaitBound(h.claim(ns, "later", "std-" + ns, "1Gi", b -> b));
    ask(later, "not-yet-" + ns);
    await().atMost(Duration.ofSeconds(20)).until(() -> "Pending".equals(modifyState(later)));
    assertThat(sim.requestCount("POST /volumes/{id}/action os-retype")).isZero();

    // Asked back for what it has (no class): the change it asked for is dropped.
    ask(later, null);
    await().atMost(Duration.ofSeconds(20)).until(() -> modifyState(later) == null);
  }
}
