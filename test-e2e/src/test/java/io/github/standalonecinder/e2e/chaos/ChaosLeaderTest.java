package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two replicas with leader election on a 3 s Lease; the one holding the Lease (read from the API server) is
 * killed with kill -9 in the middle of a burst, three times, each time restarted as the new standby. No claim may
 * end up with two volumes, and every claim is Bound.
 */
class ChaosLeaderTest {
  private static final Logger log = LoggerFactory.getLogger(ChaosLeaderTest.class);

  @TempDir
  Path dir;

  @Test
  void killingTheLeaderMidBurstMakesNoDuplicate() throws Exception {
    Path logDir = Chaos.logDir("leader");
    int claimCount = Chaos.SOAK ? 300 : 60;
    int leaderKills = Chaos.SOAK ? 10 : 3;
    List<Path> logs = new ArrayList<>();
    try (CinderSimulator sim = Chaos.keystoneSim().createDelay(Duration.ofMillis(300)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start()) {
      Chaos.storageClass(api.client, "cinder");
      List<String> args = List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config",
          Chaos.cloudConfig(dir, sim).toString(), "--leader-elect", "--leader-election-lease-duration", "3s",
          "--namespace", Chaos.NAMESPACE, "--metrics-address", "", "--available-timeout", "20s",
          "--connector-initiator", "iqn.2004-10.com.example:leader");
      List<ChaosProcess> replicas = new ArrayList<>();
      int started = 0;
      for (; started < 2; started++) {
        ChaosProcess p = ChaosProcess.start(logDir, "replica-" + started, args);
        replicas.add(p);
        logs.add(p.log);
      }
      Thread burst = new Thread(() -> {
        for (int i = 0; i < claimCount; i++) {
          Chaos.claim(api.client, "team" + (i % 3), "data-" + i, "cinder");
          try {
            Thread.sleep(250); // the burst goes on through the kills
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "claim-burst");
      burst.start();
      try {
        for (int k = 0; k < leaderKills; k++) {
          // Five more Bound under this leader; or all of them, if the burst is done and provisioned before that
          // (a standby with warm caches takes over within a lease duration: it may find little left to do).
          int boundBefore = Chaos.countBound(api);
          await().atMost(Duration.ofSeconds(90)).until(() -> Chaos.countBound(api) >= Math.min(boundBefore + 5,
              claimCount));
          String holder = Chaos.leaseHolder(api);
          ChaosProcess leader = null;
          for (ChaosProcess p : replicas) {
            if (p.isAlive() && p.output().contains("as " + holder)) {
              leader = p;
            }
          }
          assertThat(leader).as("the Lease holder %s is one of the replicas", holder).isNotNull();
          leader.kill();
          log.info("killed leader {} (kill {})", holder, k + 1);
          replicas.remove(leader);
          ChaosProcess p = ChaosProcess.start(logDir, "replica-" + started++, args);
          replicas.add(p);
          logs.add(p.log);
          await().atMost(Duration.ofSeconds(60)).until(() -> !holder.equals(Chaos.leaseHolder(api)));
        }
        burst.join();
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() ->
            Chaos.countBound(api) == claimCount && Chaos.live(sim).size() == claimCount);
        Thread.sleep(3000);
        Map<String, Long> byName = sim.volumes().stream()
            .collect(Collectors.groupingBy(SimVolume::name, Collectors.counting()));
        assertThat(byName.values()).as("no duplicate volume").allMatch(n -> n == 1);
        assertThat(sim.volumes()).hasSize(claimCount);
        Chaos.awaitNothingLost(api.client, sim);
        var secrets = new java.util.LinkedHashSet<>(Chaos.secretValues(api.client));
        secrets.add(Chaos.KEYSTONE_PASSWORD);
        secrets.add(ChaosApiServer.TOKEN);
        Chaos.assertNoSecretsIn(logs, secrets);
        System.out.println("chaos leader: " + leaderKills + " leader kills, " + claimCount + " claims, 0 duplicates");
      } finally {
        burst.interrupt();
        replicas.forEach(ChaosProcess::close);
      }
    }
  }
}
