package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.controller.ProvisionController;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code remap --dry-run} and {@code remap} after a failover of the simulator, against the CRUD mock API server. */
@EnableKubernetesMockClient(crud = true)
class RemapCommandTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @TempDir
  Path dir;

  private static BadInputTest.Result execute(String... args) {
    return BadInputTest.execute(List.of(args));
  }

  private PersistentVolumeClaim claim(String name) {
    return client.persistentVolumeClaims().inNamespace("apps").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).withNamespace("apps").endMetadata().withNewSpec()
        .withStorageClassName("replicated").withAccessModes("ReadWriteOnce").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
  }

  private PersistentVolume pvOf(PersistentVolumeClaim c) {
    return client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  @Test
  void dryRunListsTheAffectedPvsThenRemapRebuildsThem() throws Exception {
    Connector connector = new Connector("standalone-cinder.k8s.io", "127.0.0.1", null, List.of(), List.of(), false,
        null, null);
    ProvisionerSettings settings = ProvisionerSettings.defaults("kube-system", connector);
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).replication("secondary")
            .volumeType("replicated", Map.of("replication_enabled", "<is> True")).start();
        PersistentVolumeBinder binder = new PersistentVolumeBinder(client).start();
        ProvisionController controller = new ProvisionController(client, CinderGateways.connect(CloudConfig.load(
            Optional.empty(), Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults()),
            VolumeMapperRegistry.defaults(), settings, new ControllerMetrics(new SimpleMeterRegistry()), "test")) {
      controller.start();
      client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("replicated").endMetadata().withProvisioner(settings.provisionerName())
          .withParameters(Map.of("type", "replicated")).withReclaimPolicy("Delete").build()).create();
      PersistentVolumeClaim a = claim("a");
      PersistentVolumeClaim b = claim("b");
      waitFor(Duration.ofSeconds(20), () -> pvOf(a) != null && pvOf(b) != null);
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      Path kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, """
          apiVersion: v1
          kind: Config
          clusters: [{name: c, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
          users: [{name: u, user: {token: t}}]
          contexts: [{name: x, context: {cluster: c, user: u}}]
          current-context: x
          """.formatted(client.getMasterUrl().toString().replaceAll("/$", "")));
      String[] base = {"--cloud-config", conf.toString(), "--kubeconfig", kubeconfig.toString()};

      BadInputTest.Result none = execute(concat("remap", "--dry-run", base));
      assertThat(none.exit()).as(none.err()).isZero();
      assertThat(none.out()).isEqualTo("0 affected PVs; nothing changed (dry run)\n");

      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(sim.endpoint() + "/os-services/failover_host")).header("X-Auth-Token", sim.noauthToken())
          .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
              "{\"host\": \"" + sim.serviceHost() + "\", \"backend_id\": \"secondary\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(202);
      String volA = pvOf(a).getMetadata().getAnnotations().get("cinderVolumeId");
      waitFor(Duration.ofSeconds(10), () -> "failed-over".equals(sim.volume(volA).replicationStatus()));

      BadInputTest.Result dry = execute(concat("remap", "--dry-run", base));
      assertThat(dry.exit()).as(dry.err()).isZero();
      assertThat(dry.out().lines()).hasSize(3);
      assertThat(dry.out()).contains(pvOf(a).getMetadata().getName() + " apps/a volume " + volA
          + " enabled -> failed-over REMAP: ").contains(pvOf(b).getMetadata().getName() + " apps/b ")
          .endsWith("2 affected PVs; nothing changed (dry run)\n");
      assertThat(pvOf(a).getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);

      BadInputTest.Result done = execute(concat("remap", null, base));
      assertThat(done.exit()).as(done.out() + done.err()).isZero();
      assertThat(done.out()).endsWith("2 affected, 2 re-mapped, 0 unchanged, 0 waiting for their pods, 0 failed\n");
      for (PersistentVolumeClaim c : List.of(a, b)) {
        assertThat(pvOf(c).getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
      }
      assertThat(execute(concat("remap", "--dry-run", base)).out()).startsWith("0 affected PVs");
    }
  }

  @Test
  void badInputIsOneLineAndExitCode2() {
    BadInputTest.Result r = execute("remap", "--attach-mode", "sideways");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err().lines()).singleElement().asString()
        .contains("--attach-mode must be auto, attachments or legacy, got \"sideways\"")
        .contains("see 'standalone-cinder remap --help'");
    BadInputTest.Result flag = execute("remap", "--dry-runn");
    assertThat(flag.exit()).isEqualTo(2);
    assertThat(flag.err().lines()).hasSize(1);
  }

  private static void waitFor(Duration limit, java.util.function.BooleanSupplier done) throws InterruptedException {
    long until = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited " + limit).isLessThan(until);
      Thread.sleep(50);
    }
  }

  private static String[] concat(String command, String flag, String[] base) {
    List<String> out = new java.util.ArrayList<>(List.of(command));
    if (flag != null) {
      out.add(flag);
    }
    out.addAll(List.of(base));
    return out.toArray(String[]::new);
  }
}
