package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orphan sweeper in the jar, with the cluster id derived from the API server's kube-system namespace.
 *
 * <p>One cluster: volumes whose claim and PV are gone, and a duplicate of a live claim's volume, are reported (mode
 * report: log lines and {@code standalone_cinder_orphan_volumes{reason="report-mode"}}) and, in mode delete, deleted
 * after the grace period; orphans the sweeper must keep are reported with their reason and never deleted: a
 * {@code Retain} claim's volume whose PV the admin removed, a volume whose PV the admin set to {@code Retain} before
 * removing it (the sweep records Retain on it first), one made before reclaim policies were recorded, one tagged
 * with the old default cluster id. Everything owned, foreign or unlabelled is left alone. One orphan is made the
 * realistic way: the provisioner is killed while a claim's volume is still creating, and an admin then strips the
 * claim's finalizer and deletes it. In delete mode the API server's request log shows the sweeps read PVs and
 * claims by name only for candidates, and list no PVs beyond the informer's own list.
 *
 * <p>Two clusters: two API servers (two kube-system UIDs) and two controllers in delete mode share one Cinder
 * simulator; each deletes its own orphan and leaves the other's volumes, and a volume tagged with the old default,
 * alone.
 */
class ChaosOrphanSweeperTest {
  static final Duration GRACE = Duration.ofSeconds(4);
  private static final Pattern ORPHAN_GAUGE = Pattern.compile(
      "(?m)^standalone_cinder_orphan_volumes\\{cloud=\"default\",reason=\"([a-z-]+)\",?} ([0-9.]+)$");

  @TempDir
  Path dir;

  private static Map<String, String> meta(String cluster, String ns, String name, String uid, String policy) {
    Map<String, String> m = new LinkedHashMap<>();
    if (cluster != null) {
      m.put("standalone-cinder.openstack.org/cluster", cluster);
    }
    if (uid != null) {
      m.put("standalone-cinder.openstack.org/pvc-namespace", ns);
      m.put("standalone-cinder.openstack.org/pvc-name", name);
      m.put("standalone-cinder.openstack.org/pvc-uid", uid);
      m.put("standalone-cinder.openstack.org/pv-name", "pvc-" + uid);
    }
    if (policy != null) {
      m.put("standalone-cinder.openstack.org/reclaim-policy", policy);
    }
    return m;
  }

  private static CinderGateway gateway(CinderSimulator sim) throws Exception {
    return CinderGateways.connect(CloudConfig.load(Optional.empty(), Map.of("OS_CINDER_ENDPOINT", sim.endpoint())),
        GatewayOptions.defaults());
  }

  private List<String> args(ChaosApiServer api, CinderSimulator sim, int metricsPort, String mode)
      throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
    return List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config", conf.toString(),
        "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address", "127.0.0.1:" + metricsPort,
        "--available-timeout", "3s", "--orphan-sweep-interval", "1s", "--orphan-grace-period",
        GRACE.toSeconds() + "s", "--connector-initiator", "iqn.2004-10.com.example:o", "--orphan-mode", mode);
  }

  private static void retainClass(KubernetesClient kube, String name) {
    kube.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName(name)
        .endMetadata().withProvisioner(Chaos.PROVISIONER).withParameters(Map.of("type", "iscsi"))
        .withReclaimPolicy("Retain").build()).create();
  }

  private static PersistentVolumeClaim bound(KubernetesClient kube, String ns, String name, String sc) {
    Chaos.claim(kube, ns, name, sc);
    await().atMost(Duration.ofSeconds(60)).until(() -> Chaos.bound(kube.persistentVolumeClaims().inNamespace(ns)
        .withName(name).get()));
    return kube.persistentVolumeClaims().inNamespace(ns).withName(name).get();
  }

  private static String volumeOf(KubernetesClient kube, PersistentVolumeClaim c) {
    return kube.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get().getMetadata()
        .getAnnotations().get("cinderVolumeId");
  }

  /** What an admin does to get rid of a PV: strip its finalizers and delete it. */
  private static void removePv(KubernetesClient kube, String name) {
    var pv = kube.persistentVolumes().withName(name);
    // As kubectl does: read, edit, write; a 409 (the binder or the controller wrote meanwhile) means read again.
    await().atMost(Duration.ofSeconds(10)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(() -> {
          pv.edit(p -> {
            p.getMetadata().setFinalizers(List.of());
            return p;
          });
          return true;
        });
    pv.delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> pv.get() == null);
  }

  private static void removeClaim(KubernetesClient kube, String ns, String name) {
    var c = kube.persistentVolumeClaims().inNamespace(ns).withName(name);
    // As removePv: a 409 (the binder or the controller wrote meanwhile) means read again.
    await().atMost(Duration.ofSeconds(10)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(() -> {
          c.edit(x -> {
            x.getMetadata().setFinalizers(List.of());
            return x;
          });
          return true;
        });
    c.delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get() == null);
  }

  private static Map<String, Double> orphanGauges(int metricsPort) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> out = new TreeMap<>();
    Matcher m = ORPHAN_GAUGE.matcher(body);
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  private static Set<String> liveIds(CinderSimulator sim) {
    Set<String> ids = new TreeSet<>();
    Chaos.live(sim).forEach(v -> ids.add(v.id()));
    return ids;
  }

  @Test
  void orphansAreReportedThenDeletedAndWhatMustBeKeptIsKept() throws Exception {
    Path logDir = Chaos.logDir("orphans");
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(200)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start()) {
      CinderGateway cinder = gateway(sim);
      KubernetesClient kube = api.client;
      String us = api.kubeSystemUid;
      int metricsPort = Chaos.freePort();
      Chaos.storageClass(kube, "cinder");
      retainClass(kube, "keep");
      List<Path> logs = new ArrayList<>();

      // Phase 1, mode report: claims provisioned, and the admin's Retain workflows.
      ChaosProcess p = ChaosProcess.start(logDir, "orphan-report-1", args(api, sim, metricsPort, "report"));
      logs.add(p.log);
      PersistentVolumeClaim owned = bound(kube, "apps", "owned", "cinder");
      String ownedId = volumeOf(kube, owned);
      // A Retain claim: deleted, its PV Released, then removed by the admin. The volume stays theirs.
      PersistentVolumeClaim retained = bound(kube, "apps", "retained", "keep");
      String retainedId = volumeOf(kube, retained);
      assertThat(sim.volume(retainedId).metadata()).containsEntry("standalone-cinder.openstack.org/reclaim-policy",
          "Retain");
      removeClaim(kube, "apps", "retained");
      removePv(kube, "pvc-" + retained.getMetadata().getUid());
      // A Delete claim whose PV the admin sets to Retain: the sweep records Retain on the volume, then the admin
      // removes PV and claim.
      PersistentVolumeClaim patched = bound(kube, "apps", "patched", "cinder");
      String patchedId = volumeOf(kube, patched);
      await().atMost(Duration.ofSeconds(10)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
          .until(() -> {
            kube.persistentVolumes().withName("pvc-" + patched.getMetadata().getUid()).edit(pv -> {
              pv.getSpec().setPersistentVolumeReclaimPolicy("Retain");
              return pv;
            });
            return true;
          });
      await().atMost(Duration.ofSeconds(30)).until(() -> "Retain".equals(sim.volume(patchedId).metadata()
          .get("standalone-cinder.openstack.org/reclaim-policy")));
      removePv(kube, "pvc-" + patched.getMetadata().getUid());
      removeClaim(kube, "apps", "patched");

      // The realistic orphan: a claim whose volume never leaves "creating", the provisioner killed, the claim's
      // finalizer stripped by hand, the claim deleted.
      sim.faults().volumesNamed("pvc-.*").stayIn("creating");
      PersistentVolumeClaim stuck = Chaos.claim(kube, "apps", "stuck", "cinder");
      String stuckVolumeName = "pvc-" + stuck.getMetadata().getUid();
      await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().stream()
          .anyMatch(v -> v.name().equals(stuckVolumeName)));
      p.kill();
      removeClaim(kube, "apps", "stuck");
      String stuckId = sim.volumes().stream().filter(v -> v.name().equals(stuckVolumeName)).findFirst()
          .orElseThrow().id();
      sim.faults().reset();

      // Hand-made volumes: an orphan, one of another cluster, one without claim metadata, one whose claim is gone
      // but whose PV is still there (Released, its own delete path owns it), one made before reclaim policies were
      // recorded, one tagged with the old default cluster id, and a duplicate of the owned claim's volume (what two
      // provisioners racing leave: same name and claim, its PV names the other).
      String gone = UUID.randomUUID().toString();
      String orphan = create(cinder, "pvc-" + gone, meta(us, "apps", "gone", gone, "Delete"));
      Instant orphanCreated = Instant.now();
      String other = UUID.randomUUID().toString();
      String foreign = create(cinder, "pvc-" + other, meta("other-cluster", "apps", "x", other, "Delete"));
      String unlabelled = create(cinder, "manual", meta(us, null, null, null, null));
      String withPv = UUID.randomUUID().toString();
      String pvOwned = create(cinder, "pvc-" + withPv, meta(us, "apps", "released", withPv, "Delete"));
      kube.persistentVolumes().resource(new PersistentVolumeBuilder().withNewMetadata()
          .withName("pvc-" + withPv).addToAnnotations("cinderVolumeId", pvOwned).endMetadata().withNewSpec()
          .withCapacity(Map.of("storage", new Quantity("1Gi"))).withPersistentVolumeReclaimPolicy("Retain")
          .withNewIscsi().withTargetPortal("10.0.0.1:3260").withIqn("iqn.x:y").withLun(0).endIscsi()
          .endSpec().build()).create();
      String olderUid = UUID.randomUUID().toString();
      String older = create(cinder, "pvc-" + olderUid, meta(us, "apps", "older", olderUid, null));
      String legacyUid = UUID.randomUUID().toString();
      String legacy = create(cinder, "pvc-" + legacyUid, meta("kubernetes", "apps", "legacy", legacyUid, "Delete"));
      String duplicate = create(cinder, "pvc-" + owned.getMetadata().getUid(), meta(us, "apps", "owned",
          owned.getMetadata().getUid(), "Delete"));

      p = ChaosProcess.start(logDir, "orphan-report-2", args(api, sim, metricsPort, "report"));
      logs.add(p.log);
      ChaosProcess reporter = p;
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(reporter.output())
          .contains("orphan Cinder volume " + orphan, "orphan Cinder volume " + stuckId,
              "orphan Cinder volume " + duplicate, "orphan Cinder volume " + retainedId,
              "orphan Cinder volume " + patchedId, "orphan Cinder volume " + older, "orphan Cinder volume " + legacy));
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(orphanGauges(metricsPort))
          .containsEntry("report-mode", 3.0).containsEntry("retain", 2.0).containsEntry("no-reclaim-policy", 1.0)
          .containsEntry("legacy-cluster-id", 1.0).containsEntry("delete-failed", 0.0));
      assertThat(reporter.output()).contains("orphan Cinder volume " + duplicate + " (pvc-"
          + owned.getMetadata().getUid()).contains("a duplicate: its PV pvc-" + owned.getMetadata().getUid()
          + " names Cinder volume " + ownedId);
      Thread.sleep(2000);
      assertThat(sim.volumes()).as("report mode deletes nothing").hasSize(11);
      p.close();

      // Phase 2, mode delete: the three deletable orphans go, after their grace period; the rest stays. The binder
      // is stopped (nothing is left to bind): the API server's request log is then the controller's alone.
      binder.close();
      List<RecordedRequest> before = drain(api);
      p = ChaosProcess.start(logDir, "orphan-delete", args(api, sim, metricsPort, "delete"));
      logs.add(p.log);
      try (ChaosProcess deleter = p) {
        await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().stream()
            .noneMatch(v -> v.id().equals(orphan) || v.id().equals(stuckId) || v.id().equals(duplicate)));
        assertThat(Duration.between(orphanCreated, Instant.now())).isGreaterThanOrEqualTo(GRACE);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(deleter.output())
            .contains("deleted orphan Cinder volume " + orphan, "deleted orphan Cinder volume " + stuckId,
                "deleted orphan Cinder volume " + duplicate));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(orphanGauges(metricsPort))
            .containsEntry("report-mode", 0.0).containsEntry("retain", 2.0).containsEntry("no-reclaim-policy", 1.0)
            .containsEntry("legacy-cluster-id", 1.0));
        Thread.sleep(3000);
        List<RecordedRequest> requests = drain(api);
        long sweeps = deleter.output().lines().filter(l -> l.contains("orphan sweep: ")).count();
        assertThat(liveIds(sim)).containsExactlyInAnyOrder(foreign, unlabelled, pvOwned, ownedId, retainedId,
            patchedId, older, legacy);
        assertThat(deleter.output().lines().filter(l -> l.contains("orphan Cinder volume " + retainedId)))
            .as("a kept orphan is logged (WARN) by the first sweep that finds it only").hasSize(1);
        assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body())
            .contains("standalone_cinder_orphan_volumes_deleted_total{cloud=\"default\"} 3.0");
        assertThat(Chaos.bound(kube.persistentVolumeClaims().inNamespace("apps").withName("owned").get())).isTrue();
        assertThat(volumeOf(kube, owned)).isEqualTo(ownedId);
        assertThat(kube.secrets().inNamespace(Chaos.NAMESPACE).withName("pvc-" + owned.getMetadata().getUid()
            + "-chap").get()).as("the duplicate's PV name is the owned claim's: its Secret stays").isNotNull();

        // The sweeps' reads: PVs and claims by name, only of candidates; no PV list but the informer's.
        Set<String> candidatePvs = new TreeSet<>();
        for (String uid : List.of(gone, stuck.getMetadata().getUid(), owned.getMetadata().getUid(),
            retained.getMetadata().getUid(), patched.getMetadata().getUid(), olderUid, legacyUid)) {
          candidatePvs.add("pvc-" + uid);
        }
        Set<String> pvReads = new TreeSet<>();
        Set<String> claimReads = new TreeSet<>();
        long pvLists = 0;
        for (RecordedRequest r : requests) {
          String path = r.getPath();
          String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
          if (!"GET".equals(r.getMethod()) || path.contains("watch=true")) {
            continue;
          }
          if (bare.equals("/api/v1/persistentvolumes")) {
            pvLists++;
          } else if (bare.startsWith("/api/v1/persistentvolumes/")) {
            pvReads.add(bare.substring("/api/v1/persistentvolumes/".length()));
          } else if (bare.startsWith("/api/v1/namespaces/apps/persistentvolumeclaims/")) {
            claimReads.add(bare.substring("/api/v1/namespaces/apps/persistentvolumeclaims/".length()));
          }
        }
        assertThat(sweeps).as("sweeps in the delete phase").isGreaterThanOrEqualTo(3);
        assertThat(pvLists).as("PV lists over %s sweeps (%s requests before)", sweeps, before.size())
            .isLessThanOrEqualTo(2);
        assertThat(candidatePvs).containsAll(pvReads);
        assertThat(pvReads).contains("pvc-" + gone, "pvc-" + owned.getMetadata().getUid(), "pvc-" + olderUid);
        assertThat(Set.of("gone", "stuck", "retained", "patched", "older", "legacy")).containsAll(claimReads);
      }
      Chaos.assertNoSecretsIn(logs, Chaos.secretValues(kube));
    }
  }

  @Test
  void twoClustersSharingACinderProjectLeaveEachOthersVolumesAloneInDeleteMode() throws Exception {
    Path logDir = Chaos.logDir("orphans-two-clusters");
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(200)).start();
        ChaosApiServer a = new ChaosApiServer(Files.createDirectories(dir.resolve("a")));
        ChaosApiServer b = new ChaosApiServer(Files.createDirectories(dir.resolve("b")));
        PersistentVolumeBinder binderA = new PersistentVolumeBinder(a.client).start();
        PersistentVolumeBinder binderB = new PersistentVolumeBinder(b.client).start()) {
      assertThat(a.kubeSystemUid).isNotEqualTo(b.kubeSystemUid);
      CinderGateway cinder = gateway(sim);
      Chaos.storageClass(a.client, "cinder");
      Chaos.storageClass(b.client, "cinder");
      String legacyUid = UUID.randomUUID().toString();
      String legacy = create(cinder, "pvc-" + legacyUid, meta("kubernetes", "apps", "legacy", legacyUid, "Delete"));
      try (ChaosProcess pa = ChaosProcess.start(logDir, "cluster-a", args(a, sim, Chaos.freePort(), "delete"));
          ChaosProcess pb = ChaosProcess.start(logDir, "cluster-b", args(b, sim, Chaos.freePort(), "delete"))) {
        Map<ChaosApiServer, List<String>> kept = new LinkedHashMap<>();
        Map<ChaosApiServer, String> orphans = new LinkedHashMap<>();
        for (ChaosApiServer api : List.of(a, b)) {
          // The mock servers number UIDs from 1 each: the clusters' claims may share UIDs, so their volumes names.
          List<String> ids = new ArrayList<>();
          for (String name : List.of("one", "two")) {
            ids.add(volumeOf(api.client, bound(api.client, "apps", name, "cinder")));
          }
          kept.put(api, ids);
          PersistentVolumeClaim gone = bound(api.client, "apps", "gone", "cinder");
          orphans.put(api, volumeOf(api.client, gone));
          removePv(api.client, "pvc-" + gone.getMetadata().getUid());
          removeClaim(api.client, "apps", "gone");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> orphans.values().stream()
            .noneMatch(id -> liveIds(sim).contains(id)));
        // A few more sweeps of each.
        long sweepsA = pa.output().lines().filter(l -> l.contains("orphan sweep: ")).count();
        await().atMost(Duration.ofSeconds(30)).until(() -> pa.output().lines()
            .filter(l -> l.contains("orphan sweep: ")).count() >= sweepsA + 3);
        Set<String> expected = new TreeSet<>(kept.get(a));
        expected.addAll(kept.get(b));
        expected.add(legacy);
        assertThat(liveIds(sim)).containsExactlyInAnyOrderElementsOf(expected);
        for (ChaosApiServer api : List.of(a, b)) {
          for (PersistentVolume pv : api.client.persistentVolumes().list().getItems()) {
            SimVolume v = sim.volume(pv.getMetadata().getAnnotations().get("cinderVolumeId"));
            assertThat(v).isNotNull();
            assertThat(v.metadata()).containsEntry("standalone-cinder.openstack.org/cluster", api.kubeSystemUid);
          }
        }
        for (ChaosProcess p : List.of(pa, pb)) {
          assertThat(p.output()).contains("orphan Cinder volume " + legacy).contains("it is tagged with the old "
              + "default cluster id").doesNotContain("deleted orphan Cinder volume " + legacy);
        }
        assertThat(pa.output()).contains("deleted orphan Cinder volume " + orphans.get(a))
            .doesNotContain("orphan Cinder volume " + orphans.get(b));
        assertThat(pb.output()).contains("deleted orphan Cinder volume " + orphans.get(b))
            .doesNotContain("orphan Cinder volume " + orphans.get(a));
      }
    }
  }

  private static List<RecordedRequest> drain(ChaosApiServer api) throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = api.server().takeRequest(20, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }

  private static String create(CinderGateway cinder, String name, Map<String, String> metadata) {
    return cinder.createVolume(new VolumeCreateRequest(name, 1, null, null, null, metadata, null, null)).id();
  }
}
