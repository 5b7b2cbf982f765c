package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimAttachment;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A Cinder replication failover and failback against the simulator, with the real controller running beside the
 * re-mapper and the emulated PV binder: affected PVs rebuilt for the new site, claims Bound throughout, no volume
 * deleted, a crash after every step of the swap converging on the rerun.
 */
@EnableKubernetesMockClient(crud = true)
class FailoverRemapTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "failover" + NS.incrementAndGet();

  private void start() throws Exception {
    start(s -> s);
  }

  private void start(java.util.function.UnaryOperator<ProvisionerSettings> tweak) throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).replication("secondary")
        .volumeType("replicated", Map.of("replication_enabled", "<is> True"))
        .volumeType("plain", Map.of()).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), tweak);
    h.storageClass("rep-" + ns, Map.of("type", "replicated"), "Delete", "Immediate");
    h.storageClass("plain-" + ns, Map.of("type", "plain"), "Delete", "Immediate");
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

  private FailoverRemapper remapper(PvRemapper.StepHook hook) throws Exception {
    return new FailoverRemapper(client, TestCinder.connect(sim), VolumeMapperRegistry.defaults(), h.settings,
        new EventRecorder(client, h.settings.provisionerName(), "remap-test", Clock.systemUTC()), hook, d -> { });
  }

  private PersistentVolumeClaim bound(String name, String sc) {
    return h.awaitBound(h.claim(ns, name, sc + "-" + ns, "1Gi", b -> b));
  }

  private String volumeOf(PersistentVolumeClaim claim) {
    return Annotations.cinderVolumeId(h.pvOf(claim));
  }

  /** The admin's {@code cinder failover-host}: the real API, then until the volume shows the new state. */
  private void failover(String backendId, String volumeId, String expected) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(sim.endpoint() + "/os-services/failover_host"))
        .header("X-Auth-Token", sim.noauthToken()).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"host\": \"" + sim.serviceHost() + "\", \"backend_id\": \""
            + backendId + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> expected.equals(sim.volume(volumeId).replicationStatus()));
  }

  private void podUsing(String podName, String claimName) {
    client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName(podName).withNamespace(ns)
        .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("busybox").endContainer()
        .addNewVolume().withName("data").withNewPersistentVolumeClaim().withClaimName(claimName)
        .endPersistentVolumeClaim().endVolume().endSpec().withNewStatus().withPhase("Running").endStatus().build())
        .create();
  }

  private String chapPassword(PersistentVolume pv) {
    var ref = pv.getSpec().getIscsi().getSecretRef();
    Secret s = client.secrets().inNamespace(ref.getNamespace()).withName(ref.getName()).get();
    return new String(Base64.getDecoder().decode(s.getData().get("node.session.auth.password")),
        StandardCharsets.UTF_8);
  }

  /** The connection info of the volume's one attachment, as Cinder handed it out. */
  private Map<String, Object> attachmentInfo(String volumeId) {
    List<SimAttachment> atts = sim.volume(volumeId).attachments();
    assertThat(atts).as("exactly one attachment of " + volumeId).hasSize(1);
    return atts.get(0).connectionInfo();
  }

  private void assertOnSecondary(PersistentVolumeClaim claim, String volumeId) {
    PersistentVolume pv = h.pvOf(claim);
    assertThat(pv.getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
    assertThat(pv.getSpec().getIscsi().getIqn()).isEqualTo(SimulatedBackend.secondaryIqnFor(volumeId));
    assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(pv.getSpec().getClaimRef().getUid()).isEqualTo(claim.getMetadata().getUid());
    assertThat(pv.getMetadata().getAnnotations()).containsEntry(RemapPlan.MAPPED_FOR, "failed-over")
        .doesNotContainKey(RemapPlan.RECLAIM_WAS)
        .containsEntry(ProvisionController.ATTACHMENT_ID, sim.volume(volumeId).attachments().get(0).id());
    assertThat(chapPassword(pv)).as("the CHAP Secret holds the secondary's pair")
        .isEqualTo(attachmentInfo(volumeId).get("auth_password"));
    PersistentVolumeClaim now = h.get(claim);
    assertThat(now.getStatus().getPhase()).isEqualTo("Bound");
    assertThat(now.getSpec().getVolumeName()).isEqualTo(pv.getMetadata().getName());
    assertThat(now.getMetadata().getAnnotations()).doesNotContainKeys(RemapPlan.JOURNAL, RemapPlan.REMAP_NOW);
    await().atMost(Duration.ofSeconds(10)).until(() -> h.pvOf(claim).getStatus() != null
        && "Bound".equals(h.pvOf(claim).getStatus().getPhase()));
  }

  @Test
  void failoverRemapsIdlePvsWaitsForPodsThenFailsBack() throws Exception {
    start();
    pvDeletes(); // what earlier tests sent
    PersistentVolumeClaim idle = bound("idle", "rep");
    PersistentVolumeClaim busy = bound("busy", "rep");
    PersistentVolumeClaim plain = bound("plain", "plain");
    String idleVol = volumeOf(idle);
    String busyVol = volumeOf(busy);
    String plainVol = volumeOf(plain);
    assertThat(h.pvOf(idle).getMetadata().getAnnotations()).containsEntry(RemapPlan.MAPPED_FOR, "enabled");
    String primaryPassword = chapPassword(h.pvOf(idle));
    podUsing("app", "busy");
    // As the API server's admission does: a bound PV is held by pv-protection, which the swap must get past.
    client.persistentVolumes().withName(h.pvOf(idle).getMetadata().getName()).edit(p -> new io.fabric8.kubernetes
        .api.model.PersistentVolumeBuilder(p).editMetadata().addToFinalizers(PvFactory.PV_PROTECTION).endMetadata()
        .build());
    // Everything the API server shows of the claims and PVs meanwhile: claims never leave Bound, no PV is ever
    // Released while its policy is Delete.
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    var claimWatch = client.persistentVolumeClaims().inNamespace(ns).watch(new io.fabric8.kubernetes.client
        .Watcher<PersistentVolumeClaim>() {
      @Override
      public void eventReceived(Action action, PersistentVolumeClaim c) {
        seen.add("claim " + c.getMetadata().getName() + " " + action + " " + c.getStatus().getPhase());
      }

      @Override
      public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {}
    });
    var pvWatch = client.persistentVolumes().watch(new io.fabric8.kubernetes.client.Watcher<PersistentVolume>() {
      @Override
      public void eventReceived(Action action, PersistentVolume pv) {
        seen.add("pv " + action + " " + (pv.getStatus() == null ? null : pv.getStatus().getPhase()) + " "
            + pv.getSpec().getPersistentVolumeReclaimPolicy());
      }

      @Override
      public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {}
    });
    FailoverRemapper remapper = remapper(step -> { });
    assertThat(remapper.plan(false)).as("nothing failed over yet").isEmpty();

    failover("secondary", idleVol, "failed-over");
    List<RemapPlan.Decision> dry = remapper.plan(false);
    assertThat(dry).extracting(RemapPlan.Decision::pvName, RemapPlan.Decision::action).containsExactlyInAnyOrder(
        org.assertj.core.api.Assertions.tuple(h.pvOf(idle).getMetadata().getName(), RemapPlan.Action.REMAP),
        org.assertj.core.api.Assertions.tuple(h.pvOf(busy).getMetadata().getName(), RemapPlan.Action.WAIT_IN_USE));
    assertThat(h.pvOf(idle).getSpec().getIscsi().getTargetPortal()).as("a dry run changes nothing")
        .isEqualTo(SimulatedBackend.ISCSI_PORTAL);

    FailoverRemapper.Result r = remapper.run(false);
    assertThat(r.remapped()).isEqualTo(1);
    assertThat(r.waiting()).isEqualTo(1);
    assertThat(r.failures()).isEmpty();
    assertOnSecondary(idle, idleVol);
    assertThat(chapPassword(h.pvOf(idle))).isNotEqualTo(primaryPassword);
    assertThat(h.awaitEvent(idle, "VolumeRemapped").getNote()).contains(SimulatedBackend.SECONDARY_ISCSI_PORTAL)
        .contains("Restart the pods");
    assertThat(h.awaitEvent(busy, "VolumeRemapPending").getNote()).contains(RemapPlan.REMAP_NOW + "=now");
    assertThat(h.pvOf(busy).getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);
    assertThat(h.pvOf(plain).getSpec().getIscsi().getTargetPortal()).as("not replicated: left alone")
        .isEqualTo(SimulatedBackend.ISCSI_PORTAL);

    // The admin asks for the busy claim at once.
    h.editClaim(ns, "busy", c -> new PersistentVolumeClaimBuilder(c).editMetadata()
        .addToAnnotations(RemapPlan.REMAP_NOW, RemapPlan.REMAP_NOW_VALUE).endMetadata().build());
    assertThat(remapper.run(false).remapped()).isEqualTo(1);
    assertOnSecondary(busy, busyVol);
    assertThat(remapper.plan(false)).as("all settled").isEmpty();

    // Failback: the same, the other way.
    failover("default", idleVol, "enabled");
    assertThat(remapper.plan(true)).hasSize(2);
    assertThat(remapper.run(true).remapped()).isEqualTo(2);
    for (PersistentVolumeClaim c : List.of(idle, busy)) {
      PersistentVolume pv = h.pvOf(c);
      String vol = Annotations.cinderVolumeId(pv);
      assertThat(pv.getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);
      assertThat(pv.getSpec().getIscsi().getIqn()).isEqualTo(SimulatedBackend.iqnFor(vol));
      assertThat(pv.getMetadata().getAnnotations()).containsEntry(RemapPlan.MAPPED_FOR, "enabled");
      assertThat(chapPassword(pv)).isEqualTo(attachmentInfo(vol).get("auth_password"));
      assertThat(h.get(c).getStatus().getPhase()).isEqualTo("Bound");
    }
    assertThat(chapPassword(h.pvOf(idle))).isEqualTo(primaryPassword);
    for (String vol : List.of(idleVol, busyVol, plainVol)) {
      assertThat(sim.statusHistory(vol)).as("no volume deleted").doesNotContain("deleting", "deleted");
    }
    claimWatch.close();
    pvWatch.close();
    assertThat(seen).as("the watches saw the swaps").anyMatch(e -> e.startsWith("pv DELETED"))
        .anyMatch(e -> e.startsWith("claim busy MODIFIED"));
    assertThat(seen).filteredOn(e -> e.startsWith("claim ")).allMatch(e -> e.endsWith(" Bound"));
    assertThat(seen).noneMatch(e -> e.contains("Released Delete"));
    assertThat(pvDeletes()).as("each old PV deleted only as the copy found Retain (the mock ignores it; the API "
        + "server refuses with 409 once it changed)").hasSize(4)
        .allMatch(body -> body.contains("\"preconditions\":{\"resourceVersion\":\""), "has a precondition");
  }

  /** The bodies of the DELETEs of PVs the mock server received so far. */
  private static List<String> pvDeletes() throws InterruptedException {
    List<String> bodies = new java.util.ArrayList<>();
    for (var r = server.takeRequest(10, TimeUnit.MILLISECONDS); r != null;
        r = server.takeRequest(10, TimeUnit.MILLISECONDS)) {
      if ("DELETE".equals(r.getMethod()) && r.getPath().startsWith("/api/v1/persistentvolumes/")) {
        bodies.add(r.getBody().readUtf8());
      }
    }
    return bodies;
  }

  @Test
  void aPvWaitsForItsPodsAFailureIsReportedAndRetriedAndAnUnchangedConnectionOnlyStamps() throws Exception {
    start();
    PersistentVolumeClaim busy = bound("busy", "rep");
    PersistentVolumeClaim idle = bound("idle", "rep");
    String busyVol = volumeOf(busy);
    String idleVol = volumeOf(idle);
    podUsing("app", "busy");
    FailoverRemapper remapper = remapper(step -> { });

    // The PV says failed-over while the volume is on the primary: the new export maps to the same source.
    String pvName = h.pvOf(idle).getMetadata().getName();
    client.persistentVolumes().withName(pvName).edit(p -> new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder(p)
        .editMetadata().addToAnnotations(RemapPlan.MAPPED_FOR, "failed-over").endMetadata().build());
    String uid = h.pvOf(idle).getMetadata().getUid();
    FailoverRemapper.Result same = remapper.run(false);
    assertThat(same.unchanged()).isEqualTo(1);
    assertThat(h.pvOf(idle).getMetadata().getUid()).as("the same PV object, only stamped").isEqualTo(uid);
    assertThat(h.pvOf(idle).getMetadata().getAnnotations()).containsEntry(RemapPlan.MAPPED_FOR, "enabled")
        .doesNotContainKey(RemapPlan.RECLAIM_WAS);
    assertThat(h.pvOf(idle).getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(h.events(idle, "VolumeRemapped")).isEmpty();

    failover("secondary", busyVol, "failed-over");
    sim.faults().failNext(1, "POST", ".*/attachments", 500);
    FailoverRemapper.Result failed = remapper.run(false);
    assertThat(failed.failures()).singleElement().asString().startsWith(pvName + ": ");
    assertThat(h.awaitEvent(idle, "VolumeRemapFailed").getNote()).contains("it is tried again");
    assertThat(h.pvOf(idle).getSpec().getPersistentVolumeReclaimPolicy()).as("guarded meanwhile")
        .isEqualTo("Retain");
    assertThat(failed.waiting()).isEqualTo(1);
    assertThat(remapper.run(false).remapped()).isEqualTo(1);
    assertOnSecondary(idle, idleVol);

    assertThat(remapper.run(false).waiting()).isEqualTo(1);
    client.pods().inNamespace(ns).withName("app").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns).withName("app").get() == null);
    assertThat(remapper.run(false).remapped()).as("its pods are gone").isEqualTo(1);
    assertOnSecondary(busy, busyVol);
    assertThat(sim.statusHistory(busyVol)).doesNotContain("deleting");
    assertThat(sim.statusHistory(idleVol)).doesNotContain("deleting");
  }

  @Test
  void eachCloudsRemapperLooksAtThatCloudsPvsOnly() throws Exception {
    start();
    PersistentVolumeClaim claim = bound("data", "rep");
    String vol = volumeOf(claim);
    failover("secondary", vol, "failed-over");
    String pvName = h.pvOf(claim).getMetadata().getName();
    client.persistentVolumes().withName(pvName).edit(p -> new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder(p)
        .editMetadata().addToAnnotations(Annotations.CLOUD, "other").endMetadata().build());
    assertThat(remapper(step -> { }).plan(false)).as("the default cloud's remapper").isEmpty();
    Clouds clouds = Clouds.of(List.of(new Clouds.Cloud("default", TestCinder.connect(sim), h.settings.connector()),
        new Clouds.Cloud("other", TestCinder.connect(sim), h.settings.connector())));
    List<FailoverRemapper> perCloud = FailoverRemapper.forClouds(client, clouds, VolumeMapperRegistry.defaults(),
        h.settings, new EventRecorder(client, h.settings.provisionerName(), "remap-test", Clock.systemUTC()));
    int remapped = 0;
    for (FailoverRemapper r : perCloud) {
      remapped += r.run(false).remapped();
    }
    assertThat(remapped).isEqualTo(1);
    assertThat(h.pvOf(claim).getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
    assertThat(h.pvOf(claim).getMetadata().getAnnotations()).containsEntry(Annotations.CLOUD, "other");
  }

  @Test
  void withTheLegacyAttachActionsThePvIsRebuiltToo() throws Exception {
    start(s -> s.withAttachMode(ProvisionerSettings.AttachMode.LEGACY));
    PersistentVolumeClaim claim = bound("data", "rep");
    String vol = volumeOf(claim);
    assertThat(h.pvOf(claim).getMetadata().getAnnotations()).doesNotContainKey(ProvisionController.ATTACHMENT_ID);
    failover("secondary", vol, "failed-over");
    assertThat(remapper(step -> { }).run(false).remapped()).isEqualTo(1);
    PersistentVolume pv = h.pvOf(claim);
    assertThat(pv.getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
    assertThat(pv.getSpec().getIscsi().getIqn()).isEqualTo(SimulatedBackend.secondaryIqnFor(vol));
    assertThat(sim.volume(vol).status()).isEqualTo("in-use");
    assertThat(sim.volume(vol).attachments()).hasSize(1);
    assertThat(h.get(claim).getStatus().getPhase()).isEqualTo("Bound");
    assertThat(sim.requestCount("POST /volumes/{id}/action os-initialize_connection")).isEqualTo(2);
  }

  @Test
  void rbdFailoverRemapsToTheSecondaryMonitorsUserAndKey() throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.RBD_KEYRING).replication("secondary")
        .volumeType("replicated", Map.of("replication_enabled", "<is> True")).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), s -> s);
    h.storageClass("rep-" + ns, Map.of("type", "replicated"), "Delete", "Immediate");
    PersistentVolumeClaim claim = bound("data", "rep");
    String vol = volumeOf(claim);
    var before = h.pvOf(claim).getSpec().getRbd();
    assertThat(before.getMonitors()).allMatch(m -> m.startsWith("10.0.0."));
    String keyBefore = cephxKey(h.pvOf(claim));
    failover("secondary", vol, "failed-over");
    assertThat(remapper(step -> { }).run(false).remapped()).isEqualTo(1);
    var after = h.pvOf(claim).getSpec().getRbd();
    assertThat(after.getMonitors()).isNotEmpty().allMatch(m -> m.startsWith("10.0.1."));
    assertThat(after.getUser()).isEqualTo(SimulatedBackend.SECONDARY_RBD_USER);
    assertThat(after.getImage()).isEqualTo(before.getImage());
    assertThat(cephxKey(h.pvOf(claim))).isNotEqualTo(keyBefore);
    assertThat(h.get(claim).getStatus().getPhase()).isEqualTo("Bound");
    assertThat(h.pvOf(claim).getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Delete");
    assertThat(sim.statusHistory(vol)).doesNotContain("deleting");
  }

  private String cephxKey(PersistentVolume pv) {
    var ref = pv.getSpec().getRbd().getSecretRef();
    return client.secrets().inNamespace(ref.getNamespace()).withName(ref.getName()).get().getData().get("key");
  }

  static List<String> steps() {
    return PvRemapper.STEPS;
  }

  @ParameterizedTest
  @MethodSource("steps")
  void aCrashAfterEachStepConvergesOnTheRerun(String crashAfter) throws Exception {
    start();
    PersistentVolumeClaim claim = bound("data", "rep");
    String vol = volumeOf(claim);
    String pvName = h.pvOf(claim).getMetadata().getName();
    failover("secondary", vol, "failed-over");
    FailoverRemapper crashing = remapper(step -> {
      if (step.equals(crashAfter)) {
        throw new IllegalStateException("simulated crash after " + step);
      }
    });
    assertThatThrownBy(() -> crashing.run(false)).hasMessageContaining("simulated crash after " + crashAfter);
    assertThat(sim.volume(vol)).as("the volume is never deleted").isNotNull();
    assertThat(sim.statusHistory(vol)).doesNotContain("deleting");
    PersistentVolume left = client.persistentVolumes().withName(pvName).get();
    if (left == null) {
      assertThat(h.get(claim).getMetadata().getAnnotations()).as("a PV gone mid-swap is in the claim's journal")
          .containsKey(RemapPlan.JOURNAL);
    } else if (!crashAfter.equals("create-pv") && !crashAfter.equals("done")) {
      assertThat(left.getSpec().getPersistentVolumeReclaimPolicy()).as("never Delete during the swap")
          .isIn("Retain", crashAfter.equals("journal") ? "Delete" : "Retain");
    }
    if (!crashAfter.equals("done")) {
      assertThat(remapper(step -> { }).plan(false)).extracting(RemapPlan.Decision::pvName).containsExactly(pvName);
    }
    FailoverRemapper.Result again = remapper(step -> { }).run(false);
    assertThat(again.failures()).isEmpty();
    assertOnSecondary(claim, vol);
    assertThat(h.awaitEvent(claim, "VolumeRemapped").getNote()).as("the claim is told, whatever the crash")
        .contains(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
    assertThat(remapper(step -> { }).plan(false)).isEmpty();
    assertThat(sim.statusHistory(vol)).doesNotContain("deleting");
  }
}
