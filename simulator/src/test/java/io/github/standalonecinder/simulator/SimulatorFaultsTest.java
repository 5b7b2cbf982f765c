package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimulatorFaultsTest {
  static CinderSimulator sim;
  SimClient c;

  @BeforeAll
  static void start() {
    sim = CinderSimulator.builder().createDelay(Duration.ofMillis(30)).start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @BeforeEach
  void reset() {
    sim.faults().reset();
    sim.resetRequestCounts();
    c = new SimClient(sim.endpoint(), sim.noauthToken());
  }

  @Test
  void failNextBurstThenRecovers() {
    sim.faults().failNext(2, "POST", "/volumes$", 503);
    SimClient.Res first = c.post("/volumes", Map.of("volume", Map.of("size", 1)));
    assertThat(first.status()).isEqualTo(503);
    assertThat(first.json().path("serviceUnavailable").path("code").asInt()).isEqualTo(503);
    assertThat(c.post("/volumes", Map.of("volume", Map.of("size", 1))).status()).isEqualTo(503);
    assertThat(c.get("/volumes").status()).as("other requests unaffected").isEqualTo(200);
    assertThat(c.post("/volumes", Map.of("volume", Map.of("size", 1))).status()).isEqualTo(202);
    assertThat(sim.faults().injectedCount()).isEqualTo(2);
    assertThat(sim.requestCount("POST /volumes")).isEqualTo(3);
  }

  @Test
  void overLimitAnd429CarryRetryAfter() {
    sim.faults().failNext(1, "GET", "/volumes", 413, null, 7).failNext(1, "*", "/volumes", 429, null, 3);
    SimClient.Res over = c.get("/volumes/detail");
    assertThat(over.status()).isEqualTo(413);
    assertThat(over.header("Retry-After")).isEqualTo("7");
    assertThat(over.json().path("overLimit").path("retryAfter").asText()).isEqualTo("7");
    SimClient.Res tooMany = c.get("/volumes/detail");
    assertThat(tooMany.status()).isEqualTo(429);
    assertThat(tooMany.header("Retry-After")).isEqualTo("3");
    sim.faults().failNext(1, null, "/types", 500, "{\"custom\": true}");
    SimClient.Res custom = c.get("/types");
    assertThat(custom.status()).isEqualTo(500);
    assertThat(custom.json().path("custom").asBoolean()).isTrue();
  }

  @Test
  void actionSpecificFaultsMatchTheActionName() {
    String id = c.createVolume("act", 1);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(id).equals("available"));
    sim.faults().failNext(1, "POST", "os-initialize_connection", 500);
    assertThat(c.action(id, "os-reserve", Map.of()).status()).isEqualTo(202);
    assertThat(c.action(id, "os-initialize_connection", Map.of("connector", Map.of("host", "h"))).status())
        .isEqualTo(500);
    assertThat(c.action(id, "os-initialize_connection", Map.of("connector", Map.of("host", "h"))).status())
        .isEqualTo(200);
    assertThat(sim.requestCounts()).containsEntry("POST /volumes/{id}/action os-initialize_connection", 2L)
        .containsEntry("POST /volumes/{id}/action os-reserve", 1L);
  }

  @Test
  void delayNextTriggersClientTimeouts() {
    sim.faults().delayNext(1, "GET", "/volumes/detail", Duration.ofMillis(800));
    c.timeout = Duration.ofMillis(200);
    assertThatThrownBy(() -> c.get("/volumes/detail")).hasRootCauseInstanceOf(HttpTimeoutException.class);
    assertThat(c.get("/volumes/detail").status()).isEqualTo(200);
    assertThat(sim.faults().injectedCount()).isEqualTo(1);
  }

  @Test
  void volumeFates() {
    sim.faults().volumesNamed("pvc-bad-.*").endIn("error").volumesNamed("pvc-stuck").stayIn("creating");
    String bad = c.createVolume("pvc-bad-1", 1);
    String stuck = c.createVolume("pvc-stuck", 1);
    String good = c.createVolume("pvc-good", 1);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(bad).equals("error")
        && c.status(good).equals("available"));
    sleep(100);
    assertThat(c.status(stuck)).isEqualTo("creating");
    assertThat(sim.statusHistory(bad)).containsExactly("creating", "error");
    assertThat(sim.faults().injectedCount()).isEqualTo(2);
    sim.faults().setVolumeStatus(good, "error");
    assertThat(c.status(good)).isEqualTo("error");
    assertThat(sim.faults().injectedCount()).isEqualTo(3);
  }

  @Test
  void unreachableKeepsStateAndComesBackOnSamePort() {
    String id = c.createVolume("survivor", 1);
    int port = sim.port();
    sim.faults().unreachable(true);
    assertThatThrownBy(() -> c.get("/volumes/" + id)).hasCauseInstanceOf(java.net.ConnectException.class);
    sim.faults().unreachable(false);
    assertThat(sim.port()).isEqualTo(port);
    assertThat(c.get("/volumes/" + id).status()).isEqualTo(200);
    assertThat(sim.faults().injectedCount()).isEqualTo(1);
  }

  @Test
  void concurrentCreatesAreAllServed() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int n = i;
        results.add(pool.submit(() -> c.post("/volumes", Map.of("volume", Map.of("name", "bench-" + n, "size", 1)))
            .status()));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get()).isEqualTo(202);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(sim.requestCount("POST /volumes")).isEqualTo(200);
    assertThat(sim.volumes().stream().filter(v -> v.name() != null && v.name().startsWith("bench-")).count())
        .isEqualTo(200);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
