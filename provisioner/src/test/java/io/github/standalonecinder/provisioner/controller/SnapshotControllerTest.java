package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimBackup;
import io.github.standalonecinder.simulator.SimSnapshot;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.SnapshotControllerEmulation;
import io.github.standalonecinder.simulator.emulation.SnapshotCrds;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * VolumeSnapshots end to end: the real controller against the Fabric8 CRUD mock API server (with the snapshot CRDs
 * registered, so discovery serves the group) and the Cinder simulator; with and without the emulated common
 * snapshot-controller ({@link SnapshotControllerEmulation}), in both orders.
 */
@EnableKubernetesMockClient(crud = true)
class SnapshotControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();
  private static final long GIB = 1L << 30;

  private final String ns = "snap" + NS.incrementAndGet();
  private CinderSimulator sim;
  private ControllerHarness h;
  private SnapshotControllerEmulation emulation;

  @BeforeAll
  static void crds() {
    SnapshotCrds.install(client);
  }

  private ControllerHarness start() throws Exception {
    return start(Duration.ofMillis(100));
  }

  private ControllerHarness start(Duration createDelay) throws Exception {
    return start(CinderSimulator.builder().createDelay(createDelay));
  }

  private ControllerHarness start(CinderSimulator.Builder builder) throws Exception {
    sim = builder.backend(SimulatedBackend.ISCSI_CHAP).volumeType("iscsi", Map.of()).start();
    CinderGateway cinder = TestCinder.connect(sim);
    h = new ControllerHarness(client, sim, cinder, s -> s);
    h.storageClass("iscsi", Map.of("type", "iscsi"), "Delete", "Immediate");
    assertThat(h.controller.snapshots().enabled()).as("snapshots on: the mock serves the group").isTrue();
    return h;
  }

  @AfterEach
  void tearDown() {
    if (emulation != null) {
      emulation.close();
    }
    if (h != null) {
      h.close();
    }
    SnapshotObjects.wipe(client);
    if (sim != null) {
      sim.close();
    }
  }

  // ------------------------------------------------------------------ helpers

  private void snapshotClass(String name, String policy) {
    snapshotClass(name, policy, Map.of());
  }

  private void snapshotClass(String name, String policy, Map<String, String> parameters) {
    client.genericKubernetesResources(SnapshotApi.CLASSES).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotClass")
        .withNewMetadata().withName(name).endMetadata()
        .addToAdditionalProperties("driver", h.settings.provisionerName())
        .addToAdditionalProperties("parameters", parameters)
        .addToAdditionalProperties("deletionPolicy", policy).build()).createOr(e -> e.update());
  }

  private GenericKubernetesResource snapshot(String name, String claim, String cls) {
    return client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(ns).resource(
        new GenericKubernetesResourceBuilder().withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshot")
            .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
            .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", cls,
                "source", Map.of("persistentVolumeClaimName", claim))).build()).create();
  }

  private GenericKubernetesResource vs(String name) {
    return client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(ns).withName(name).get();
  }

  private GenericKubernetesResource content(String name) {
    return client.genericKubernetesResources(SnapshotApi.CONTENTS).withName(name).get();
  }

  private GenericKubernetesResource awaitReady(String name) {
    await().atMost(Duration.ofSeconds(20)).until(() -> vs(name) != null
        && Boolean.TRUE.equals(SnapshotApi.at(vs(name), "status", "readyToUse")));
    return vs(name);
  }

  private PersistentVolumeClaim boundClaim(String name, String size) {
    return h.awaitBound(h.claim(ns, name, "iscsi", size, b -> b));
  }

  private List<SimSnapshot> liveSnapshots() {
    return sim.snapshots().stream().filter(s -> !"deleting".equals(s.status())).toList();
  }

  private void deleteVs(String name) {
    client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(ns).withName(name).delete();
  }

  private List<Event> events(GenericKubernetesResource o, String reason) {
    return client.events().v1().events().inAnyNamespace().list().getItems().stream()
        .filter(e -> e.getRegarding() != null && o.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .filter(e -> reason == null || reason.equals(e.getReason())).toList();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void dynamicSnapshotBecomesReadyAndARestoredClaimIsBoundWithTheSourceSize() throws Exception {
    start();
    snapshotClass("cinder-snap", "Delete");
    PersistentVolumeClaim source = boundClaim("data", "2Gi");
    String volumeId = Annotations.cinderVolumeId(h.pvOf(source));
    assertThat(sim.volume(volumeId).status()).as("exported").isEqualTo("in-use");
    GenericKubernetesResource created = snapshot("snap1", "data", "cinder-snap");

    GenericKubernetesResource vs = awaitReady("snap1");
    String uid = created.getMetadata().getUid();
    String contentName = "snapcontent-" + uid;
    assertThat(SnapshotApi.str(vs, "status", "boundVolumeSnapshotContentName")).isEqualTo(contentName);
    assertThat(SnapshotApi.str(vs, "status", "restoreSize")).isEqualTo("2Gi");
    assertThat(SnapshotApi.str(vs, "status", "creationTime")).isNotNull();
    assertThat(SnapshotApi.at(vs, "status", "error")).isNull();
    assertThat(vs.getMetadata().getFinalizers()).containsExactlyInAnyOrder(SnapshotApi.AS_SOURCE_FINALIZER,
        SnapshotApi.BOUND_FINALIZER);
    GenericKubernetesResource content = content(contentName);
    assertThat(content.getMetadata().getFinalizers()).containsExactly(SnapshotApi.CONTENT_FINALIZER);
    assertThat(SnapshotApi.str(content, "spec", "source", "volumeHandle")).isEqualTo(volumeId);
    assertThat(SnapshotApi.str(content, "spec", "driver")).isEqualTo(h.settings.provisionerName());
    assertThat(SnapshotApi.str(content, "spec", "volumeSnapshotRef", "uid")).isEqualTo(uid);
    assertThat(((Number) SnapshotApi.at(content, "status", "restoreSize")).longValue()).isEqualTo(2 * GIB);
    assertThat(SnapshotApi.at(content, "status", "readyToUse")).isEqualTo(true);
    List<SimSnapshot> snaps = sim.snapshots();
    assertThat(snaps).hasSize(1);
    SimSnapshot snap = snaps.get(0);
    assertThat(SnapshotApi.str(content, "status", "snapshotHandle")).isEqualTo(snap.id());
    assertThat(((Number) SnapshotApi.at(content, "status", "creationTime")).longValue() / 1_000_000_000L)
        .isEqualTo(snap.createdAt().getEpochSecond());
    assertThat(snap.name()).isEqualTo("snapshot-" + uid);
    assertThat(snap.volumeId()).isEqualTo(volumeId);
    assertThat(snap.metadata()).containsEntry(SnapshotApi.META_SNAPSHOT_UID, uid)
        .containsEntry(Annotations.META_CLUSTER, h.settings.clusterId())
        .containsEntry(SnapshotApi.META_SNAPSHOT_NAMESPACE, ns).containsEntry(SnapshotApi.META_SNAPSHOT_NAME, "snap1");
    assertThat(events(vs, "SnapshotReady")).hasSize(1);

    // Restore: a claim smaller than the restoreSize is refused; one as large is a volume from the snapshot.
    PersistentVolumeClaim small = h.claim(ns, "small", "iscsi", "1Gi", b -> b.editSpec().withDataSource(
        new TypedLocalObjectReference(SnapshotApi.GROUP, "VolumeSnapshot", "snap1")).endSpec());
    assertThat(h.awaitEvent(small, "ProvisioningFailed").getNote()).contains("must be at least its restoreSize 2Gi");
    PersistentVolumeClaim restored = h.awaitBound(h.claim(ns, "restored", "iscsi", "2Gi", b -> b.editSpec()
        .withDataSource(new TypedLocalObjectReference(SnapshotApi.GROUP, "VolumeSnapshot", "snap1")).endSpec()));
    SimVolume restoredVolume = sim.volume(Annotations.cinderVolumeId(h.pvOf(restored)));
    assertThat(restoredVolume.snapshotId()).isEqualTo(snap.id());
    assertThat(restoredVolume.size()).isEqualTo(2);
    assertThat(restoredVolume.status()).as("exported as usual").isEqualTo("in-use");
    assertThat(h.pvOf(restored).getSpec().getIscsi()).isNotNull();
  }

  @Test
  void deletionPolicyDeleteRemovesTheCinderSnapshotAndRetainKeepsIt() throws Exception {
    start();
    snapshotClass("del", "Delete");
    snapshotClass("keep", "Retain");
    boundClaim("data", "1Gi");
    GenericKubernetesResource gone = snapshot("gone", "data", "del");
    GenericKubernetesResource kept = snapshot("kept", "data", "keep");
    awaitReady("gone");
    awaitReady("kept");
    assertThat(vs("kept").getMetadata().getFinalizers()).as("Retain: no bound finalizer")
        .containsExactly(SnapshotApi.AS_SOURCE_FINALIZER);
    String keptId = SnapshotApi.str(content("snapcontent-" + kept.getMetadata().getUid()), "status",
        "snapshotHandle");
    String goneId = SnapshotApi.str(content("snapcontent-" + gone.getMetadata().getUid()), "status",
        "snapshotHandle");

    deleteVs("gone");
    deleteVs("kept");
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("gone") == null && vs("kept") == null
        && content("snapcontent-" + gone.getMetadata().getUid()) == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveSnapshots().stream().noneMatch(s -> s.id().equals(goneId)));
    GenericKubernetesResource keptContent = content("snapcontent-" + kept.getMetadata().getUid());
    assertThat(keptContent).as("Retain keeps the content").isNotNull();
    assertThat(SnapshotApi.annotation(keptContent, SnapshotApi.ANN_BEING_DELETED)).isNotNull();
    assertThat(liveSnapshots()).extracting(SimSnapshot::id).containsExactly(keptId);

    // Deleting the retained content itself leaves the Cinder snapshot too.
    client.genericKubernetesResources(SnapshotApi.CONTENTS).withName(keptContent.getMetadata().getName()).delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(keptContent.getMetadata().getName()) == null);
    assertThat(liveSnapshots()).extracting(SimSnapshot::id).containsExactly(keptId);
  }

  @Test
  void preProvisionedContentBindsToAnExistingCinderSnapshot() throws Exception {
    start();
    PersistentVolumeClaim source = boundClaim("data", "1Gi");
    String snapId = h.cinder.createSnapshot(Annotations.cinderVolumeId(h.pvOf(source)), "by-hand", Map.of(), true)
        .id();
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("driver", h.settings.provisionerName());
    spec.put("deletionPolicy", "Retain");
    spec.put("source", Map.of("snapshotHandle", snapId));
    spec.put("volumeSnapshotRef", Map.of("name", "existing", "namespace", ns));
    client.genericKubernetesResources(SnapshotApi.CONTENTS).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotContent")
        .withNewMetadata().withName("imported").endMetadata().addToAdditionalProperties("spec", spec).build())
        .create();
    GenericKubernetesResource created = client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(ns)
        .resource(new GenericKubernetesResourceBuilder().withApiVersion(SnapshotApi.API_VERSION)
            .withKind("VolumeSnapshot").withNewMetadata().withName("existing").withNamespace(ns).endMetadata()
            .addToAdditionalProperties("spec", Map.of("source", Map.of("volumeSnapshotContentName", "imported")))
            .build()).create();
    GenericKubernetesResource vs = awaitReady("existing");
    assertThat(SnapshotApi.str(vs, "status", "boundVolumeSnapshotContentName")).isEqualTo("imported");
    GenericKubernetesResource content = content("imported");
    assertThat(SnapshotApi.str(content, "spec", "volumeSnapshotRef", "uid")).isEqualTo(created.getMetadata().getUid());
    assertThat(SnapshotApi.str(content, "status", "snapshotHandle")).isEqualTo(snapId);
    assertThat(content.getMetadata().getFinalizers()).containsExactly(SnapshotApi.CONTENT_FINALIZER);

    // One naming a Cinder snapshot that does not exist: error status and an Event, retried.
    client.genericKubernetesResources(SnapshotApi.CONTENTS).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotContent")
        .withNewMetadata().withName("unknown").endMetadata().addToAdditionalProperties("spec", Map.of(
            "driver", h.settings.provisionerName(), "deletionPolicy", "Retain",
            "source", Map.of("snapshotHandle", "00000000-0000-0000-0000-00000000dead"),
            "volumeSnapshotRef", Map.of("name", "missing", "namespace", ns))).build()).create();
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(content("unknown"), "status", "error",
        "message") != null);
    assertThat(SnapshotApi.str(content("unknown"), "status", "error", "message"))
        .contains("Cinder snapshot 00000000-0000-0000-0000-00000000dead does not exist");
  }

  @Test
  void aFailedCinderSnapshotIsAnErrorStatusAndEventThenRetried() throws Exception {
    start();
    snapshotClass("cinder-snap", "Delete");
    boundClaim("data", "1Gi");
    // Cinder's answer when the project's snapshot quota is used up; retried after the quota delay (10 s).
    sim.faults().failNext(1, "POST", "/snapshots$", 413, "{\"overLimit\": {\"code\": 413, \"message\": "
        + "\"SnapshotLimitExceeded: Maximum number of snapshots allowed (10) exceeded\"}}");
    GenericKubernetesResource created = snapshot("snap1", "data", "cinder-snap");
    String contentName = "snapcontent-" + created.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(contentName) != null
        && SnapshotApi.str(content(contentName), "status", "error", "message") != null);
    assertThat(SnapshotApi.str(content(contentName), "status", "error", "message")).contains("quota");
    assertThat(SnapshotApi.at(vs("snap1"), "status", "readyToUse")).isNotEqualTo(true);
    await().atMost(Duration.ofSeconds(30)).until(() -> vs("snap1") != null
        && Boolean.TRUE.equals(SnapshotApi.at(vs("snap1"), "status", "readyToUse")));
    GenericKubernetesResource vs = vs("snap1");
    await().atMost(Duration.ofSeconds(5)).until(() -> events(content(contentName), "SnapshotContentFailed").size() == 1);
    assertThat(SnapshotApi.at(vs, "status", "error")).as("cleared once ready").isNull();
    assertThat(sim.snapshots()).hasSize(1);
  }

  @Test
  void aCinderSnapshotInErrorIsDeletedAndMadeAgain() throws Exception {
    start(Duration.ofSeconds(2));
    snapshotClass("cinder-snap", "Delete");
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("snap1", "data", "cinder-snap");
    String contentName = "snapcontent-" + created.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(contentName) != null
        && SnapshotApi.str(content(contentName), "status", "snapshotHandle") != null);
    String failed = SnapshotApi.str(content(contentName), "status", "snapshotHandle");
    assertThat(SnapshotApi.at(content(contentName), "status", "readyToUse")).isEqualTo(false);
    sim.faults().setSnapshotStatus(failed, "error");
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(content(contentName), "status", "error",
        "message") != null);
    assertThat(SnapshotApi.str(content(contentName), "status", "error", "message"))
        .isEqualTo("Cinder snapshot " + failed + " went to error");
    awaitReady("snap1");
    String made = SnapshotApi.str(content(contentName), "status", "snapshotHandle");
    assertThat(made).isNotEqualTo(failed);
    assertThat(liveSnapshots()).extracting(SimSnapshot::id).containsExactly(made);
    assertThat(SnapshotApi.at(content(contentName), "status", "error")).isNull();
  }

  @Test
  void aSnapshotGoneBeforeItWasReadyIsMadeAgain() throws Exception {
    // What a write from a stale copy leaves behind (the handle of a snapshot deleted after it went to error), made
    // directly: the content names a Cinder snapshot that no longer exists, and it was never ready.
    start(Duration.ofSeconds(2));
    snapshotClass("cinder-snap", "Delete");
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("snap1", "data", "cinder-snap");
    String contentName = "snapcontent-" + created.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(contentName) != null
        && SnapshotApi.str(content(contentName), "status", "snapshotHandle") != null);
    String gone = SnapshotApi.str(content(contentName), "status", "snapshotHandle");
    h.stopController(); // so that it meets the state only when it starts again, as after a crash
    sim.faults().setSnapshotStatus(gone, "error");
    h.cinder.deleteSnapshot(gone);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveSnapshots().isEmpty());
    assertThat(SnapshotApi.str(content(contentName), "status", "snapshotHandle")).isEqualTo(gone);
    h.startController(h.cinder);
    awaitReady("snap1");
    String made = SnapshotApi.str(content(contentName), "status", "snapshotHandle");
    assertThat(made).isNotEqualTo(gone);
    assertThat(liveSnapshots()).extracting(SimSnapshot::id).containsExactly(made);
  }

  @Test
  void aCrashAtEachStepMakesNoDuplicateAndLeaksNothing() throws Exception {
    start();
    snapshotClass("cinder-snap", "Delete");
    PersistentVolumeClaim source = boundClaim("data", "1Gi");
    String volumeId = Annotations.cinderVolumeId(h.pvOf(source));

    // 1. Crash after the content (the intent) is saved, before Cinder made anything.
    sim.faults().failNext(1000, "POST", "/snapshots$", 503);
    GenericKubernetesResource first = snapshot("first", "data", "cinder-snap");
    String firstContent = "snapcontent-" + first.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(firstContent) != null);
    h.stopController();
    sim.faults().reset();
    assertThat(sim.snapshots()).isEmpty();
    h.startController(h.cinder);
    awaitReady("first");
    assertThat(sim.snapshots()).hasSize(1);

    // 2. Crash after Cinder made the snapshot, before its id was saved: the restart finds it by name and metadata.
    sim.faults().failNext(1000, "POST", "/snapshots$", 503);
    GenericKubernetesResource second = snapshot("second", "data", "cinder-snap");
    String secondContent = "snapcontent-" + second.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> content(secondContent) != null);
    h.stopController();
    sim.faults().reset();
    String uid = second.getMetadata().getUid();
    String made = h.cinder.createSnapshot(volumeId, "snapshot-" + uid, Map.of(Annotations.META_CLUSTER,
        h.settings.clusterId(), SnapshotApi.META_SNAPSHOT_UID, uid), true).id();
    h.startController(h.cinder);
    awaitReady("second");
    assertThat(SnapshotApi.str(content(secondContent), "status", "snapshotHandle")).isEqualTo(made);
    assertThat(sim.snapshots()).hasSize(2);

    // 3. Crash while deleting: Cinder refuses the delete until the restart; then all of it goes.
    sim.faults().failNext(1000, "DELETE", "/snapshots/.*", 503);
    deleteVs("second");
    await().atMost(Duration.ofSeconds(10)).until(() -> content(secondContent) != null
        && content(secondContent).getMetadata().getDeletionTimestamp() != null);
    h.stopController();
    sim.faults().reset();
    assertThat(liveSnapshots()).hasSize(2);
    h.startController(h.cinder);
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("second") == null && content(secondContent) == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveSnapshots().size() == 1);
    assertThat(liveSnapshots()).extracting(SimSnapshot::id)
        .containsExactly(SnapshotApi.str(content(firstContent), "status", "snapshotHandle"));
  }

  @Test
  void withTheSnapshotControllerFirstOneEventThenOursCompletesIt() throws Exception {
    start();
    snapshotClass("cinder-snap", "Delete");
    PersistentVolumeClaim source = boundClaim("data", "1Gi");
    h.stopController();
    emulation = new SnapshotControllerEmulation(client).retryBase(Duration.ofMillis(50)).start();
    GenericKubernetesResource created = snapshot("snap1", "data", "cinder-snap");
    await().atMost(Duration.ofSeconds(10)).until(() -> emulation.failures("snapshot", ns + "/snap1") >= 4);
    // As upstream: the PV is not CSI, so creating the content fails; the same error is not written or sent again.
    assertThat(emulation.events()).extracting(SnapshotControllerEmulation.Event::reason)
        .containsExactly("SnapshotContentCreationFailed");
    assertThat(emulation.events().get(0).message()).contains("cannot find CSI PersistentVolumeSource for volume "
        + h.pvOf(source).getMetadata().getName());
    assertThat(SnapshotApi.str(vs("snap1"), "status", "error", "message")).contains("cannot find CSI");
    assertThat(h.get(source).getMetadata().getFinalizers()).contains(SnapshotControllerEmulation.PVC_FINALIZER);

    h.startController(h.cinder);
    GenericKubernetesResource vs = awaitReady("snap1");
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.at(vs("snap1"), "status", "error") == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> !h.get(source).getMetadata().getFinalizers()
        .contains(SnapshotControllerEmulation.PVC_FINALIZER));
    assertThat(emulation.events()).extracting(SnapshotControllerEmulation.Event::reason)
        .containsOnlyOnce("SnapshotContentCreationFailed").doesNotContain("SnapshotContentMismatch",
            "SnapshotContentMisbound");
    assertThat(SnapshotApi.str(vs, "status", "boundVolumeSnapshotContentName"))
        .isEqualTo("snapcontent-" + created.getMetadata().getUid());
    assertThat(events(vs, null).stream().filter(e -> "Warning".equals(e.getType()))).as("our Warnings").isEmpty();

    // Deleted with both running: the Cinder snapshot, the content and the snapshot go.
    deleteVs("snap1");
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("snap1") == null
        && content("snapcontent-" + created.getMetadata().getUid()) == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveSnapshots().isEmpty());
  }

  @Test
  void withOursFirstTheSnapshotControllerFindsNothingToChange() throws Exception {
    start();
    snapshotClass("cinder-snap", "Retain");
    boundClaim("data", "1Gi");
    snapshot("snap1", "data", "cinder-snap");
    GenericKubernetesResource ready = awaitReady("snap1");
    await().atMost(Duration.ofSeconds(5)).until(() -> h.controller.isIdle());
    String version = vs("snap1").getMetadata().getResourceVersion();
    String contentVersion = content(SnapshotApi.str(ready, "status", "boundVolumeSnapshotContentName"))
        .getMetadata().getResourceVersion();

    emulation = new SnapshotControllerEmulation(client).retryBase(Duration.ofMillis(50)).start();
    String contentName = SnapshotApi.str(ready, "status", "boundVolumeSnapshotContentName");
    // Its informers list both objects and sync them, content and snapshot.
    await().atMost(Duration.ofSeconds(10)).until(() -> emulation.syncs("snapshot", ns + "/snap1") >= 1
        && emulation.syncs("content", contentName) >= 1);
    Thread.sleep(500); // and a snapshot sync the content's sync queued
    assertThat(emulation.events()).isEmpty();
    assertThat(emulation.failures("snapshot", ns + "/snap1")).isZero();
    assertThat(vs("snap1").getMetadata().getResourceVersion()).as("the snapshot-controller wrote nothing")
        .isEqualTo(version);
    assertThat(content(SnapshotApi.str(ready, "status", "boundVolumeSnapshotContentName")).getMetadata()
        .getResourceVersion()).isEqualTo(contentVersion);

    // Retain with both running: the snapshot goes, the content and the Cinder snapshot stay.
    deleteVs("snap1");
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("snap1") == null);
    assertThat(content(SnapshotApi.str(ready, "status", "boundVolumeSnapshotContentName"))).isNotNull();
    assertThat(liveSnapshots()).hasSize(1);
  }

  // ------------------------------------------------------------------ type: backup

  private static final Map<String, String> BACKUP = Map.of("type", "backup");

  private List<SimBackup> liveBackups() {
    return sim.backups().stream().filter(b -> !"deleting".equals(b.status())).toList();
  }

  private String backupHandle(GenericKubernetesResource vs) {
    return SnapshotApi.str(content("snapcontent-" + vs.getMetadata().getUid()), "status", "snapshotHandle");
  }

  @Test
  void typeBackupIsACinderBackupWhoseSnapshotIsDeletedAndARestoredClaimIsMadeFromIt() throws Exception {
    start();
    snapshotClass("backups", "Delete", BACKUP);
    PersistentVolumeClaim source = boundClaim("data", "2Gi");
    String volumeId = Annotations.cinderVolumeId(h.pvOf(source));
    GenericKubernetesResource created = snapshot("bk1", "data", "backups");
    String uid = created.getMetadata().getUid();

    GenericKubernetesResource vs = awaitReady("bk1");
    assertThat(SnapshotApi.str(vs, "status", "restoreSize")).isEqualTo("2Gi");
    GenericKubernetesResource content = content("snapcontent-" + uid);
    assertThat(SnapshotApi.annotation(content, SnapshotStore.ANNOTATION)).isEqualTo("backup");
    List<SimBackup> backups = sim.backups();
    assertThat(backups).hasSize(1);
    SimBackup backup = backups.get(0);
    assertThat(SnapshotApi.str(content, "status", "snapshotHandle")).isEqualTo("backup:" + backup.id());
    assertThat(backup.status()).isEqualTo("available");
    assertThat(backup.name()).isEqualTo("backup-" + uid);
    assertThat(backup.volumeId()).isEqualTo(volumeId);
    assertThat(backup.snapshotId()).as("made from a snapshot, as cinder-csi does").isNotNull();
    assertThat(backup.metadata()).containsEntry(SnapshotApi.META_SNAPSHOT_UID, uid)
        .containsEntry(Annotations.META_CLUSTER, h.settings.clusterId())
        .containsEntry(SnapshotApi.META_SNAPSHOT_NAME, "bk1");
    assertThat(liveSnapshots()).as("the intermediate snapshot is deleted before the content is ready").isEmpty();
    assertThat(sim.volume(volumeId).status()).isEqualTo("in-use");
    await().atMost(Duration.ofSeconds(5)).until(() -> events(vs("bk1"), "SnapshotCreated").size() == 1);
    assertThat(events(vs("bk1"), "SnapshotCreated").get(0).getNote()).contains("as Cinder backup " + backup.id());

    PersistentVolumeClaim restored = h.awaitBound(h.claim(ns, "restored", "iscsi", "2Gi", b -> b.editSpec()
        .withDataSource(new TypedLocalObjectReference(SnapshotApi.GROUP, "VolumeSnapshot", "bk1")).endSpec()));
    SimVolume restoredVolume = sim.volume(Annotations.cinderVolumeId(h.pvOf(restored)));
    assertThat(restoredVolume.backupId()).isEqualTo(backup.id());
    assertThat(restoredVolume.snapshotId()).isNull();
    assertThat(restoredVolume.size()).isEqualTo(2);
    assertThat(restoredVolume.status()).as("exported as usual").isEqualTo("in-use");

    deleteVs("bk1");
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("bk1") == null && content("snapcontent-" + uid) == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveBackups().isEmpty());
  }

  @Test
  void typeBackupWithRetainKeepsTheBackupAndNotTheSnapshot() throws Exception {
    start();
    snapshotClass("kept-backups", "Retain", BACKUP);
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("kept", "data", "kept-backups");
    awaitReady("kept");
    String handle = backupHandle(created);
    deleteVs("kept");
    await().atMost(Duration.ofSeconds(20)).until(() -> vs("kept") == null);
    client.genericKubernetesResources(SnapshotApi.CONTENTS).withName("snapcontent-" + created.getMetadata().getUid())
        .delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> content("snapcontent-" + created.getMetadata().getUid())
        == null);
    assertThat(liveBackups()).extracting(b -> "backup:" + b.id()).containsExactly(handle);
    assertThat(liveSnapshots()).isEmpty();
  }

  @Test
  void anUnknownTypeIsRefusedWithAnEventAndNothingIsMade() throws Exception {
    start();
    snapshotClass("odd", "Delete", Map.of("type", "tape"));
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("odd1", "data", "odd");
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(vs("odd1"), "status", "error", "message")
        != null);
    assertThat(SnapshotApi.str(vs("odd1"), "status", "error", "message")).isEqualTo("VolumeSnapshotClass odd has "
        + "parameters.type \"tape\"; use snapshot (the default) or backup");
    assertThat(events(created, "SnapshotFailed")).hasSize(1);
    assertThat(content("snapcontent-" + created.getMetadata().getUid())).isNull();
    assertThat(sim.snapshots()).isEmpty();
    assertThat(sim.backups()).isEmpty();
  }

  @Test
  void withoutABackupServiceTheSnapshotSaysSoAndNothingIsMadeUntilItRuns() throws Exception {
    start(CinderSimulator.builder().createDelay(Duration.ofMillis(100)).backupService(false));
    snapshotClass("backups", "Delete", BACKUP);
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("bk1", "data", "backups");
    String contentName = "snapcontent-" + created.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(vs("bk1"), "status", "error", "message")
        != null);
    assertThat(SnapshotApi.str(vs("bk1"), "status", "error", "message")).startsWith(CinderBackups.NO_SERVICE);
    assertThat(SnapshotApi.at(vs("bk1"), "status", "readyToUse")).isEqualTo(false);
    await().atMost(Duration.ofSeconds(5)).until(() -> events(content(contentName), "SnapshotContentFailed").size()
        == 1);
    assertThat(events(content(contentName), "SnapshotContentFailed").get(0).getType()).isEqualTo("Warning");
    assertThat(sim.snapshots()).as("nothing made: a snapshot backed up without the service stays backing-up")
        .isEmpty();
    assertThat(sim.backups()).isEmpty();

    sim.backupService(true);
    awaitReady("bk1");
    assertThat(sim.backups()).hasSize(1);
    assertThat(liveSnapshots()).isEmpty();
    assertThat(SnapshotApi.at(vs("bk1"), "status", "error")).isNull();
  }

  @Test
  void whenCinderWillNotSayTheBackupFailsClearlyAndOnlyOneIsMade() throws Exception {
    // Not admin: GET /os-services is refused, so the backup's own fate tells. Cinder 21 then fails the backup,
    // refuses to delete it (404 "Service cinder-backup could not be found.") and leaves its snapshot backing-up.
    start(CinderSimulator.builder().createDelay(Duration.ofMillis(100)).backupService(false));
    sim.faults().failNext(100_000, "GET", ".*/os-services.*", 403);
    snapshotClass("backups", "Delete", BACKUP);
    String volumeId = Annotations.cinderVolumeId(h.pvOf(boundClaim("data", "1Gi")));
    GenericKubernetesResource created = snapshot("bk1", "data", "backups");
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(vs("bk1"), "status", "error", "message")
        != null && SnapshotApi.str(vs("bk1"), "status", "error", "message").contains("delete"));
    assertThat(SnapshotApi.str(vs("bk1"), "status", "error", "message")).startsWith(CinderBackups.NO_SERVICE)
        .contains("Service cinder-backup could not be found.");
    Thread.sleep(1500); // several retries with backoff
    assertThat(sim.backups()).as("retries make no further backup").hasSize(1);
    assertThat(sim.backups().get(0).status()).isEqualTo("error");
    assertThat(sim.backups().get(0).failReason()).isEqualTo("Service not found for creating backup.");
    assertThat(sim.snapshots()).extracting(SimSnapshot::status).containsExactly("backing-up");
    assertThat(sim.volume(volumeId).status()).as("what Cinder 21 does to the volume: why we ask first").isNull();
    assertThat(content("snapcontent-" + created.getMetadata().getUid())).isNotNull();
  }

  @Test
  void typeBackupCrashAtEachStepMakesNoDuplicateAndLeaksNoSnapshot() throws Exception {
    start();
    snapshotClass("backups", "Delete", BACKUP);
    boundClaim("data", "1Gi");
    int n = 0;
    for (String step : List.of("createSnapshot", "createBackup", "deleteSnapshot")) {
      String name = "crash" + n++;
      h.stopController();
      CrashingGateway crashing = new CrashingGateway(h.cinder, step);
      h.startController(crashing.proxy());
      snapshot(name, "data", "backups");
      await().atMost(Duration.ofSeconds(20)).until(crashing::crashed);
      h.stopController();
      h.startController(h.cinder);
      awaitReady(name);
      assertThat(liveBackups()).as("after a crash at " + step).hasSize(n);
      assertThat(liveSnapshots()).as("after a crash at " + step).isEmpty();
    }
    // Deleting: Cinder refuses the backup deletes until the restart; then every backup goes.
    sim.faults().failNext(100_000, "DELETE", ".*/backups/.*", 503);
    for (int i = 0; i < n; i++) {
      deleteVs("crash" + i);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(content(backupContent("crash0")), "status",
        "error", "message") != null);
    h.stopController();
    sim.faults().reset();
    assertThat(liveBackups()).hasSize(n);
    h.startController(h.cinder);
    await().atMost(Duration.ofSeconds(20)).until(() -> client.genericKubernetesResources(SnapshotApi.CONTENTS)
        .list().getItems().isEmpty());
    await().atMost(Duration.ofSeconds(10)).until(() -> liveBackups().isEmpty());
    assertThat(liveSnapshots()).isEmpty();
  }

  @Test
  void aFailedBackupIsDeletedAndMadeAgainAndOneStillBeingMadeIsDeletedOnceMade() throws Exception {
    start(Duration.ofSeconds(2));
    snapshotClass("backups", "Delete", BACKUP);
    boundClaim("data", "1Gi");
    GenericKubernetesResource created = snapshot("bk1", "data", "backups");
    String contentName = "snapcontent-" + created.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(20)).until(() -> content(contentName) != null
        && SnapshotApi.str(content(contentName), "status", "snapshotHandle") != null);
    String failed = SnapshotApi.str(content(contentName), "status", "snapshotHandle").substring("backup:".length());
    sim.faults().failBackup(failed, "the backup store is full");
    await().atMost(Duration.ofSeconds(10)).until(() -> SnapshotApi.str(content(contentName), "status", "error",
        "message") != null);
    assertThat(SnapshotApi.str(content(contentName), "status", "error", "message"))
        .isEqualTo("Cinder backup " + failed + " went to error: the backup store is full");
    GenericKubernetesResource ready = awaitReady("bk1");
    assertThat(backupHandle(ready)).isNotEqualTo("backup:" + failed);
    assertThat(liveBackups()).extracting(b -> "backup:" + b.id()).containsExactly(backupHandle(ready));
    assertThat(liveSnapshots()).isEmpty();

    // Deleted while its backup is still being made: it goes once Cinder has made it.
    GenericKubernetesResource second = snapshot("bk2", "data", "backups");
    await().atMost(Duration.ofSeconds(20)).until(() -> sim.backups().stream().anyMatch(b -> b.name().equals(
        "backup-" + second.getMetadata().getUid()) && "creating".equals(b.status())));
    deleteVs("bk2");
    await().atMost(Duration.ofSeconds(30)).until(() -> vs("bk2") == null
        && content("snapcontent-" + second.getMetadata().getUid()) == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveBackups().size() == 1 && liveSnapshots().isEmpty());
  }

  @Test
  void aPreProvisionedContentMayNameABackup() throws Exception {
    start();
    PersistentVolumeClaim source = boundClaim("data", "1Gi");
    String backupId = h.cinder.createBackup(Annotations.cinderVolumeId(h.pvOf(source)), null, "by-hand", Map.of(),
        true).id();
    client.genericKubernetesResources(SnapshotApi.CONTENTS).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotContent")
        .withNewMetadata().withName("imported-backup").endMetadata().addToAdditionalProperties("spec", Map.of(
            "driver", h.settings.provisionerName(), "deletionPolicy", "Delete",
            "source", Map.of("snapshotHandle", "backup:" + backupId),
            "volumeSnapshotRef", Map.of("name", "existing", "namespace", ns))).build()).create();
    client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(ns).resource(
        new GenericKubernetesResourceBuilder().withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshot")
            .withNewMetadata().withName("existing").withNamespace(ns).endMetadata()
            .addToAdditionalProperties("spec", Map.of("source", Map.of("volumeSnapshotContentName",
                "imported-backup"))).build()).create();
    awaitReady("existing");
    assertThat(SnapshotApi.str(content("imported-backup"), "status", "snapshotHandle"))
        .isEqualTo("backup:" + backupId);
    PersistentVolumeClaim restored = h.awaitBound(h.claim(ns, "restored", "iscsi", "1Gi", b -> b.editSpec()
        .withDataSource(new TypedLocalObjectReference(SnapshotApi.GROUP, "VolumeSnapshot", "existing")).endSpec()));
    assertThat(sim.volume(Annotations.cinderVolumeId(h.pvOf(restored))).backupId()).isEqualTo(backupId);

    deleteVs("existing");
    await().atMost(Duration.ofSeconds(20)).until(() -> content("imported-backup") == null);
    await().atMost(Duration.ofSeconds(10)).until(() -> liveBackups().isEmpty());
  }

  private String backupContent(String vsName) {
    return client.genericKubernetesResources(SnapshotApi.CONTENTS).list().getItems().stream()
        .filter(c -> vsName.equals(SnapshotApi.str(c, "spec", "volumeSnapshotRef", "name")))
        .map(c -> c.getMetadata().getName()).findFirst().orElseThrow();
  }
}
