package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Growing a bound claim's volume: Cinder extend while exported, the PV, and what the claim's status says. */
@EnableKubernetesMockClient(crud = true)
class ExpansionControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "grow" + NS.incrementAndGet();

  private void start(UnaryOperator<CinderSimulator.Builder> simTweak) throws Exception {
    sim = simTweak.apply(CinderSimulator.builder().backend(SimulatedBackend.ISCSI).createDelay(Duration.ofMillis(50))
        .extendDelay(Duration.ofMillis(300))).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), s -> s);
  }

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  private void storageClass(String name, boolean expandable) {
    client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName(name)
        .endMetadata().withProvisioner(h.settings.provisionerName()).withReclaimPolicy("Delete")
        .withAllowVolumeExpansion(expandable).build()).create();
  }

  private PersistentVolumeClaim bound(String name, String sc, String mode) {
    return h.awaitBound(h.claim(ns, name, sc, "1Gi", b -> b.editSpec().withVolumeMode(mode).endSpec()));
  }

  private void ask(PersistentVolumeClaim claim, String size) {
    h.editClaim(ns, claim.getMetadata().getName(), c -> new PersistentVolumeClaimBuilder(c).editSpec()
        .editResources().addToRequests("storage", new Quantity(size)).endResources().endSpec().build());
  }

  private String volumeOf(PersistentVolumeClaim claim) {
    return h.pvOf(claim).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
  }

  private static PersistentVolumeClaimCondition condition(PersistentVolumeClaim c, String type) {
    return c.getStatus().getConditions() == null ? null : c.getStatus().getConditions().stream()
        .filter(x -> type.equals(x.getType())).findFirst().orElse(null);
  }

  @Test
  void aBlockClaimGrowsWhileExportedAndIsDone() throws Exception {
    start(b -> b);
    storageClass("grow-" + ns, true);
    PersistentVolumeClaim claim = bound("raw", "grow-" + ns, "Block");
    String volume = volumeOf(claim);
    assertThat(sim.volume(volume).status()).isEqualTo("in-use");
    ask(claim, "2Gi");
    await().atMost(Duration.ofSeconds(20)).until(() -> "2Gi".equals(h.get(claim).getStatus().getCapacity()
        .get("storage").toString()));
    assertThat(sim.volume(volume).size()).isEqualTo(2);
    assertThat(sim.volume(volume).status()).as("still exported").isEqualTo("in-use");
    assertThat(h.pvOf(claim).getSpec().getCapacity().get("storage").toString()).isEqualTo("2Gi");
    assertThat(condition(h.get(claim), VolumeExpander.FS_PENDING)).isNull();
    assertThat(condition(h.get(claim), VolumeExpander.RESIZING)).isNull();
    assertThat(h.events(claim, "VolumeResizeSuccessful").get(0).getNote()).contains("grown to 2Gi",
        "iscsiadm -m session --rescan");
    assertThat(sim.requestCount("POST /volumes/{id}/action os-extend")).isEqualTo(1);
  }

  @Test
  void aFilesystemClaimWaitsForItsUserToGrowTheFileSystemAndSaysHow() throws Exception {
    start(b -> b);
    storageClass("grow-" + ns, true);
    PersistentVolumeClaim claim = bound("fs", "grow-" + ns, "Filesystem");
    ask(claim, "3Gi");
    await().atMost(Duration.ofSeconds(20)).until(() -> condition(h.get(claim), VolumeExpander.FS_PENDING) != null);
    assertThat(sim.volume(volumeOf(claim)).size()).isEqualTo(3);
    assertThat(h.pvOf(claim).getSpec().getCapacity().get("storage").toString()).isEqualTo("3Gi");
    assertThat(h.get(claim).getStatus().getCapacity().get("storage").toString()).as("not done: its file system")
        .isEqualTo("1Gi");
    assertThat(condition(h.get(claim), VolumeExpander.FS_PENDING).getMessage()).contains("resize2fs or xfs_growfs",
        VolumeExpander.RESIZE_DONE + "=3Gi");
    assertThat(h.events(claim, "FileSystemResizeRequired")).hasSize(1);

    // The user grew it and says so; a stale confirmation of another size does not count.
    h.editClaim(ns, "fs", c -> new PersistentVolumeClaimBuilder(c).editMetadata()
        .addToAnnotations(VolumeExpander.RESIZE_DONE, "2Gi").endMetadata().build());
    Thread.sleep(1_500);
    assertThat(h.get(claim).getStatus().getCapacity().get("storage").toString()).isEqualTo("1Gi");
    h.editClaim(ns, "fs", c -> new PersistentVolumeClaimBuilder(c).editMetadata()
        .addToAnnotations(VolumeExpander.RESIZE_DONE, "3Gi").endMetadata().build());
    await().atMost(Duration.ofSeconds(20)).until(() -> "3Gi".equals(h.get(claim).getStatus().getCapacity()
        .get("storage").toString()));
    assertThat(condition(h.get(claim), VolumeExpander.FS_PENDING)).isNull();
    assertThat(h.events(claim, "FileSystemResizeConfirmed")).hasSize(1);
    assertThat(sim.requestCount("POST /volumes/{id}/action os-extend")).isEqualTo(1);
  }

  @Test
  void refusalsAreEventsAndCinderIsNotAskedToExtend() throws Exception {
    start(b -> b.maxMicroversion("3.40"));
    storageClass("fixed-" + ns, false);
    storageClass("old-" + ns, true);
    PersistentVolumeClaim fixed = bound("fixed", "fixed-" + ns, "Block");
    PersistentVolumeClaim old = bound("old", "old-" + ns, "Block");
    ask(fixed, "2Gi");
    ask(old, "2Gi");
    assertThat(h.awaitEvent(fixed, "VolumeResizeFailed").getNote()).contains("does not allow volume expansion");
    assertThat(h.awaitEvent(old, "VolumeResizeFailed").getNote()).contains("needs Cinder API microversion 3.42",
        "offers 3.40");
    Thread.sleep(1_000);
    assertThat(sim.requestCount("POST /volumes/{id}/action os-extend")).isZero();
    assertThat(h.events(old, "VolumeResizeFailed")).singleElement().satisfies(e -> assertThat(e.getSeries())
        .as("reported once, not at every event").isNull());
    assertThat(List.of(sim.volume(volumeOf(fixed)).size(), sim.volume(volumeOf(old)).size())).containsOnly(1);
  }
}
