package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash campaign: a burst of claims (some deleted again while being provisioned) while the provisioner process is
 * killed with kill -9 at seeded random points (a quarter during start-up, the rest up to 1.5 s after the workers
 * started) and restarted at once; then the invariants, then every claim is
 * deleted and Cinder and the Secrets must end empty. Seed: {@code -Dchaos.seed=N} (logged); soak mode
 * ({@code -Dchaos.soak=true}) runs 600 claims and 80 kills.
 */
class ChaosCrashTest {
  private static final Logger log = LoggerFactory.getLogger(ChaosCrashTest.class);
  static final AtomicInteger KILLS = new AtomicInteger();

  @TempDir
  Path dir;

  @Test
  void killNineDuringABurstLosesNothing() throws Exception {
    Path logDir = Chaos.logDir("crash");
    long seed = Long.getLong("chaos.seed", System.nanoTime() % 100_000);
    int claimCount = Chaos.SOAK ? 600 : 200;
    int kills = Chaos.SOAK ? 80 : 20;
    int deletedMidway = claimCount / 10;
    log.info("chaos crash campaign: seed {} (rerun with -Dchaos.seed={}), {} claims, {} kills", seed, seed,
        claimCount, kills);
    System.out.println("chaos crash campaign seed " + seed);
    Random rnd = new Random(seed);
    List<Path> logs = new ArrayList<>();
    try (CinderSimulator sim = Chaos.keystoneSim().createDelay(Duration.ofMillis(300))
            .deleteDelay(Duration.ofMillis(100)).quota(10_000, 100_000).seed(seed).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).relistEvery(Duration.ofSeconds(5))
            .start()) {
      Path conf = Chaos.cloudConfig(dir, sim);
      List<String> args = List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config",
          conf.toString(), "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address", "",
          "--workers", "8", "--available-timeout", "20s", "--resync-period", "20s", "--connector-initiator",
          "iqn.2004-10.com.example:chaos");
      Chaos.storageClass(api.client, "cinder");

      // The burst: claims created by one thread, a tenth deleted again at random while provisioning runs.
      List<PersistentVolumeClaim> created = new CopyOnWriteArrayList<>();
      Set<String> deleted = Collections.synchronizedSet(new LinkedHashSet<>());
      Random burstRnd = new Random(seed + 1);
      Thread burst = new Thread(() -> {
        for (int i = 0; i < claimCount; i++) {
          String ns = "team" + (i % 4);
          created.add(Chaos.claim(api.client, ns, "data-" + i, "cinder"));
          if (i > 10 && deleted.size() < deletedMidway && burstRnd.nextInt(10) == 0) {
            PersistentVolumeClaim victim = created.get(burstRnd.nextInt(created.size()));
            if (deleted.add(victim.getMetadata().getNamespace() + "/" + victim.getMetadata().getName())) {
              api.client.persistentVolumeClaims().inNamespace(victim.getMetadata().getNamespace())
                  .withName(victim.getMetadata().getName()).delete();
            }
          }
          sleep(Chaos.SOAK ? 40 : 60);
        }
      }, "claim-burst");
      burst.start();

      ChaosProcess p = ChaosProcess.start(logDir, "crash-0", args);
      logs.add(p.log);
      int midWork = 0;
      for (int k = 1; k <= kills; k++) {
        if (rnd.nextInt(4) == 0) {
          // A quarter of the kills land during start-up (informers filling, first claims picked up).
          Thread.sleep(100 + rnd.nextInt(1400));
        } else {
          // The rest while the controller is working: up to 1.5 s after its workers started.
          ChaosProcess current = p;
          await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
              .until(() -> current.output().contains("started with"));
          Thread.sleep(rnd.nextInt(1500));
        }
        p.kill();
        KILLS.incrementAndGet();
        if (p.output().contains("started with")) {
          midWork++;
        }
        p = ChaosProcess.start(logDir, "crash-" + k, args);
        logs.add(p.log);
      }
      burst.join();
      try (ChaosProcess last = p) {
        // untilAsserted: a timeout names what is still wrong (which claim, which volume), not just "false".
        await().atMost(Duration.ofMinutes(Chaos.SOAK ? 15 : 4)).pollInterval(Duration.ofSeconds(1))
            .untilAsserted(() -> {
              assertThat(api.client.persistentVolumeClaims().inAnyNamespace().list().getItems().size())
                  .as("claims left").isEqualTo(claimCount - deleted.size());
              Chaos.assertNothingLost(api.client, sim);
            });
        // Settle: nothing changes any more, then the invariants on everything.
        Thread.sleep(2000);
        Chaos.assertNothingLost(api.client, sim);
        assertThat(api.client.persistentVolumeClaims().inAnyNamespace().list().getItems())
            .hasSize(claimCount - deleted.size());
        Set<String> secrets = new LinkedHashSet<>(Chaos.secretValues(api.client));
        assertThat(secrets).as("CHAP credentials were made").isNotEmpty();

        // Delete everything: Cinder and the Secrets end empty.
        for (PersistentVolumeClaim c : api.client.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
          api.client.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace())
              .withName(c.getMetadata().getName()).delete();
        }
        await().atMost(Duration.ofMinutes(Chaos.SOAK ? 15 : 4)).pollInterval(Duration.ofSeconds(1))
            .untilAsserted(() -> {
              assertThat(sim.volumes()).extracting(v -> v.name() + " " + v.status()).as("Cinder volumes left")
                  .isEmpty();
              assertThat(api.client.persistentVolumes().list().getItems()).extracting(o -> o.getMetadata().getName())
                  .as("PVs left").isEmpty();
              assertThat(api.client.secrets().inAnyNamespace().list().getItems())
                  .extracting(o -> o.getMetadata().getName()).as("Secrets left").isEmpty();
              assertThat(api.client.persistentVolumeClaims().inAnyNamespace().list().getItems())
                  .extracting(o -> o.getMetadata().getName()).as("claims left").isEmpty();
            });
        assertThat(last.isAlive()).isTrue();
        secrets.add(Chaos.KEYSTONE_PASSWORD);
        secrets.add(ChaosApiServer.TOKEN);
        long lines = Chaos.assertNoSecretsIn(logs, secrets);
        log.info("chaos crash campaign: seed {}, {} kills survived, {} claims, {} deleted mid-provisioning, {} log "
            + "lines scanned for {} secret values, 0 items lost", seed, kills, claimCount, deleted.size(), lines,
            secrets.size());
        System.out.println("chaos crash campaign: seed " + seed + ", kills " + kills + ", claims " + claimCount
            + " (" + midWork + " after the workers started), deleted mid-provisioning " + deleted.size() + ", log lines scanned " + lines + ", lost 0");
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
