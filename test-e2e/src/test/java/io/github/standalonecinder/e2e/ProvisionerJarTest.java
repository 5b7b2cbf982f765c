package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped jar as a process: the README's demo, {@code check}, and {@code run} against a mock API server. */
class ProvisionerJarTest {
  @TempDir
  Path dir;

  @Test
  void demoCommandFromTheReadmeSucceeds() throws Exception {
    var result = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(120), "demo", "--create-delay", "200ms");
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output())
        .contains("All 3 claims are Bound")
        .contains("==> Cinder volumes (cloud region-two, its PV annotated standalone-cinder.openstack.org/cloud="
            + "region-two, exported to iqn.2004-10.org.example:demo-node-storage-two):\n  ")
        .contains("kubernetes.io/iscsi-chap")
        .containsPattern("raw \\(Block\\): PV 2Gi, claim status capacity 2Gi")
        .containsPattern("data \\(Filesystem\\): PV 2Gi, claim status capacity 1Gi")
        .containsPattern("data-restored \\(Filesystem\\): PV 2Gi, claim status capacity 1Gi")
        .contains("condition FileSystemResizePending: Cinder volume and PV grown to 2Gi")
        .contains("Demo finished: provisioned and deleted 4 volumes in 2 clouds, one restored from a snapshot.");
    assertThat(result.output()).doesNotContainPattern("node\\.session\\.auth\\.password:\\s*\\S");
  }

  @Test
  void checkPrintsTheVersionDocumentOfTheSimulator() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().volumeType("iscsi", Map.of()).start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpointWithoutProject() + "\ntenant-name = "
          + sim.projectId() + "\n");
      var result = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(60), "check", "--cloud-config",
          conf.toString());
      assertThat(result.exitCode()).as(result.output()).isZero();
      assertThat(result.output()).contains("\nAuthentication: noauth (no Keystone): Cinder at ")
          .contains("API version: v3, microversions 3.0 to 3.71, using 3.60")
          .contains("  iscsi  id=").contains("  nova").endsWith("OK\n");
    }
  }

  @Test
  void badConfigurationIsOneLineAndExitCode2() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, "[Global]\ntls-insecure = maybe\ncinder-endpoint = http://127.0.0.1:1/v3\n");
    var result = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(60), "check", "--cloud-config",
        conf.toString());
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.output().strip().lines().filter(l -> l.startsWith("standalone-cinder:")).toList())
        .singleElement().asString().contains("tls-insecure");
    assertThat(result.output()).doesNotContain("\tat ");
  }

  @Test
  void anUnknownLogLevelIsOneLineAndExitCode2() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, "[Global]\ncinder-endpoint = http://127.0.0.1:1/v3\n");
    var result = ProvisionerProcess.run(dir, Map.of("LOG_LEVEL", "bogus"), Duration.ofSeconds(60), "check",
        "--cloud-config", conf.toString());
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.output().strip().lines().toList()).containsExactly("standalone-cinder: LOG_LEVEL must be one "
        + "of trace, debug, info, warn, error or off, got \"bogus\"; see 'standalone-cinder check --help'");
  }

  @Test
  void runProvisionsAndDeletesClaimsThroughTheApiServer() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(200)).start();
        MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      int metricsPort = freePort();
      try (ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
          api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
          "kube-system", "--metrics-address", "127.0.0.1:" + metricsPort, "--connector-initiator",
          "iqn.2004-10.com.example:node")) {
        api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
            .withName("cinder").endMetadata().withProvisioner("openstack.org/standalone-cinder")
            .withParameters(Map.of("type", "iscsi")).withReclaimPolicy("Delete").build()).create();
        HttpClient http = HttpClient.newHttpClient();
        URI metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
        // From ready on (workers and informers started), count the threads the work itself starts.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + metricsPort + "/readyz")).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 200);
        double threadsBefore = threadsStarted(http, metrics);
        List<PersistentVolumeClaim> claims = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          claims.add(api.client.persistentVolumeClaims().inNamespace("default").resource(
              new PersistentVolumeClaimBuilder().withNewMetadata().withName("c" + i).endMetadata().withNewSpec()
                  .withStorageClassName("cinder").withAccessModes("ReadWriteOnce").withNewResources()
                  .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> claims.stream().allMatch(c -> {
          var latest = api.client.persistentVolumeClaims().inNamespace("default")
              .withName(c.getMetadata().getName()).get();
          return latest.getStatus() != null && "Bound".equals(latest.getStatus().getPhase());
        }));
        assertThat(sim.volumes()).hasSize(5);

        // A claim is Bound once its PV is saved; the controller counts it a moment later, after dropping the
        // claim's finalizer and posting the Event.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
            .body()).contains("controller_persistentvolumeclaim_provision_total{class=\"cinder\"} 5.0")
            .contains("openstack_api_request_duration_seconds").contains("controller_events_dropped_total 0.0"));
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/readyz"))
            .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

        for (var c : claims) {
          api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).delete();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().isEmpty()
            && api.client.persistentVolumes().list().getItems().isEmpty());
        // ~60 Kubernetes requests go by: on a 1-2 CPU machine they used to start ~80 threads (one per request).
        // Now 17-18 here, all bounded by the claims, not the requests: 10 workers (5 claims, two stages, made on
        // demand), the JDK HTTP clients' pool threads (5) and the JIT's compiler threads (2); 20 was crossed under
        // load (a third compiler thread), hence the margin.
        double started = threadsStarted(http, metrics) - threadsBefore;
        System.out.printf("jar: %.0f threads started while provisioning and deleting 5 claims%n", started);
        assertThat(started).as("threads started while provisioning and deleting 5 claims").isLessThan(30);
        assertThat(p.isAlive()).isTrue();
      }
    }
  }

  private static double threadsStarted(HttpClient http, URI metrics) throws Exception {
    return http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body().lines()
        .filter(l -> l.startsWith("jvm_threads_started_threads_total ")).mapToDouble(l -> Double.parseDouble(
            l.substring(l.indexOf(' ') + 1))).findFirst().orElse(-1);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
