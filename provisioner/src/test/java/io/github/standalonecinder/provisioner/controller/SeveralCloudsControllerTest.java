package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.SnapshotCrds;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One controller, two clouds ("default" and "b", each a simulator): what records which cloud a volume lives in,
 * and what follows that record rather than the class — deletion, a claim half-provisioned, snapshots, sources.
 */
@EnableKubernetesMockClient(crud = true)
class SeveralCloudsControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final String NS = "clouds";
  private static final Connector CONNECTOR_B = new Connector("node-pool-b", "10.2.0.1",
      "iqn.2004-10.com.example:net-b", List.of(), List.of(), false, "x86_64", "linux2");

  private CinderSimulator a;
  private CinderSimulator b;
  private ControllerHarness h;

  @BeforeAll
  static void crds() {
    SnapshotCrds.install(client);
  }

  @BeforeEach
  void start() throws Exception {
    a = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).createDelay(Duration.ofMillis(100))
        .volumeType("iscsi", Map.of()).start();
    b = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).createDelay(Duration.ofMillis(100))
        .volumeType("iscsi", Map.of()).start();
    h = new ControllerHarness(client, a, TestCinder.connect(a), s -> s);
  }

  @AfterEach
  void stop() {
    h.close();
    SnapshotObjects.wipe(client);
    a.close();
    b.close();
  }

  private void twoClouds() throws Exception {
    h.stopController();
    h.startController(Clouds.of(List.of(new Clouds.Cloud("default", TestCinder.connect(a),
        ControllerHarness.CONNECTOR), new Clouds.Cloud("b", TestCinder.connect(b), CONNECTOR_B))));
  }

  private static List<SimVolume> live(CinderSimulator sim) {
    return sim.volumes().stream().filter(v -> !"deleting".equals(v.status())).toList();
  }

  @Test
  void aPvMadeBeforeThereWereSeveralCloudsBelongsToTheDefaultOne() throws Exception {
    h.storageClass("old", Map.of("type", "iscsi"), "Delete", "Immediate");
    PersistentVolumeClaim old = h.awaitBound(h.claim(NS, "old", "old", "1Gi", x -> x));
    assertThat(h.pvOf(old).getMetadata().getAnnotations()).doesNotContainKey(Annotations.CLOUD);
    twoClouds();
    h.storageClass("in-b", Map.of("type", "iscsi", "cloud", "b"), "Delete", "Immediate");
    PersistentVolumeClaim inB = h.awaitBound(h.claim(NS, "new", "in-b", "1Gi", x -> x));
    PersistentVolume pvB = h.pvOf(inB);
    assertThat(pvB.getMetadata().getAnnotations()).containsEntry(Annotations.CLOUD, "b");
    assertThat(pvB.getSpec().getIscsi().getInitiatorName()).isEqualTo(CONNECTOR_B.initiator());
    assertThat(live(b)).extracting(SimVolume::id).containsExactly(Annotations.cinderVolumeId(pvB));

    // Both classes go; each claim's volume is deleted in the cloud its PV records.
    client.storage().v1().storageClasses().delete();
    h.deleteClaim(old);
    h.deleteClaim(inB);
    await().atMost(Duration.ofSeconds(20)).until(() -> live(a).isEmpty() && live(b).isEmpty()
        && h.pvOf(old) == null && h.pvOf(inB) == null);
  }

  @Test
  void aClaimHalfProvisionedKeepsItsCloudAfterItsClassIsGone() throws Exception {
    b.close();
    b = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).createDelay(Duration.ofSeconds(3))
        .volumeType("iscsi", Map.of()).start();
    twoClouds();
    h.storageClass("slow-b", Map.of("type", "iscsi", "cloud", "b"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(NS, "half", "slow-b", "1Gi", x -> x);
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.volumes().isEmpty());
    assertThat(h.get(claim).getMetadata().getAnnotations())
        .containsEntry(Annotations.CLAIM_PROVISIONING_CLOUD, "b");
    client.storage().v1().storageClasses().withName("slow-b").delete();
    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> live(b).isEmpty() && h.get(claim) == null);
    assertThat(a.volumes()).isEmpty();
  }

  @Test
  void snapshotsAndRestoresStayInTheSourcesCloudAndSourcesFromAnotherAreRefused() throws Exception {
    twoClouds();
    h.storageClass("in-b", Map.of("type", "iscsi", "cloud", "b"), "Delete", "Immediate");
    h.storageClass("in-a", Map.of("type", "iscsi"), "Delete", "Immediate");
    PersistentVolumeClaim source = h.awaitBound(h.claim(NS, "src", "in-b", "1Gi", x -> x));
    client.genericKubernetesResources(SnapshotApi.CLASSES).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotClass").withNewMetadata()
        .withName("snaps").endMetadata().addToAdditionalProperties("driver", h.settings.provisionerName())
        .addToAdditionalProperties("deletionPolicy", "Delete").build()).create();
    client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(NS).resource(
        new GenericKubernetesResourceBuilder().withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshot")
            .withNewMetadata().withName("snap").withNamespace(NS).endMetadata()
            .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", "snaps",
                "source", Map.of("persistentVolumeClaimName", "src"))).build()).create();
    await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.TRUE.equals(SnapshotApi.at(
        client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(NS).withName("snap").get(),
        "status", "readyToUse")));
    GenericKubernetesResource content = client.genericKubernetesResources(SnapshotApi.CONTENTS).list().getItems()
        .get(0);
    assertThat(content.getMetadata().getAnnotations()).containsEntry(Annotations.CLOUD, "b");
    assertThat(b.snapshots()).hasSize(1);
    assertThat(a.snapshots()).isEmpty();

    TypedLocalObjectReference snap = new TypedLocalObjectReference("snapshot.storage.k8s.io", "VolumeSnapshot",
        "snap");
    PersistentVolumeClaim wrongCloud = h.claim(NS, "restore-a", "in-a", "1Gi",
        x -> x.editSpec().withDataSource(snap).endSpec());
    assertThat(h.awaitEvent(wrongCloud, "ProvisioningFailed").getNote()).contains("VolumeSnapshot " + NS
        + "/snap is in cloud \"b\" and the claim's StorageClass makes volumes in cloud \"default\"");
    PersistentVolumeClaim cloneAcross = h.claim(NS, "clone-a", "in-a", "1Gi", x -> x.editSpec().withDataSource(
        new TypedLocalObjectReference(null, "PersistentVolumeClaim", "src")).endSpec());
    assertThat(h.awaitEvent(cloneAcross, "ProvisioningFailed").getNote()).contains("clone source claim " + NS
        + "/src is in cloud \"b\"").contains("Cinder clones within one cloud");

    PersistentVolumeClaim restored = h.awaitBound(h.claim(NS, "restore-b", "in-b", "1Gi",
        x -> x.editSpec().withDataSource(snap).endSpec()));
    assertThat(b.volume(Annotations.cinderVolumeId(h.pvOf(restored))).snapshotId())
        .isEqualTo(b.snapshots().get(0).id());
    assertThat(a.volumes()).as("nothing was made in the other cloud").isEmpty();

    // The snapshot's deletion goes to its content's cloud (once no pending claim restores from it, as upstream).
    h.deleteClaim(wrongCloud);
    client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(NS).withName("snap").delete();
    await().atMost(Duration.ofSeconds(20)).until(() -> b.snapshots().stream()
        .allMatch(s -> "deleting".equals(s.status())));
  }

  @Test
  void aClassNamingACloudNotConfiguredFailsForGoodWithAClearEvent() throws Exception {
    twoClouds();
    h.storageClass("nowhere", Map.of("cloud", "c"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(NS, "lost", "nowhere", "1Gi", x -> x);
    assertThat(h.awaitEvent(claim, "ProvisioningFailed").getNote()).isEqualTo("failed to provision volume with "
        + "StorageClass \"nowhere\" in cloud \"c\": cloud \"c\" is not configured: the cloud config has no "
        + "[Global \"c\"] section (after adding it, restart the provisioner)");
    assertThat(h.get(claim).getMetadata().getFinalizers()).as("no intent recorded: nothing was made")
        .doesNotContain(Annotations.CLAIM_FINALIZER);
    assertThat(a.volumes()).isEmpty();
    assertThat(b.volumes()).isEmpty();
  }
}
