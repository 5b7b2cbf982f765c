package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.provisioner.simulator.CinderSimulator;
import io.github.standalonecinder.provisioner.simulator.SimulatedBackend;
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
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orphan sweeper in the jar: volumes tagged with our cluster id whose claim and PV are gone are reported (mode
 * report: log line and gauge) and, in mode delete, deleted after the grace period; everything owned, foreign or
 * unlabelled is left alone. One orphan is made the realistic way: the provisioner is killed while a claim's volume
 * is still creating, and an admin then strips the claim's finalizer and deletes it.
 */
class ChaosOrphanSweeperTest {
  static final Duration GRACE = Duration.ofSeconds(4);

  @TempDir
  Path dir;

  private static Map<String, String> meta(String cluster, String ns, String name, String uid) {
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
    return m;
  }

  @Test
  void orphansAreReportedThenDeletedAndNothingElseIsTouched() throws Exception {
    Path logDir = Chaos.logDir("orphans");
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(200)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start()) {
      CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      int metricsPort = Chaos.freePort();
      List<String> common = List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config",
          conf.toString(), "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address",
          "127.0.0.1:" + metricsPort, "--available-timeout", "3s", "--orphan-sweep-interval", "1s",
          "--orphan-grace-period", GRACE.toSeconds() + "s", "--connector-initiator", "iqn.2004-10.com.example:o");
      Chaos.storageClass(api.client, "cinder");
      List<Path> logs = new ArrayList<>();

      // Phase 1, mode report.
      List<String> report = new ArrayList<>(common);
      report.addAll(List.of("--orphan-mode", "report"));
      ChaosProcess p = ChaosProcess.start(logDir, "orphan-report-1", report);
      logs.add(p.log);
      PersistentVolumeClaim owned = Chaos.claim(api.client, "apps", "owned", "cinder");
      await().atMost(Duration.ofSeconds(60)).until(() -> Chaos.bound(api.client.persistentVolumeClaims()
          .inNamespace("apps").withName("owned").get()));

      // The realistic orphan: a claim whose volume never leaves "creating", the provisioner killed, the claim's
      // finalizer stripped by hand, the claim deleted.
      sim.faults().volumesNamed("pvc-.*").stayIn("creating");
      PersistentVolumeClaim stuck = Chaos.claim(api.client, "apps", "stuck", "cinder");
      String stuckVolumeName = "pvc-" + stuck.getMetadata().getUid();
      await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().stream()
          .anyMatch(v -> v.name().equals(stuckVolumeName)));
      p.kill();
      api.client.persistentVolumeClaims().inNamespace("apps").withName("stuck").edit(c -> {
        c.getMetadata().setFinalizers(List.of());
        return c;
      });
      api.client.persistentVolumeClaims().inNamespace("apps").withName("stuck").delete();
      await().atMost(Duration.ofSeconds(10)).until(() -> api.client.persistentVolumeClaims().inNamespace("apps")
          .withName("stuck").get() == null);
      String stuckId = sim.volumes().stream().filter(v -> v.name().equals(stuckVolumeName)).findFirst()
          .orElseThrow().id();
      sim.faults().reset();

      // Hand-made volumes: an orphan, one of another cluster, one without claim metadata, one whose claim is gone
      // but whose PV is still there (Released, its own delete path owns it).
      String gone = UUID.randomUUID().toString();
      String orphan = create(cinder, "pvc-" + gone, meta(api.kubeSystemUid, "apps", "gone", gone));
      Instant orphanCreated = Instant.now();
      String other = UUID.randomUUID().toString();
      String foreign = create(cinder, "pvc-" + other, meta("other-cluster", "apps", "x", other));
      String unlabelled = create(cinder, "manual", meta(api.kubeSystemUid, null, null, null));
      String withPv = UUID.randomUUID().toString();
      String pvOwned = create(cinder, "pvc-" + withPv, meta(api.kubeSystemUid, "apps", "released", withPv));
      api.client.persistentVolumes().resource(new PersistentVolumeBuilder().withNewMetadata()
          .withName("pvc-" + withPv).addToAnnotations("cinderVolumeId", pvOwned).endMetadata().withNewSpec()
          .withCapacity(Map.of("storage", new Quantity("1Gi"))).withPersistentVolumeReclaimPolicy("Retain")
          .withNewIscsi().withTargetPortal("10.0.0.1:3260").withIqn("iqn.x:y").withLun(0).endIscsi()
          .endSpec().build()).create();

      p = ChaosProcess.start(logDir, "orphan-report-2", report);
      logs.add(p.log);
      ChaosProcess reporter = p;
      await().atMost(Duration.ofSeconds(60)).until(() -> reporter.output().contains("orphan Cinder volume " + orphan)
          && reporter.output().contains("orphan Cinder volume " + stuckId));
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(20)).until(() -> http.send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body()
          .contains("standalone_cinder_orphan_volumes 2.0"));
      Thread.sleep(2000);
      assertThat(sim.volumes()).as("report mode deletes nothing").hasSize(6);
      p.close();

      // Phase 2, mode delete: the two orphans go, after their grace period; the rest stays.
      List<String> delete = new ArrayList<>(common);
      delete.addAll(List.of("--orphan-mode", "delete"));
      p = ChaosProcess.start(logDir, "orphan-delete", delete);
      logs.add(p.log);
      try (ChaosProcess deleter = p) {
        await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().stream()
            .noneMatch(v -> v.id().equals(orphan) || v.id().equals(stuckId)));
        assertThat(Duration.between(orphanCreated, Instant.now())).isGreaterThanOrEqualTo(GRACE);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(deleter.output())
            .contains("deleted orphan Cinder volume " + orphan).contains("deleted orphan Cinder volume " + stuckId));
        Thread.sleep(3000);
        String ownedId = api.client.persistentVolumes().withName("pvc-" + owned.getMetadata().getUid()).get()
            .getMetadata().getAnnotations().get("cinderVolumeId");
        assertThat(sim.volumes()).extracting(v -> v.id())
            .containsExactlyInAnyOrder(foreign, unlabelled, pvOwned, ownedId);
        assertThat(Chaos.bound(api.client.persistentVolumeClaims().inNamespace("apps").withName("owned").get()))
            .isTrue();
      }
    }
  }

  private static String create(CinderGateway cinder, String name, Map<String, String> metadata) {
    return cinder.createVolume(new VolumeCreateRequest(name, 1, null, null, null, metadata, null, null)).id();
  }
}
