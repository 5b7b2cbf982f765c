package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose informer cannot work (the API server refuses its LIST of claims, as it would after an RBAC
 * change or with a broken aggregation layer) must not sit on the Lease with an empty cache: it gives up after
 * --informer-failure-timeout, hands the Lease back and exits 1 with one line saying why; the standby takes
 * over and provisions.
 */
class ChaosInformerFailureTest {
  @TempDir
  Path dir;

  @Test
  void aLeaderWhoseInformerFailsHandsOverAndExits() throws Exception {
    Path logDir = Chaos.logDir("informer-failure");
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(200)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start();
        BufferingTcpRelay kubeA = new BufferingTcpRelay("127.0.0.1", api.port());
        BufferingTcpRelay kubeB = new BufferingTcpRelay("127.0.0.1", api.port())) {
      Chaos.storageClass(api.client, "cinder");
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      api.refuse(r -> "token-replica-a".equals(r.token()) && r.method().equals("GET")
          && r.path().startsWith("/api/v1/persistentvolumeclaims"));
      ChaosProcess a = ChaosProcess.start(logDir, "replica-a", args(api, kubeA, conf, "replica-a"),
          Map.of("POD_NAME", "replica-a"));
      ChaosProcess b = null;
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> "replica-a".equals(Chaos.leaseHolder(api)));
        b = ChaosProcess.start(logDir, "replica-b", args(api, kubeB, conf, "replica-b"),
            Map.of("POD_NAME", "replica-b"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          names.add(Chaos.claim(api.client, "apps", "data-" + i, "cinder").getMetadata().getName());
        }
        assertThat(a.waitFor(Duration.ofSeconds(60))).as("the replica with a broken informer exits").isTrue();
        assertThat(a.exitCode()).isEqualTo(1);
        List<String> errors = a.output().lines().filter(l -> l.contains(" ERROR ")).toList();
        assertThat(errors).as("one line says why").hasSize(1);
        assertThat(errors.get(0)).contains("the informers could not fill their caches").endsWith("; exiting");
        assertThat(a.output()).contains("released Lease");

        await().atMost(Duration.ofSeconds(60)).until(() -> "replica-b".equals(Chaos.leaseHolder(api)));
        await().atMost(Duration.ofSeconds(90)).until(() -> Chaos.countBound(api) == names.size());
        Chaos.awaitNothingLost(api.client, sim);
        System.out.println("chaos informer failure: leader gave up after its claim LIST was refused, exit code 1, "
            + "standby provisioned " + names.size() + " claims");
      } finally {
        a.close();
        if (b != null) {
          b.close();
        }
      }
    }
  }

  private static List<String> args(ChaosApiServer api, BufferingTcpRelay relay, Path conf, String name)
      throws Exception {
    return List.of("run", "--kubeconfig", api.kubeconfigFor("token-" + name, relay.port()).toString(),
        "--cloud-config", conf.toString(), "--leader-elect", "--leader-election-lease-duration", "5s",
        "--informer-failure-timeout", "5s", "--namespace", Chaos.NAMESPACE, "--metrics-address", "",
        "--connector-initiator", "iqn.2004-10.com.example:inf");
  }
}
