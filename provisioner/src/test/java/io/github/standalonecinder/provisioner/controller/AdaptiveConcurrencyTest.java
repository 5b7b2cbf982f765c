package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.simulator.BackendCapacity;
import io.github.standalonecinder.simulator.CinderSimulator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A burst against a Cinder that works on 4 volumes at once and queues 4 more, with a worker ceiling far above
 * that: the adaptive limit (wired in every cloud's scope) keeps the controller from overloading it and still fills
 * its capacity. The same burst paced by 32 workers alone was refused 104-126 times (docs/benchmarks.md).
 */
@EnableKubernetesMockClient(crud = true)
class AdaptiveConcurrencyTest {
  static KubernetesClient client;
  static final int CLAIMS = 40;
  static final int WORKERS = 32;
  static final BackendCapacity CAPACITY = BackendCapacity.of(4, 4);

  private CinderSimulator sim;
  private ControllerHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  /** Provisions and deletes {@link #CLAIMS} claims at once; returns the backend's stats of the whole run. */
  private BackendCapacity.Stats burst(String ns) throws Exception {
    sim = CinderSimulator.builder().createDelay(Duration.ofMillis(500)).deleteDelay(Duration.ofMillis(500))
        .capacity(CAPACITY).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim),
        s -> s.withWorkers(WORKERS).withAvailableTimeout(Duration.ofSeconds(60)));
    h.storageClass("std", Map.of(), "Delete", "Immediate");
    long t0 = System.nanoTime();
    List<PersistentVolumeClaim> claims = new ArrayList<>();
    for (int i = 0; i < CLAIMS; i++) {
      claims.add(h.claim(ns, "c" + i, "std", "1Gi", b -> b));
    }
    for (PersistentVolumeClaim c : claims) {
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        PersistentVolumeClaim now = h.get(c);
        return now.getStatus() != null && "Bound".equals(now.getStatus().getPhase());
      });
    }
    long t1 = System.nanoTime();
    claims.forEach(h::deleteClaim);
    await().atMost(Duration.ofSeconds(120)).until(() -> sim.volumes().isEmpty());
    // for the reader of the test's output, not asserted: times on a shared machine are not a test
    System.out.printf("%s: all Bound %d ms, all deleted %d ms, %s, Cinder calls %s%n", ns,
        (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000, sim.capacityStats(), sim.requestCounts());
    return sim.capacityStats();
  }

  @Test
  void theLimitKeepsABurstWithinWhatCinderServesAndUsesAllOfIt() throws Exception {
    BackendCapacity.Stats limited = burst("adaptive");
    assertThat(limited.peakRunning()).as("every slot of the backend was used").isEqualTo(CAPACITY.concurrent());
    assertThat(limited.refused()).as("creates and deletes refused as overload, of %d of each", CLAIMS)
        .isLessThanOrEqualTo(CLAIMS / 2);
    double limit = h.registry.find("standalone_cinder_cinder_operations_limit").tag("cloud", "default").gauge()
        .value();
    assertThat(limit).isBetween(1.0, (double) WORKERS);
    await().atMost(Duration.ofSeconds(15)).until(() -> h.registry.find(
        "standalone_cinder_cinder_operations_in_flight").tag("cloud", "default").gauge().value() == 0.0);
  }
}
