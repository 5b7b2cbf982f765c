package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cinder faults against the jar, one after the other on one provisioner process: 5xx bursts, read timeouts, 413
 * quota, 413 overLimit and 429 with Retry-After, a volume ending in error, one stuck in creating, Cinder
 * unreachable for a while (15 s; a full minute with {@code -Dchaos.soak=true}). After each: the claim Bound (or,
 * for the stuck one, deleted with nothing left), one volume per claim, the expected Event.
 */
class ChaosCinderFaultsTest {
  private static final Logger log = LoggerFactory.getLogger(ChaosCinderFaultsTest.class);
  static final Map<String, Long> INJECTED = new LinkedHashMap<>();

  @TempDir
  Path dir;

  private CinderSimulator sim;
  private ChaosApiServer api;
  private int n;

  private PersistentVolumeClaim claim() {
    return Chaos.claim(api.client, "apps", "c" + (n++), "cinder");
  }

  private PersistentVolumeClaim awaitBound(PersistentVolumeClaim c, Duration within) {
    await().atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> Chaos.bound(get(c)));
    return get(c);
  }

  private PersistentVolumeClaim get(PersistentVolumeClaim c) {
    return api.client.persistentVolumeClaims().inNamespace("apps").withName(c.getMetadata().getName()).get();
  }

  private List<Event> events(PersistentVolumeClaim c, String reason) {
    return api.client.events().v1().events().inNamespace("apps").list().getItems().stream()
        .filter(e -> e.getRegarding() != null && c.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .filter(e -> reason.equals(e.getReason())).toList();
  }

  private Event awaitEvent(PersistentVolumeClaim c, String reason, String containing) {
    await().atMost(Duration.ofSeconds(60)).until(() -> events(c, reason).stream()
        .anyMatch(e -> e.getNote() != null && e.getNote().contains(containing)));
    return events(c, reason).stream().filter(e -> e.getNote().contains(containing)).findFirst().orElseThrow();
  }

  private List<SimVolume> volumesOf(PersistentVolumeClaim c) {
    return sim.volumes().stream().filter(v -> v.name().equals("pvc-" + c.getMetadata().getUid())).toList();
  }

  private void done(String kind) {
    INJECTED.merge(kind, sim.faults().injectedCount(), Long::sum);
    sim.faults().reset();
  }

  private Optional<Instant> createdAt(PersistentVolumeClaim c) {
    return volumesOf(c).stream().map(SimVolume::createdAt).filter(java.util.Objects::nonNull).findFirst();
  }

  @Test
  void cinderFaultsAreSurvivedAndReported() throws Exception {
    Path logDir = Chaos.logDir("faults");
    Duration outage = Chaos.SOAK ? Duration.ofMinutes(1) : Duration.ofSeconds(15);
    List<Path> logs = new ArrayList<>();
    try (CinderSimulator s = Chaos.keystoneSim().createDelay(Duration.ofMillis(200)).start();
        ChaosApiServer a = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(a.client).start()) {
      sim = s;
      api = a;
      Chaos.storageClass(api.client, "cinder");
      ChaosProcess p = ChaosProcess.start(logDir, "faults", List.of("run", "--kubeconfig", api.kubeconfig.toString(),
          "--cloud-config", Chaos.cloudConfig(dir, sim).toString(), "--no-leader-elect", "--namespace",
          Chaos.NAMESPACE, "--metrics-address", "", "--available-timeout", "4s", "--cinder-read-timeout", "2s",
          "--cinder-connect-timeout", "2s", "--connector-initiator", "iqn.2004-10.com.example:faults"));
      logs.add(p.log);
      try (p) {
        // Warm-up: the provisioner works.
        awaitBound(claim(), Duration.ofSeconds(90));

        // A 5xx burst hitting several claims at once: on create, on reads and on the export.
        sim.faults().failNext(6, "POST", "/volumes$", 503).failNext(2, "GET", "/volumes/[0-9a-f-]+$", 500)
            .failNext(2, "POST", "/attachments$", 502);
        List<PersistentVolumeClaim> burst = List.of(claim(), claim(), claim(), claim());
        for (PersistentVolumeClaim c : burst) {
          awaitBound(c, Duration.ofSeconds(120));
          assertThat(volumesOf(c)).hasSize(1);
        }
        assertThat(sim.faults().injectedCount()).as("the create failures were all served").isGreaterThanOrEqualTo(6);
        done("5xx");

        // Read timeouts: Cinder answers after the provisioner gave up waiting — on a read and on the create itself
        // (which Cinder then carries out: the retry must not leave a second volume behind).
        sim.faults().delayNext(2, "GET", "/volumes/[0-9a-f-]+$", Duration.ofSeconds(4))
            .delayNext(1, "POST", "/volumes$", Duration.ofSeconds(4));
        PersistentVolumeClaim cTimeout = awaitBound(claim(), Duration.ofSeconds(90));
        Thread.sleep(5000); // the delayed create lands now
        await().atMost(Duration.ofSeconds(60)).until(() -> Chaos.live(sim).stream()
            .filter(v -> v.name().equals("pvc-" + cTimeout.getMetadata().getUid())).count() == 1);
        done("read timeout");

        // 413 quota: an Event saying quota, backoff, then it goes through once the quota frees up.
        sim.faults().failNext(3, "POST", "/volumes$", 413, "{\"overLimit\": {\"code\": 413, \"message\": "
            + "\"VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota 'volumes'.\"}}");
        PersistentVolumeClaim cQuota = claim();
        Event quota = awaitEvent(cQuota, "ProvisioningFailed", "quota");
        assertThat(quota.getType()).isEqualTo("Warning");
        assertThat(quota.getNote()).contains("Cinder quota exceeded");
        awaitBound(cQuota, Duration.ofSeconds(90));
        done("413 quota");

        // 413 overLimit and 429, each with Retry-After: 4 s: the retry does not come sooner.
        for (int status : new int[] {413, 429}) {
          sim.faults().failNext(1, "POST", "/volumes$", status, null, 4);
          Instant t0 = Instant.now();
          PersistentVolumeClaim c = claim();
          Event limited = awaitEvent(c, "ProvisioningFailed", "rate limit");
          assertThat(limited.getNote()).contains("HTTP " + status);
          // The backoff is shared: a claim that arrives now, on another worker, waits for the same Retry-After.
          PersistentVolumeClaim other = claim();
          awaitBound(c, Duration.ofSeconds(90));
          awaitBound(other, Duration.ofSeconds(90));
          assertThat(createdAt(c)).isPresent();
          assertThat(Duration.between(t0, createdAt(c).get())).as("Retry-After respected on " + status)
              .isGreaterThanOrEqualTo(Duration.ofMillis(3900));
          assertThat(Duration.between(t0, createdAt(other).orElseThrow())).as("every worker waits on " + status)
              .isGreaterThanOrEqualTo(Duration.ofMillis(3900));
          System.out.printf("chaos cinder faults: HTTP %d with Retry-After 4 s: the refused claim's volume made "
              + "after %d ms, the next claim's (another worker) after %d ms%n", status,
              Duration.between(t0, createdAt(c).get()).toMillis(),
              Duration.between(t0, createdAt(other).get()).toMillis());
          done(status + " Retry-After");
        }

        // A volume ending in error: deleted, a new one made.
        sim.faults().volumesNamed("pvc-.*").endIn("error");
        PersistentVolumeClaim cError = claim();
        awaitEvent(cError, "ProvisioningFailed", "went to status error");
        done("volume in error");
        awaitBound(cError, Duration.ofSeconds(90));
        await().atMost(Duration.ofSeconds(30)).until(() -> volumesOf(cError).size() == 1);

        // A volume stuck in creating: the deadline, an Event, and deleting the claim leaves nothing behind.
        sim.faults().volumesNamed("pvc-.*").stayIn("creating");
        PersistentVolumeClaim cStuck = claim();
        // The claim's one Event shows the latest note: the attempt's deadline ("is still creating after 4s"), or,
        // once the volume is older than the timeout, its replacement ("was stuck in creating for more than 4 s").
        awaitEvent(cStuck, "ProvisioningFailed", "creating");
        api.client.persistentVolumeClaims().inNamespace("apps").withName(cStuck.getMetadata().getName()).delete();
        await().atMost(Duration.ofSeconds(90)).until(() -> get(cStuck) == null && volumesOf(cStuck).isEmpty());
        done("stuck in creating");

        // Cinder (and Keystone) unreachable: claims made meanwhile are provisioned once it is back, by itself.
        sim.faults().unreachable(true);
        List<PersistentVolumeClaim> during = List.of(claim(), claim(), claim());
        awaitEvent(during.get(0), "ProvisioningFailed", "nreachable");
        Thread.sleep(outage.toMillis());
        assertThat(during).allMatch(c -> !Chaos.bound(get(c)));
        INJECTED.merge("unreachable " + outage.toSeconds() + "s", sim.faults().injectedCount(), Long::sum);
        sim.faults().unreachable(false);
        for (PersistentVolumeClaim c : during) {
          awaitBound(c, Duration.ofMinutes(6));
        }
        sim.faults().reset();

        Chaos.awaitNothingLost(api.client, sim);
        assertThat(p.isAlive()).isTrue();
        var secrets = new java.util.LinkedHashSet<>(Chaos.secretValues(api.client));
        secrets.add(Chaos.KEYSTONE_PASSWORD);
        secrets.add(ChaosApiServer.TOKEN);
        Chaos.assertNoSecretsIn(logs, secrets);
        log.info("chaos Cinder faults injected: {}", INJECTED);
        System.out.println("chaos Cinder faults injected: " + INJECTED);
      }
    }
  }
}
