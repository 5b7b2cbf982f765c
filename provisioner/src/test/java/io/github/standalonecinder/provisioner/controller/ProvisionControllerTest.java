package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.kube.Updates;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The real controller end to end against the Fabric8 CRUD mock API server and the Cinder simulator. */
@EnableKubernetesMockClient(crud = true)
class ProvisionControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "ns" + NS.incrementAndGet();

  private ControllerHarness start(SimulatedBackend backend, UnaryOperator<ProvisionerSettings> tweak,
      UnaryOperator<CinderSimulator.Builder> simTweak) throws Exception {
    sim = simTweak.apply(CinderSimulator.builder()
        .backend(backend)
        .createDelay(Duration.ofMillis(100))
        .volumeType("iscsi", Map.of())
        .volumeType("shared", Map.of("multiattach", "<is> True"))).start();
    CinderGateway cinder = TestCinder.connect(sim);
    h = new ControllerHarness(client, sim, cinder, tweak);
    return h;
  }

  private ControllerHarness start(SimulatedBackend backend) throws Exception {
    return start(backend, s -> s, b -> b);
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

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  private List<SimVolume> liveVolumes() {
    return sim.volumes().stream().filter(v -> !"deleting".equals(v.status())).toList();
  }

  @Test
  void onlyClaimEventsThatCanMeanWorkWakeAWorker() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    UnaryOperator<PersistentVolumeClaimBuilder> ours = b -> b.editMetadata()
        .addToAnnotations(Annotations.STORAGE_PROVISIONER, h.settings.provisionerName()).endMetadata();
    UnaryOperator<PersistentVolumeClaimBuilder> bound = b -> b.editSpec().withVolumeName("pvc-1").endSpec();
    UnaryOperator<PersistentVolumeClaimBuilder> intent = b -> b.editMetadata()
        .addToFinalizers(Annotations.CLAIM_FINALIZER).endMetadata();
    UnaryOperator<PersistentVolumeClaimBuilder> deleting = b -> b.editMetadata()
        .withDeletionTimestamp("2026-12-01T10:00:00Z").endMetadata();

    assertThat(h.controller.mayNeedWork(pendingClaim(ours))).as("pending, ours").isTrue();
    assertThat(h.controller.mayNeedWork(pendingClaim(b -> bound.apply(ours.apply(b))))).as("bound").isFalse();
    assertThat(h.controller.mayNeedWork(pendingClaim(b -> b))).as("another provisioner's").isFalse();
    assertThat(h.controller.mayNeedWork(pendingClaim(b -> intent.apply(bound.apply(ours.apply(b))))))
        .as("bound, intent still to clear").isTrue();
    assertThat(h.controller.mayNeedWork(pendingClaim(b -> deleting.apply(bound.apply(b))))).as("being deleted")
        .isTrue();
  }

  @Test
  void withoutTheSnapshotCrdsSnapshotsAreOffAndARestoreIsRefused() throws Exception {
    // This mock server has no snapshot CRDs: discovery answers 404 for the group.
    start(SimulatedBackend.ISCSI_CHAP);
    assertThat(h.controller.snapshots().enabled()).isFalse();
    assertThat(h.controller.isReady()).isTrue();
    h.storageClass("iscsi", Map.of("type", "iscsi"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "restore", "iscsi", "1Gi", b -> b.editSpec().withDataSource(
        new io.fabric8.kubernetes.api.model.TypedLocalObjectReference("snapshot.storage.k8s.io", "VolumeSnapshot",
            "snap")).endSpec());
    assertThat(h.awaitEvent(claim, "ProvisioningFailed").getNote()).contains("dataSource VolumeSnapshot \"snap\": "
        + "snapshots are off: the API server does not serve snapshot.storage.k8s.io/v1");
    assertThat(sim.volumes()).isEmpty();
  }

  private static PersistentVolumeClaim pendingClaim(UnaryOperator<PersistentVolumeClaimBuilder> tweak) {
    return tweak.apply(new PersistentVolumeClaimBuilder().withNewMetadata().withName("c").withNamespace("n")
        .endMetadata().withNewSpec().withStorageClassName("cinder").endSpec()).build();
  }

  @Test
  void iscsiClaimBindsToAPvMatchingWhatCinderReports() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("iscsi-" + ns, Map.of("type", "iscsi", "fsType", "xfs"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "data", "iscsi-" + ns, "1500Mi", b -> b));

    PersistentVolume pv = h.pvOf(claim);
    String uid = claim.getMetadata().getUid();
    assertThat(claim.getSpec().getVolumeName()).isEqualTo("pvc-" + uid);
    assertThat(pv.getSpec().getCapacity().get("storage")).isEqualTo(new Quantity("2Gi"));
    assertThat(pv.getSpec().getClaimRef().getUid()).isEqualTo(uid);
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(pv.getMetadata().getFinalizers()).contains(Annotations.PV_FINALIZER);
    assertThat(pv.getMetadata().getAnnotations())
        .containsEntry(Annotations.PROVISIONED_BY, "openstack.org/standalone-cinder")
        .containsEntry(Annotations.PROVISIONER_IDENTITY, "openstack.org/standalone-cinder");

    SimVolume volume = sim.volume(pv.getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID));
    assertThat(volume.name()).isEqualTo("pvc-" + uid);
    assertThat(volume.size()).isEqualTo(2);
    assertThat(volume.volumeType()).isEqualTo("iscsi");
    assertThat(volume.status()).isEqualTo("in-use");
    assertThat(volume.metadata())
        .containsEntry(Annotations.META_CLUSTER, "kubernetes")
        .containsEntry(Annotations.META_CLAIM_NAMESPACE, ns)
        .containsEntry(Annotations.META_CLAIM_NAME, "data")
        .containsEntry(Annotations.META_PV_NAME, "pvc-" + uid)
        .containsEntry(Annotations.META_RECLAIM_POLICY, "Delete");

    var iscsi = pv.getSpec().getIscsi();
    assertThat(iscsi.getTargetPortal()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);
    assertThat(iscsi.getIqn()).isEqualTo(SimulatedBackend.iqnFor(volume.id()));
    assertThat(iscsi.getLun()).isEqualTo(SimulatedBackend.ISCSI_LUN);
    assertThat(iscsi.getInitiatorName()).isEqualTo(ControllerHarness.CONNECTOR.initiator());
    assertThat(iscsi.getFsType()).isEqualTo("xfs");
    assertThat(iscsi.getChapAuthSession()).isTrue();
    assertThat(iscsi.getSecretRef().getNamespace()).isEqualTo(ControllerHarness.NAMESPACE);

    Secret chap = client.secrets().inNamespace(ControllerHarness.NAMESPACE)
        .withName(iscsi.getSecretRef().getName()).get();
    assertThat(chap.getType()).isEqualTo("kubernetes.io/iscsi-chap");
    Map<String, Object> data = volume.attachments().get(0).connectionInfo();
    assertThat(decode(chap, "node.session.auth.username")).isEqualTo(data.get("auth_username"));
    assertThat(decode(chap, "node.session.auth.password")).isEqualTo(data.get("auth_password"));
    assertThat(client.secrets().inNamespace(ns).list().getItems()).as("no keys in the user's namespace").isEmpty();

    assertThat(h.awaitEvent(claim, "ProvisioningSucceeded").getNote())
        .matches("Successfully provisioned volume pvc-" + uid + " in \\d+\\.\\d s");
    assertThat(h.get(claim).getMetadata().getFinalizers()).doesNotContain(Annotations.CLAIM_FINALIZER);
    // Provisioned within the deferral: its Provisioning Event was dropped, not merely late (stopping the controller
    // writes every deferred Event still waiting).
    h.controller.close();
    assertThat(reasonsInOrder(claim)).containsExactly("ProvisioningSucceeded");
  }

  /**
   * The claim's Events' reasons in the order they were recorded (their eventTime, the first occurrence's for a
   * series; a deferred Event keeps the time it was recorded). The write order is EventRecorderTest's.
   */
  private List<String> reasonsInOrder(PersistentVolumeClaim claim) {
    return client.events().v1().events().inNamespace(claim.getMetadata().getNamespace()).list().getItems().stream()
        .filter(e -> claim.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .sorted(java.util.Comparator.comparing((io.fabric8.kubernetes.api.model.events.v1.Event e) ->
            e.getEventTime().getTime()))
        .map(io.fabric8.kubernetes.api.model.events.v1.Event::getReason).toList();
  }

  @Test
  void deletingTheClaimRemovesVolumeSecretsAndPv() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("del-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "gone", "del-" + ns, "1Gi", b -> b));
    PersistentVolume pv = h.pvOf(claim);
    String secretName = pv.getSpec().getIscsi().getSecretRef().getName();

    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> h.pvOf(claim) == null && sim.volumes().isEmpty());
    assertThat(client.secrets().inNamespace(ControllerHarness.NAMESPACE).withName(secretName).get()).isNull();
  }

  @Test
  void retainLeavesCinderUntouched() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("keep-" + ns, Map.of(), "Retain", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "kept", "keep-" + ns, "1Gi", b -> b));
    assertThat(h.pvOf(claim).getMetadata().getFinalizers()).doesNotContain(Annotations.PV_FINALIZER);
    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      PersistentVolume pv = h.pvOf(claim);
      return pv.getStatus() != null && "Released".equals(pv.getStatus().getPhase());
    });
    Thread.sleep(500);
    assertThat(h.pvOf(claim)).isNotNull();
    assertThat(sim.volumes()).singleElement().extracting(SimVolume::status).isEqualTo("in-use");
    assertThat(sim.volumes().get(0).metadata()).as("recorded for the orphan sweeper")
        .containsEntry(Annotations.META_RECLAIM_POLICY, "Retain");
  }

  @Test
  void aRetainPvOwnsItsSecretsAndADeletePvDoesNot() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("own-" + ns, Map.of(), "Retain", "Immediate");
    h.storageClass("del-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim kept = h.awaitBound(h.claim(ns, "kept", "own-" + ns, "1Gi", b -> b));
    PersistentVolumeClaim deleted = h.awaitBound(h.claim(ns, "deleted", "del-" + ns, "1Gi", b -> b));
    PersistentVolume keptPv = h.pvOf(kept);
    Secret keptChap = client.secrets().inNamespace(ControllerHarness.NAMESPACE)
        .withName(keptPv.getMetadata().getName() + "-chap").get();
    // Kubernetes' garbage collector deletes the Secret with the PV (the CRUD mock has none: the reference is it).
    assertThat(keptChap.getMetadata().getOwnerReferences()).singleElement().satisfies(r -> {
      assertThat(r.getKind()).isEqualTo("PersistentVolume");
      assertThat(r.getApiVersion()).isEqualTo("v1");
      assertThat(r.getName()).isEqualTo(keptPv.getMetadata().getName());
      assertThat(r.getUid()).isEqualTo(keptPv.getMetadata().getUid());
    });
    Secret deletedChap = client.secrets().inNamespace(ControllerHarness.NAMESPACE)
        .withName(h.pvOf(deleted).getMetadata().getName() + "-chap").get();
    assertThat(deletedChap.getMetadata().getOwnerReferences()).as("the delete path removes it").isNullOrEmpty();
  }

  @Test
  void aRetainPvSavedBeforeACrashGetsItsSecretsOwnedOnTheRetry() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("crash-own-" + ns, Map.of(), "Retain", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "own", "crash-own-" + ns, "1Gi", b -> b));
    String chapName = h.pvOf(claim).getMetadata().getName() + "-chap";
    h.stopController();
    // As a crash right after the PV save left it: the claim holds our intent, the Secret has no owner yet.
    h.editClaim(ns, "own", c -> new PersistentVolumeClaimBuilder(c).editMetadata()
        .addToFinalizers(Annotations.CLAIM_FINALIZER).endMetadata().build());
    var secrets = client.secrets().inNamespace(ControllerHarness.NAMESPACE);
    Updates.update(secrets.withName(chapName), secrets::resource, s -> new SecretBuilder(s).editMetadata()
        .withOwnerReferences(List.of()).endMetadata().build());
    h.startController(h.cinder);
    await().atMost(Duration.ofSeconds(20)).until(() -> !ClaimIntent.holds(h.get(claim)));
    assertThat(secrets.withName(chapName).get().getMetadata().getOwnerReferences()).singleElement()
        .extracting(r -> r.getUid()).isEqualTo(h.pvOf(claim).getMetadata().getUid());
  }

  @Test
  void aVolumeTaggedWithTheOldDefaultClusterIdIsFoundWhenTheIdIsDerived() throws Exception {
    start(SimulatedBackend.ISCSI, s -> s.withClusterIds(List.of("derived-uid", "kubernetes")), b -> b);
    // The claim waits for its class; meanwhile a provisioner with the old default made its volume and crashed.
    PersistentVolumeClaim claim = h.claim(ns, "upgraded", "later-" + ns, "1Gi", b -> b);
    String uid = claim.getMetadata().getUid();
    String old = h.cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        "pvc-" + uid, 1, null, null, null, Map.of(Annotations.META_CLUSTER, "kubernetes",
            Annotations.META_CLAIM_UID, uid), null, null)).id();
    // Another cluster's volume of the same name (clusters sharing a project) is not ours.
    String foreign = h.cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        "pvc-" + uid, 1, null, null, null, Map.of(Annotations.META_CLUSTER, "another-cluster"), null, null)).id();
    h.storageClass("later-" + ns, Map.of(), "Delete", "Immediate");
    h.awaitBound(claim);
    assertThat(h.pvOf(claim).getMetadata().getAnnotations()).containsEntry(Annotations.CINDER_VOLUME_ID, old);
    assertThat(liveVolumes()).extracting(SimVolume::id).containsExactlyInAnyOrder(old, foreign);
    // New volumes get the derived id.
    h.awaitBound(h.claim(ns, "fresh", "later-" + ns, "1Gi", b -> b));
    assertThat(liveVolumes()).filteredOn(v -> !v.id().equals(old) && !v.id().equals(foreign)).singleElement()
        .satisfies(v -> assertThat(v.metadata()).containsEntry(Annotations.META_CLUSTER, "derived-uid"));
  }

  @Test
  void waitForFirstConsumerWaitsForTheSelectedNode() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("wffc-" + ns, Map.of(), "Delete", "WaitForFirstConsumer");
    PersistentVolumeClaim claim = h.claim(ns, "late", "wffc-" + ns, "1Gi", b -> b);
    Thread.sleep(1000);
    assertThat(sim.volumes()).isEmpty();
    h.editClaim(ns, "late", c -> {
      c.getMetadata().getAnnotations().put(Annotations.SELECTED_NODE, "node-1");
      return c;
    });
    h.awaitBound(claim);
    assertThat(sim.volumes()).hasSize(1);
  }

  @Test
  void blockModeClaimGetsABlockPv() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("blk-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "raw", "blk-" + ns, "1Gi",
        b -> b.editSpec().withVolumeMode("Block").endSpec()));
    assertThat(h.pvOf(claim).getSpec().getVolumeMode()).isEqualTo("Block");
  }

  static Stream<Arguments> backends() {
    return Stream.of(
        Arguments.of(SimulatedBackend.ISCSI_MULTIPATH, Map.of()),
        Arguments.of(SimulatedBackend.RBD_KEYRING, Map.of()),
        Arguments.of(SimulatedBackend.RBD_KEYRING, Map.of("rbd-mode", "csi", "csi-cluster-id", "ceph-1")),
        Arguments.of(SimulatedBackend.FC, Map.of()));
  }

  @ParameterizedTest
  @MethodSource("backends")
  void everyBackendProvisionsAndDeletes(SimulatedBackend backend, Map<String, String> params) throws Exception {
    start(backend);
    h.storageClass("b-" + ns, params, "Delete", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "b", "b-" + ns, "1Gi", b -> b));
    PersistentVolume pv = h.pvOf(claim);
    switch (backend) {
      case ISCSI_MULTIPATH -> assertThat(pv.getSpec().getIscsi()).isNotNull();
      case RBD_KEYRING -> {
        if (params.isEmpty()) {
          assertThat(pv.getSpec().getRbd().getMonitors()).hasSize(3);
        } else {
          assertThat(pv.getSpec().getCsi().getDriver()).isEqualTo("rbd.csi.ceph.com");
        }
      }
      case FC -> assertThat(pv.getSpec().getFc().getTargetWWNs()).containsExactlyElementsOf(
          SimulatedBackend.FC_TARGET_WWNS);
      default -> throw new AssertionError(backend);
    }
    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> h.pvOf(claim) == null && sim.volumes().isEmpty());
    assertThat(client.secrets().inNamespace(ControllerHarness.NAMESPACE).list().getItems().stream()
        .filter(s -> s.getMetadata().getName().startsWith(pv.getMetadata().getName()))).isEmpty();
  }

  @Test
  void foreignPvIsLeftAlone() throws Exception {
    start(SimulatedBackend.ISCSI);
    PersistentVolume foreign = client.persistentVolumes().resource(new PersistentVolumeBuilder()
        .withNewMetadata().withName("foreign-" + ns)
          .addToAnnotations(Annotations.CINDER_VOLUME_ID, "not-ours")
          .addToAnnotations(Annotations.PROVISIONER_IDENTITY, "someone-else")
        .endMetadata()
        .withNewSpec().withPersistentVolumeReclaimPolicy("Delete").addToCapacity("storage", new Quantity("1Gi"))
          .withNewIscsi().withTargetPortal("1.2.3.4").withIqn("iqn.x").withLun(0).endIscsi().endSpec()
        .withNewStatus().withPhase("Released").endStatus()
        .build()).create();
    client.persistentVolumes().resource(foreign).updateStatus();
    Thread.sleep(1000);
    assertThat(client.persistentVolumes().withName("foreign-" + ns).get()).isNotNull();
    assertThat(sim.requestCount("DELETE /volumes/{id}")).isZero();
  }

  @Test
  void aStaleChapSecretOfOursIsReplacedWhenTheBackendIssuesCredentialsPerExport() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    sim.faults().chapPerExport(true);
    h.storageClass("chap-" + ns, Map.of(), "Delete", "Immediate");
    h.stopController();
    // A crash between the Secret and the PV: the claim holds our intent, its volume is exported (the credentials
    // of that export are in the Secret), no PV. The next export gets new credentials.
    PersistentVolumeClaim claim = h.claim(ns, "crashed", "chap-" + ns, "1Gi", b -> b.editMetadata()
        .addToFinalizers(Annotations.CLAIM_FINALIZER).endMetadata());
    String uid = claim.getMetadata().getUid();
    String pvName = "pvc-" + uid;
    String volumeId = h.cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        pvName, 1, null, null, null, Map.of(Annotations.META_CLUSTER, h.settings.clusterId(),
            Annotations.META_CLAIM_UID, uid), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(volumeId).status()));
    var attachment = h.cinder.createAttachment(volumeId, h.settings.connector(), "standalone-cinder.k8s.io");
    h.cinder.completeAttachment(attachment.id());
    String stalePassword = String.valueOf(attachment.connectionInfo().data().get("auth_password"));
    client.secrets().inNamespace(ControllerHarness.NAMESPACE).resource(new SecretBuilder().withNewMetadata()
        .withName(pvName + "-chap").withNamespace(ControllerHarness.NAMESPACE)
        .withLabels(io.github.standalonecinder.mappers.ManagedSecrets.labels(pvName)).endMetadata()
        .withType("kubernetes.io/iscsi-chap")
        .addToStringData("node.session.auth.username", String.valueOf(attachment.connectionInfo().data()
            .get("auth_username")))
        .addToStringData("node.session.auth.password", stalePassword).build())
        .createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update); // the mock may stall, and retry
    h.startController(h.cinder);
    h.awaitBound(claim);
    Secret chap = client.secrets().inNamespace(ControllerHarness.NAMESPACE).withName(pvName + "-chap").get();
    assertThat(decode(chap, "node.session.auth.password")).as("the new export's credentials")
        .isNotEqualTo(stalePassword);
    assertThat(h.pvOf(claim).getSpec().getIscsi().getSecretRef().getName()).isEqualTo(pvName + "-chap");
    assertThat(h.events(claim, "ProvisioningFailed")).isEmpty();
  }

  @Test
  void aDifferentChapSecretThatIsNotOursIsNeverReplaced() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("notours-" + ns, Map.of(), "Delete", "Immediate");
    h.stopController();
    PersistentVolumeClaim claim = h.claim(ns, "blocked", "notours-" + ns, "1Gi", b -> b);
    String pvName = "pvc-" + claim.getMetadata().getUid();
    client.secrets().inNamespace(ControllerHarness.NAMESPACE).resource(new SecretBuilder().withNewMetadata()
        .withName(pvName + "-chap").withNamespace(ControllerHarness.NAMESPACE).endMetadata()
        .withType("kubernetes.io/iscsi-chap").addToData("node.session.auth.password", Base64.getEncoder()
            .encodeToString("admins".getBytes(StandardCharsets.UTF_8))).build())
        .createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update); // the mock may stall, and retry
    h.startController(h.cinder);
    h.awaitEvent(claim, "ProvisioningFailed");
    assertThat(h.events(claim, "ProvisioningFailed").get(0).getNote()).contains("refusing to overwrite");
    assertThat(decode(client.secrets().inNamespace(ControllerHarness.NAMESPACE).withName(pvName + "-chap").get(),
        "node.session.auth.password")).isEqualTo("admins");
    assertThat(h.pvOf(claim)).isNull();
  }

  @Test
  void aConnectionKubernetesWouldRefuseFailsForGoodWithTheVolumeUnexported() throws Exception {
    start(SimulatedBackend.ISCSI);
    // Cinder's target_prefix set without the ':' that Kubernetes' IQN check wants.
    sim.faults().iscsiTargetPrefix("iqn.2010-10.org.openstack.");
    h.storageClass("iqn-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "iqn", "iqn-" + ns, "1Gi", b -> b);
    h.awaitEvent(claim, "ProvisioningFailed");
    assertThat(h.events(claim, "ProvisioningFailed").get(0).getNote()).contains("\"target_iqn\" is \"iqn.2010-10"
        + ".org.openstack.volume-", "which Kubernetes refuses: it must be valid format starting with iqn");
    String volumeId = sim.volumes().get(0).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(volumeId).status()));
    long calls = sim.requestCounts().values().stream().mapToLong(Long::longValue).sum();
    Thread.sleep(3_000);
    assertThat(sim.requestCounts().values().stream().mapToLong(Long::longValue).sum())
        .as("not retried: no Cinder call").isEqualTo(calls);
    assertThat(h.pvOf(claim)).isNull();

    // The operator fixes Cinder; a change to the claim brings it back.
    sim.faults().iscsiTargetPrefix(null);
    h.editClaim(ns, "iqn", c -> new PersistentVolumeClaimBuilder(c).editMetadata().addToLabels("retry", "1")
        .endMetadata().build());
    h.awaitBound(claim);
    assertThat(h.pvOf(claim).getSpec().getIscsi().getIqn()).isEqualTo(SimulatedBackend.iqnFor(volumeId));
    assertThat(sim.requestCount("POST /volumes")).isEqualTo(1);
  }

  @Test
  void aPoolWideCephxKeyStaysOutOfTheClaimNamespaceUntilTheClassAcceptsIt() throws Exception {
    start(SimulatedBackend.RBD_KEYRING);
    h.storageClass("pool-" + ns, Map.of("secret-namespace", "claim"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "pool", "pool-" + ns, "1Gi", b -> b);
    h.awaitEvent(claim, "ProvisioningFailed");
    assertThat(h.events(claim, "ProvisioningFailed").get(0).getNote()).contains("the cephx key Cinder returned",
        "opens more than this volume", "\"shared-secrets-in-claim-namespace\": \"true\"");
    String volumeId = sim.volumes().get(0).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(volumeId).status()));
    assertThat(client.secrets().inNamespace(ns).list().getItems()).as("no key in the claim's namespace").isEmpty();
    assertThat(h.pvOf(claim)).isNull();

    // The admin accepts it for this class: the claim is judged again and provisioned, its key beside it.
    h.storageClass("pool2-" + ns, Map.of("secret-namespace", "claim", "shared-secrets-in-claim-namespace", "true"),
        "Delete", "Immediate");
    PersistentVolumeClaim accepted = h.awaitBound(h.claim(ns, "pool2", "pool2-" + ns, "1Gi", b -> b));
    assertThat(client.secrets().inNamespace(ns).withName(h.pvOf(accepted).getMetadata().getName() + "-cephx").get())
        .isNotNull();
  }

  @Test
  void pvMadeByTheGoOriginalIsDeletedWithItsSecret() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    // Make a volume the way the Go original left it: reserved and connected with its fixed connector, no
    // attachment record; CHAP Secret in the claim's namespace named <pv>-secret, PV annotated with its identity.
    String volumeId = TestCinder.createAsTheGoOriginalLeftIt(sim, h.cinder, "cinder-dynamic-pvc-1234");
    assertThat(sim.volume(volumeId).status()).isEqualTo("attaching");
    String pvName = "pvc-go-" + ns;
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName(pvName + "-secret")
        .withNamespace(ns).endMetadata().withType("kubernetes.io/iscsi-chap").build()).create();
    PersistentVolume pv = client.persistentVolumes().resource(new PersistentVolumeBuilder()
        .withNewMetadata().withName(pvName)
          .addToAnnotations(Annotations.CINDER_VOLUME_ID, volumeId)
          .addToAnnotations(Annotations.PROVISIONER_IDENTITY, "openstack.org/standalone-cinder")
          .addToAnnotations(Annotations.PROVISIONED_BY, "openstack.org/standalone-cinder")
        .endMetadata()
        .withNewSpec().withPersistentVolumeReclaimPolicy("Delete").addToCapacity("storage", new Quantity("1Gi"))
          .withNewClaimRef().withNamespace(ns).withName("old").withUid("gone-uid").endClaimRef()
          .withNewIscsi().withTargetPortal("127.0.0.1:3260").withIqn("iqn.x").withLun(1)
            .withChapAuthSession(true).withNewSecretRef().withName(pvName + "-secret").endSecretRef()
          .endIscsi().endSpec()
        .build()).create();
    pv.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeStatusBuilder().withPhase("Released").build());
    client.persistentVolumes().resource(pv).updateStatus();
    await().atMost(Duration.ofSeconds(20)).until(() -> client.persistentVolumes().withName(pvName).get() == null
        && sim.volumes().isEmpty());
    assertThat(client.secrets().inNamespace(ns).withName(pvName + "-secret").get()).isNull();
  }

  static Stream<Arguments> badInputs() {
    UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder> none = b -> b;
    return Stream.of(
        Arguments.of("unknown parameter", Map.of("colour", "blue"), "1Gi", none, "unknown StorageClass parameter \"colour\""),
        Arguments.of("bad secret-namespace", Map.of("secret-namespace", "elsewhere"), "1Gi", none,
            "\"secret-namespace\" must be"),
        Arguments.of("bad shared-secrets-in-claim-namespace", Map.of("secret-namespace", "claim",
            "shared-secrets-in-claim-namespace", "yes"), "1Gi", none,
            "\"shared-secrets-in-claim-namespace\" must be \"true\" or \"false\", got \"yes\""),
        Arguments.of("shared secrets without claim namespace", Map.of("shared-secrets-in-claim-namespace", "true"),
            "1Gi", none, "\"shared-secrets-in-claim-namespace\" only applies with \"secret-namespace\": \"claim\""),
        Arguments.of("bad chap-credentials", Map.of("chap-credentials", "host"), "1Gi", none,
            "\"chap-credentials\" must be \"per-volume\" or \"shared\""),
        Arguments.of("zero size", Map.of(), "0", none, "must be positive"),
        Arguments.of("absurd size", Map.of(), "100Pi", none, "exceeds the provisioner's limit"),
        Arguments.of("selector", Map.of(), "1Gi",
            (UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder>) b -> b.editSpec()
                .withSelector(new LabelSelectorBuilder().addToMatchLabels("a", "b").build()).endSpec(),
            "selector is not supported"),
        Arguments.of("RWX without type", Map.of(), "1Gi",
            (UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder>) b -> b.editSpec()
                .withAccessModes("ReadWriteMany").endSpec(),
            "need a multiattach volume type"),
        Arguments.of("RWX on a single-attach type", Map.of("type", "iscsi"), "1Gi",
            (UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder>) b -> b.editSpec()
                .withAccessModes("ReadWriteMany").endSpec(),
            "is not one"),
        Arguments.of("unknown access mode", Map.of(), "1Gi",
            (UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder>) b -> b.editSpec()
                .withAccessModes("ReadWriteSometimes").endSpec(),
            "unsupported access mode"),
        Arguments.of("bad fsType", Map.of("fsType", "ext4; rm -rf /"), "1Gi", none, "fsType"),
        Arguments.of("unknown volume type", Map.of("type", "gold"), "1Gi", none,
            "Cinder has no volume type \"gold\" (StorageClass parameter \"type\"); it has: "),
        Arguments.of("unknown availability zone", Map.of("availability", "az9"), "1Gi", none,
            "Cinder has no availability zone \"az9\" (StorageClass parameter \"availability\"); it has: nova"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void badInputIsReportedAndCinderIsNotAskedToCreate(String name, Map<String, String> params, String size,
      UnaryOperator<io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder> tweak, String expected)
      throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("bad-" + ns, params, "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "bad", "bad-" + ns, size, tweak);
    var event = h.awaitEvent(claim, "ProvisioningFailed");
    assertThat(event.getType()).isEqualTo("Warning");
    assertThat(event.getNote()).contains(expected);
    assertThat(sim.requestCount("POST /volumes")).isZero();
    assertThat(sim.volumes()).isEmpty();
    assertThat(h.get(claim).getMetadata().getFinalizers()).doesNotContain(Annotations.CLAIM_FINALIZER);
  }

  @Test
  void badInputIsNotEvaluatedAgainUntilTheClaimChanges() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("gold-" + ns, Map.of("type", "gold"), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "gold", "gold-" + ns, "1Gi", b -> b);
    h.awaitEvent(claim, "ProvisioningFailed");
    long typeLists = sim.requestCount("GET /types");
    // Status updates wake the controller (as resyncs do) but change nothing it judges by.
    for (int i = 0; i < 3; i++) {
      PersistentVolumeClaim current = h.get(claim);
      current.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder()
          .withPhase("Pending").addNewCondition().withType("Probe" + i).withStatus("True").endCondition().build());
      client.persistentVolumeClaims().inNamespace(ns).resource(current).updateStatus();
    }
    Thread.sleep(1500);
    assertThat(h.events(claim, "ProvisioningFailed")).hasSize(1).allSatisfy(e -> assertThat(e.getSeries())
        .as("no repeat counted").isNull());
    assertThat(sim.requestCount("GET /types")).as("no Cinder call").isEqualTo(typeLists);
    assertThat(sim.requestCount("POST /volumes")).isZero();

    // The claim changes: judged again, and the one Event counts the repeat.
    h.editClaim(ns, "gold", c -> {
      c.getMetadata().setLabels(Map.of("tier", "gold"));
      return c;
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> h.events(claim, "ProvisioningFailed").get(0)
        .getSeries() != null);
    assertThat(h.events(claim, "ProvisioningFailed")).hasSize(1);
    assertThat(h.events(claim, "ProvisioningFailed").get(0).getSeries().getCount()).isEqualTo(2);
  }

  @Test
  void aNewClaimCostsNoPvReadAndAClaimHoldingOurIntentDoes() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("reads-" + ns, Map.of(), "Delete", "Immediate");
    controllerRequests();
    PersistentVolumeClaim fresh = h.awaitBound(h.claim(ns, "fresh", "reads-" + ns, "1Gi", b -> b));
    String pvPath = "/api/v1/persistentvolumes/pvc-" + fresh.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> !h.events(fresh, "ProvisioningSucceeded").isEmpty());
    // Provisioning it reads no PV. (A later pass may: once the PV is saved, a claim update can arrive before the
    // PV does, and then the PV is read; that is the slow-cache path, not the cost of a new claim.)
    List<String> requests = controllerRequests();
    int saved = requests.indexOf("POST /api/v1/persistentvolumes");
    assertThat(saved).as("the controller's requests: %s", requests).isNotNegative();
    assertThat(requests.subList(0, saved)).as("the controller's requests before the PV is saved")
        .doesNotContain("GET " + pvPath);

    // A claim still carrying our intent may have a PV the cache has not shown (a crash after saving it): read it.
    h.stopController();
    PersistentVolumeClaim held = h.claim(ns, "held", "reads-" + ns, "1Gi", b -> b.editMetadata()
        .addToFinalizers(Annotations.CLAIM_FINALIZER).endMetadata());
    h.startController(h.cinder);
    h.awaitBound(held);
    assertThat(controllerRequests()).contains("GET /api/v1/persistentvolumes/pvc-" + held.getMetadata().getUid());
  }

  @Test
  void aClaimIsWrittenTwiceTheIntentClearedOnceTheClaimShowsBoundWithoutA409() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP);
    h.storageClass("writes-" + ns, Map.of(), "Delete", "Immediate");
    controllerRequests();
    List<PersistentVolumeClaim> claims = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      claims.add(h.claim(ns, "w" + i, "writes-" + ns, "1Gi", b -> b));
    }
    for (PersistentVolumeClaim c : claims) {
      h.awaitBound(c);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> claims.stream().map(h::get)
        .noneMatch(c -> c.getMetadata().getFinalizers() != null
            && c.getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER)));
    List<String> claimRequests = controllerRequests().stream()
        .filter(r -> r.contains("/namespaces/" + ns + "/persistentvolumeclaims/")).toList();
    // The intent recorded, then cleared from the copy the binder's status write made: no write beside the binder's
    // two, so none refused with 409 and read afresh.
    assertThat(claimRequests).as("the controller's claim requests").hasSize(2 * claims.size())
        .allMatch(r -> r.startsWith("PUT "));
  }

  /** Drains the mock server's request log: the controller's requests as "METHOD path". */
  private static List<String> controllerRequests() throws InterruptedException {
    List<String> mine = new java.util.ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      String agent = r.getHeader("User-Agent");
      if (agent != null && agent.contains(ControllerHarness.CONTROLLER_AGENT)) {
        mine.add(r.getMethod() + " " + r.getPath().replaceAll("\\?.*", ""));
      }
    }
    return mine;
  }

  @Test
  void claimDeletedWhileProvisioningLeavesNothingBehind() throws Exception {
    start(SimulatedBackend.ISCSI_CHAP, s -> s, b -> b);
    sim.faults().volumesNamed(".*").stayIn("creating");
    h.storageClass("mid-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "mid", "mid-" + ns, "1Gi", b -> b);
    await().atMost(Duration.ofSeconds(10)).until(() -> !sim.volumes().isEmpty()
        && h.get(claim).getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER));
    h.deleteClaim(claim);
    sim.faults().reset();
    await().atMost(Duration.ofSeconds(30)).until(() -> h.get(claim) == null && liveVolumes().isEmpty());
    assertThat(h.pvOf(claim)).isNull();
  }

  @Test
  void aVolumeCinderIsSlowToMakeDoesNotHoldTheOnlyWorker() throws Exception {
    start(SimulatedBackend.ISCSI, s -> s.withWorkers(1).withAvailableTimeout(Duration.ofMinutes(2)), b -> b);
    sim.faults().volumesNamed(".*").stayIn("creating");
    h.storageClass("slow-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim slow = h.claim(ns, "slow", "slow-" + ns, "1Gi", b -> b);
    await().atMost(Duration.ofSeconds(10)).until(() -> sim.volumes().size() == 1);
    String slowVolume = sim.volumes().get(0).id();
    sim.faults().reset();

    // The one worker polls the slow volume for up to 15 s, then parks the claim: the next claim gets the worker
    // (before, it waited for the whole --available-timeout, 5 minutes).
    PersistentVolumeClaim quick = h.claim(ns, "quick", "slow-" + ns, "1Gi", b -> b);
    h.awaitBound(quick);
    assertThat(h.get(slow).getSpec().getVolumeName()).isNull();
    long reads = sim.requestCount("GET /volumes/detail") + sim.requestCount("GET /volumes/{id}");
    Thread.sleep(4_000);
    long readsIn4s = sim.requestCount("GET /volumes/detail") + sim.requestCount("GET /volumes/{id}")
        - reads;
    assertThat(readsIn4s).as("a parked claim is looked at about once per poll (4 s at most apart)")
        .isBetween(1L, 4L);

    sim.faults().setVolumeStatus(slowVolume, "available");
    h.awaitBound(slow);
    assertThat(h.pvOf(slow).getMetadata().getAnnotations()).containsEntry(Annotations.CINDER_VOLUME_ID, slowVolume);
    assertThat(h.events(slow, "Provisioning")).as("waiting is one attempt: one Event, never repeated")
        .singleElement().satisfies(e -> assertThat(e.getSeries()).isNull());
    assertThat(h.events(slow, "ProvisioningFailed")).isEmpty();
    h.awaitEvent(slow, "ProvisioningSucceeded");
    // Nothing else either: no FileSystemResizeRequired for a claim seen between the binder's two writes.
    assertThat(reasonsInOrder(slow)).as("longer than the deferral: taken up, then done")
        .containsExactly("Provisioning", "ProvisioningSucceeded");
    h.controller.close(); // writes what is still deferred
    assertThat(reasonsInOrder(quick)).as("bound at once").containsExactly("ProvisioningSucceeded");
    assertThat(sim.requestCount("POST /volumes")).isEqualTo(2);
  }

  @Test
  void aVolumeStuckInDeletingIsForceDeletedAndHoldsNoWorkerMeanwhile() throws Exception {
    start(SimulatedBackend.ISCSI, s -> s.withWorkers(1).withAvailableTimeout(Duration.ofSeconds(8)), b -> b);
    h.storageClass("gone-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim stuck = h.awaitBound(h.claim(ns, "stuck", "gone-" + ns, "1Gi", b -> b));
    PersistentVolumeClaim quick = h.awaitBound(h.claim(ns, "quick", "gone-" + ns, "1Gi", b -> b));
    String stuckVolume = h.pvOf(stuck).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    String quickVolume = h.pvOf(quick).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    // A delete Cinder accepted and lost (a message-bus blip): the volume stays "deleting" for ever.
    sim.faults().setVolumeStatus(stuckVolume, "deleting");
    h.deleteClaim(stuck);
    Thread.sleep(1_000);
    h.deleteClaim(quick);
    await().atMost(Duration.ofSeconds(6)).until(() -> h.pvOf(quick) == null);
    assertThat(sim.volume(quickVolume)).isNull();
    assertThat(h.pvOf(stuck)).as("still waiting for its volume").isNotNull();

    await().atMost(Duration.ofSeconds(20)).until(() -> h.pvOf(stuck) == null);
    assertThat(sim.volume(stuckVolume)).isNull();
    assertThat(sim.requestCount("POST /volumes/{id}/action os-force_delete")).isEqualTo(1);
    assertThat(client.events().v1().events().inAnyNamespace().list().getItems()).as("waiting is no failure")
        .noneMatch(e -> "VolumeFailedDelete".equals(e.getReason()));
  }

  @Test
  void aVolumeInErrorDeletingIsForceDeletedWithItsPv() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("errdel2-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.awaitBound(h.claim(ns, "errdel2", "errdel2-" + ns, "1Gi", b -> b));
    String volume = h.pvOf(claim).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    sim.faults().setVolumeStatus(volume, "error_deleting");
    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> h.pvOf(claim) == null);
    assertThat(sim.volume(volume)).isNull();
    assertThat(sim.requestCount("POST /volumes/{id}/action os-force_delete")).isEqualTo(1);
  }

  @Test
  void volumeEndingInErrorIsDeletedAndMadeAgain() throws Exception {
    start(SimulatedBackend.ISCSI);
    sim.faults().volumesNamed(".*").endIn("error");
    h.storageClass("err-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "err", "err-" + ns, "1Gi", b -> b);
    h.awaitEvent(claim, "ProvisioningFailed");
    sim.faults().reset();
    h.awaitBound(claim);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveVolumes().size() == 1);
    h.awaitEvent(claim, "ProvisioningSucceeded");
    assertThat(reasonsInOrder(claim)).as("a failure shows that the claim was taken up first")
        .containsExactly("Provisioning", "ProvisioningFailed", "ProvisioningSucceeded");
  }

  @Test
  void aVolumeCinderKeepsFailingEndsInOnePermanentEventWithCinderReason() throws Exception {
    start(SimulatedBackend.ISCSI);
    sim.faults().volumesNamed(".*").endIn("error");
    h.storageClass("full-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "full", "full-" + ns, "1Gi", b -> b);
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      List<io.fabric8.kubernetes.api.model.events.v1.Event> events = h.events(claim, "ProvisioningFailed");
      return !events.isEmpty() && events.get(0).getNote().contains("gave up");
    });
    var events = h.events(claim, "ProvisioningFailed");
    assertThat(events).as("one Event, the repeats in its series").hasSize(1);
    assertThat(events.get(0).getSeries().getCount()).isEqualTo(FailedVolumes.ATTEMPTS);
    assertThat(events.get(0).getNote()).contains("went to status error (Cinder says: schedule allocate volume:"
        + "Could not find any available weighted backend.); gave up after 3 volumes");
    assertThat(sim.requestCount("POST /volumes")).as("bounded creates").isEqualTo(FailedVolumes.ATTEMPTS);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveVolumes().isEmpty());
    Thread.sleep(1000);
    assertThat(sim.requestCount("POST /volumes")).as("no create after giving up").isEqualTo(FailedVolumes.ATTEMPTS);
  }

  @Test
  void aBurstWhereAThirdOfTheVolumesFailOnceEndsAllBoundWithNothingLeft() throws Exception {
    start(SimulatedBackend.ISCSI);
    sim.faults().volumesNamed("pvc-.*[036]").endInOnce("error");
    h.storageClass("burst-" + ns, Map.of(), "Delete", "Immediate");
    List<PersistentVolumeClaim> claims = new java.util.ArrayList<>();
    for (int i = 0; i < 30; i++) {
      claims.add(h.claim(ns, "b" + i, "burst-" + ns, "1Gi", b -> b));
    }
    for (PersistentVolumeClaim c : claims) {
      h.awaitBound(c);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> liveVolumes().size() == 30);
    long failedOnce = claims.stream().filter(c -> c.getMetadata().getUid().matches(".*[036]")).count();
    assertThat(sim.requestCount("POST /volumes")).isEqualTo(30 + failedOnce);
    assertThat(failedOnce).as("the fault hit some").isPositive();
  }

  @Test
  void aSizeOverCinderPerVolumeLimitIsBadInputAskedOnce() throws Exception {
    start(SimulatedBackend.ISCSI);
    sim.faults().failNext(1, "POST", "/volumes$", 413, "{\"overLimit\": {\"code\": 413, \"message\": "
        + "\"Requested volume size 5G is larger than maximum allowed limit 2G.\"}}");
    h.storageClass("limit-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "limit", "limit-" + ns, "5Gi", b -> b);
    assertThat(h.awaitEvent(claim, "ProvisioningFailed").getNote()).contains("Cinder refused: ")
        .contains("larger than maximum allowed limit 2G");
    Thread.sleep(3000);
    assertThat(sim.requestCount("POST /volumes")).as("not retried").isEqualTo(1);
    assertThat(liveVolumes()).isEmpty();
  }

  @Test
  void aVolumeLeftInErrorDeletingIsForceDeletedNotReused() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("errdel-" + ns, Map.of(), "Delete", "Immediate");
    h.stopController();
    PersistentVolumeClaim claim = h.claim(ns, "errdel", "errdel-" + ns, "1Gi", b -> b);
    String stale = h.cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        "pvc-" + claim.getMetadata().getUid(), 1, null, null, null, Map.of(Annotations.META_CLUSTER,
            h.settings.clusterId()), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(stale).status()));
    sim.faults().setVolumeStatus(stale, "error_deleting");
    h.startController(h.cinder);
    h.awaitBound(claim);
    String used = h.pvOf(claim).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    assertThat(used).isNotEqualTo(stale);
    await().atMost(Duration.ofSeconds(10)).until(() -> sim.volume(stale) == null
        || "deleting".equals(sim.volume(stale).status()));
  }

  @Test
  void aVolumeMadeUnderAnotherPrefixIsFoundByItsClaimUid() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("prefix-" + ns, Map.of(), "Delete", "Immediate");
    h.stopController();
    // An attempt under --volume-name-prefix old- made the volume and recorded its intent, then the prefix changed.
    PersistentVolumeClaim claim = h.claim(ns, "moved", "prefix-" + ns, "1Gi", b -> b.editMetadata()
        .addToFinalizers(Annotations.CLAIM_FINALIZER).endMetadata());
    String uid = claim.getMetadata().getUid();
    h.editClaim(ns, "moved", c -> new PersistentVolumeClaimBuilder(c)
        .editMetadata().addToAnnotations(Annotations.CLAIM_PROVISIONING, "pvc-" + uid).endMetadata().build());
    String old = h.cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        "old-" + uid, 1, null, null, null, Map.of(Annotations.META_CLUSTER, h.settings.clusterId(),
            Annotations.META_CLAIM_UID, uid), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(old).status()));
    long creates = sim.requestCount("POST /volumes");
    h.startController(h.cinder);
    h.awaitBound(claim);
    assertThat(h.pvOf(claim).getMetadata().getAnnotations()).containsEntry(Annotations.CINDER_VOLUME_ID, old);
    assertThat(sim.requestCount("POST /volumes")).as("no second volume").isEqualTo(creates);
  }

  @Test
  void aClaimClonesAnotherOfItsNamespaceAndNeverOneOfAnother() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("clone-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim source = h.awaitBound(h.claim(ns, "source", "clone-" + ns, "1Gi", b -> b));
    PersistentVolumeClaim copy = h.awaitBound(h.claim(ns, "copy", "clone-" + ns, "1Gi", b -> b.editSpec()
        .withNewDataSource().withKind("PersistentVolumeClaim").withName("source").endDataSource().endSpec()));
    String sourceVolume = h.pvOf(source).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    String copyVolume = h.pvOf(copy).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    assertThat(sim.volume(copyVolume).sourceVolid()).isEqualTo(sourceVolume);

    PersistentVolumeClaim foreign = h.claim(ns, "steal", "clone-" + ns, "1Gi", b -> b.editSpec()
        .withNewDataSourceRef().withKind("PersistentVolumeClaim").withName("source").withNamespace("other-tenant")
        .endDataSourceRef().endSpec());
    assertThat(h.awaitEvent(foreign, "ProvisioningFailed").getNote())
        .contains("dataSourceRef names PersistentVolumeClaim other-tenant/source in another namespace");
    assertThat(liveVolumes()).hasSize(2);
  }

  static Stream<String> crashPoints() {
    return Stream.of("createVolume", "getVolume", "createAttachment", "completeAttachment", "reserve",
        "initializeConnection", "attach");
  }

  /** The controller dies right after a Cinder step succeeded; a fresh controller finishes without duplicates. */
  @ParameterizedTest
  @MethodSource("crashPoints")
  void restartAfterAnyStepMakesNoDuplicateAndLeaksNothing(String step) throws Exception {
    boolean legacy = step.equals("reserve") || step.equals("initializeConnection") || step.equals("attach");
    start(SimulatedBackend.ISCSI_CHAP,
        s -> s.withAttachMode(legacy ? ProvisionerSettings.AttachMode.LEGACY : ProvisionerSettings.AttachMode.AUTO),
        b -> b);
    h.stopController();
    CrashingGateway crashing = new CrashingGateway(h.cinder, step);
    h.startController(crashing.proxy());
    h.storageClass("crash-" + ns, Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim(ns, "crash", "crash-" + ns, "1Gi", b -> b);
    await().atMost(Duration.ofSeconds(20)).until(crashing::crashed);
    h.stopController();
    h.startController(h.cinder);
    h.awaitBound(claim);
    assertThat(liveVolumes()).hasSize(1);
    assertThat(sim.volumes().get(0).status()).isEqualTo("in-use");

    h.deleteClaim(claim);
    await().atMost(Duration.ofSeconds(20)).until(() -> h.pvOf(claim) == null && sim.volumes().isEmpty());
    assertThat(client.secrets().inNamespace(ControllerHarness.NAMESPACE).list().getItems().stream()
        .filter(s -> s.getMetadata().getName().startsWith("pvc-" + claim.getMetadata().getUid()))).isEmpty();
  }

  private double gauge(String name) {
    var g = h.registry.find(name).gauge();
    return g == null ? Double.NaN : g.value();
  }

  @Test
  void failingClaimsAndStuckVolumesAreMetered() throws Exception {
    start(SimulatedBackend.ISCSI);
    h.storageClass("gauged-" + ns, Map.of(), "Delete", "Immediate");
    assertThat(gauge("standalone_cinder_claims_failing")).isZero();
    assertThat(gauge("standalone_cinder_claims_failing_oldest_seconds")).isZero();
    assertThat(gauge("standalone_cinder_work_queue_depth")).isZero();

    // Cinder unreachable: the claim fails, attempt after attempt, and is counted until it is provisioned.
    sim.faults().unreachable(true);
    PersistentVolumeClaim failing = h.claim(ns, "failing", "gauged-" + ns, "1Gi", b -> b);
    h.awaitEvent(failing, "ProvisioningFailed");
    await().atMost(Duration.ofSeconds(10)).until(() -> gauge("standalone_cinder_claims_failing") == 1.0
        && gauge("standalone_cinder_claims_failing_oldest_seconds") >= 1.0);
    sim.faults().unreachable(false);
    h.awaitBound(failing);
    await().atMost(Duration.ofSeconds(10)).until(() -> gauge("standalone_cinder_claims_failing") == 0.0);
    assertThat(gauge("standalone_cinder_claims_failing_oldest_seconds")).isZero();

    // Bad input (a size over Cinder's limit) is failing too, until the claim is deleted.
    sim.faults().failNext(1, "POST", "/volumes$", 413, "{\"overLimit\": {\"code\": 413, \"message\": "
        + "\"Requested volume size 5G is larger than maximum allowed limit 2G.\"}}");
    PersistentVolumeClaim refused = h.claim(ns, "refused", "gauged-" + ns, "5Gi", b -> b);
    h.awaitEvent(refused, "ProvisioningFailed");
    await().atMost(Duration.ofSeconds(10)).until(() -> gauge("standalone_cinder_claims_failing") == 1.0);
    client.persistentVolumeClaims().inNamespace(ns).withName("refused").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> gauge("standalone_cinder_claims_failing") == 0.0);

    // A volume that stays in creating past the available timeout (5 s here) is counted.
    sim.faults().volumesNamed("pvc-.*").stayIn("creating");
    PersistentVolumeClaim stuck = h.claim(ns, "stuck", "gauged-" + ns, "1Gi", b -> b);
    assertThat(h.registry.find("standalone_cinder_volumes_stuck").counter().count()).isZero();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> h.registry.find("standalone_cinder_volumes_stuck").counter().count() >= 1);
    sim.faults().reset();
    client.persistentVolumeClaims().inNamespace(ns).withName(stuck.getMetadata().getName()).delete();
  }
}
