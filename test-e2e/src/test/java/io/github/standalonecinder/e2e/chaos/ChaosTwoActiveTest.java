package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two provisioners active at once, as in a rolling update with leader election off (or any overlap the fence
 * cannot rule out): a burst of claims that both race for. The promise: at worst a transient extra volume, cleaned
 * up; never a PV naming a missing volume, never a volume left over.
 */
class ChaosTwoActiveTest {
  @TempDir
  Path dir;

  @Test
  void twoActiveReplicasLeaveNoPvWithoutItsVolumeAndNoVolumeOver() throws Exception {
    Path logDir = Chaos.logDir("two-active");
    int claimCount = Chaos.SOAK ? 500 : 200;
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(300)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start()) {
      Chaos.storageClass(api.client, "cinder");
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      List<String> args = List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config",
          conf.toString(), "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address", "",
          "--available-timeout", "30s", "--connector-initiator", "iqn.2004-10.com.example:two");
      try (ChaosProcess a = ChaosProcess.start(logDir, "active-a", args);
          ChaosProcess b = ChaosProcess.start(logDir, "active-b", args)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> a.output().contains("started with")
            && b.output().contains("started with"));
        for (int i = 0; i < claimCount; i++) {
          Chaos.claim(api.client, "team" + (i % 4), "data-" + i, "cinder");
        }
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() ->
            api.client.persistentVolumeClaims().inAnyNamespace().list().getItems().stream()
                .filter(Chaos::bound).count() == claimCount);
        // Settled: every duplicate made by the race has been taken back once its claim's PV was saved.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
            .untilAsserted(() -> Chaos.assertNothingLost(api.client, sim));
        assertThat(a.isAlive() && b.isAlive()).isTrue();
        long duplicates = count(a.output(), "deleted duplicate Cinder volume") + count(b.output(),
            "deleted duplicate Cinder volume");
        long lostRaces = count(a.output(), "was saved by another attempt") + count(b.output(),
            "was saved by another attempt");
        System.out.printf("chaos two active: %d claims, %d duplicate volumes made and deleted, %d PV saves lost "
            + "to the other replica, 0 PVs without a volume, 0 volumes left over%n", claimCount, duplicates,
            lostRaces);
      }
    }
  }

  private static long count(String text, String what) {
    Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
    long n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
