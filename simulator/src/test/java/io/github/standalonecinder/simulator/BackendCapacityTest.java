package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.simulator.BackendCapacity.Admission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendCapacityTest {

  @Test
  void startsWhileSlotsAreFreeThenQueuesThenRefuses() {
    assertThat(BackendCapacity.admit(0, 0, 2, 1)).isEqualTo(Admission.START);
    assertThat(BackendCapacity.admit(1, 0, 2, 1)).isEqualTo(Admission.START);
    assertThat(BackendCapacity.admit(2, 0, 2, 1)).isEqualTo(Admission.QUEUE);
    assertThat(BackendCapacity.admit(2, 1, 2, 1)).isEqualTo(Admission.REFUSE);
    assertThat(BackendCapacity.admit(2, 0, 2, 0)).as("no queue").isEqualTo(Admission.REFUSE);
    assertThat(BackendCapacity.admit(1_000_000, 0, BackendCapacity.UNLIMITED.concurrent(),
        BackendCapacity.UNLIMITED.queue())).isEqualTo(Admission.START);
  }

  @Test
  void refusalCarriesTheStatusAndRetryAfter() {
    ApiException e503 = BackendCapacity.of(1, 0).refusal();
    assertThat(e503.status).isEqualTo(503);
    assertThat(e503.headers).containsEntry("Retry-After", "1");
    ApiException e429 = BackendCapacity.of(1, 0).refusingWith(429, Duration.ofMillis(2500)).refusal();
    assertThat(e429.status).isEqualTo(429);
    assertThat(e429.headers).containsEntry("Retry-After", "3");
    ApiException e413 = BackendCapacity.of(1, 0).refusingWith(413, Duration.ofSeconds(2)).refusal();
    assertThat(e413.faultBody().toString()).contains("overLimit").contains("retryAfter=2");
    assertThatThrownBy(() -> BackendCapacity.of(1, 0).refusingWith(500, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aFinishedOperationHandsItsSlotToTheFirstWaiting() {
    List<Runnable> scheduled = new ArrayList<>();
    List<String> done = new ArrayList<>();
    BackendCapacity.Slots slots = new BackendCapacity.Slots(BackendCapacity.of(1, 2),
        (task, delay) -> scheduled.add(task));
    slots.submit(Duration.ofSeconds(1), () -> done.add("a"));
    slots.submit(Duration.ofSeconds(1), () -> done.add("b"));
    slots.submit(Duration.ofSeconds(1), () -> done.add("c"));
    assertThat(scheduled).as("only the first is worked on").hasSize(1);
    assertThat(slots.stats()).isEqualTo(new BackendCapacity.Stats(1, 2, 1, 3, 0));
    assertThatThrownBy(() -> slots.submit(Duration.ofSeconds(1), () -> done.add("d")))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status).isEqualTo(503));
    scheduled.remove(0).run();
    assertThat(done).containsExactly("a");
    assertThat(scheduled).as("b took a's slot").hasSize(1);
    scheduled.remove(0).run();
    scheduled.remove(0).run();
    assertThat(done).containsExactly("a", "b", "c");
    assertThat(scheduled).isEmpty();
    assertThat(slots.stats()).isEqualTo(new BackendCapacity.Stats(0, 0, 1, 3, 1));
    slots.resetPeaks();
    assertThat(slots.stats()).isEqualTo(new BackendCapacity.Stats(0, 0, 0, 0, 0));
  }

  @Test
  void aFailingCompletionStillFreesItsSlot() {
    List<Runnable> scheduled = new ArrayList<>();
    BackendCapacity.Slots slots = new BackendCapacity.Slots(BackendCapacity.of(1, 0),
        (task, delay) -> scheduled.add(task));
    slots.submit(Duration.ZERO, () -> {
      throw new IllegalStateException("boom");
    });
    assertThatThrownBy(() -> scheduled.remove(0).run()).isInstanceOf(IllegalStateException.class);
    slots.submit(Duration.ZERO, () -> { });
    assertThat(slots.stats().refused()).isZero();
  }

  @Test
  void anOverloadedSimulatorRefusesACreateBeyondItsQueueAndMakesNothing() {
    // volumes that take a minute: nothing finishes while the test looks (the hand-off is tested above)
    try (CinderSimulator sim = CinderSimulator.builder().createDelay(Duration.ofMinutes(1))
        .capacity(BackendCapacity.of(1, 1)).start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      String a = c.createVolume("a", 1);
      String b = c.createVolume("b", 1);
      SimClient.Res refused = c.post("/volumes", Map.of("volume", Map.of("name", "c", "size", 1)));
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refused.json().path("serviceUnavailable").path("code").asInt()).isEqualTo(503);
      assertThat(sim.volumes()).extracting(SimVolume::name).containsExactlyInAnyOrder("a", "b");
      assertThat(c.status(a)).isEqualTo("creating");
      assertThat(c.status(b)).as("queued: creating too, as a cast waiting in RabbitMQ").isEqualTo("creating");
      assertThat(sim.capacityStats()).isEqualTo(new BackendCapacity.Stats(1, 1, 1, 2, 1));
    }
  }

  @Test
  void refusedDeleteLeavesTheVolumeAsItWas() {
    try (CinderSimulator sim = CinderSimulator.builder().createDelay(Duration.ofMillis(50))
        .deleteDelay(Duration.ofSeconds(30)).capacity(BackendCapacity.of(1, 0)
            .refusingWith(429, Duration.ofSeconds(2))).start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      String a = c.createVolume("a", 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(c.status(a)));
      String b = c.createVolume("b", 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(c.status(b)));
      assertThat(c.delete("/volumes/" + a).status()).isEqualTo(202);
      SimClient.Res refused = c.delete("/volumes/" + b);
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.header("Retry-After")).isEqualTo("2");
      assertThat(c.status(b)).isEqualTo("available");
      assertThat(sim.statusHistory(b)).containsExactly("creating", "available");
    }
  }

  @Test
  void unlimitedByDefault() {
    try (CinderSimulator sim = CinderSimulator.builder().createDelay(Duration.ofSeconds(30)).start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      for (int i = 0; i < 50; i++) {
        c.createVolume("v" + i, 1);
      }
      assertThat(sim.capacity()).isSameAs(BackendCapacity.UNLIMITED);
      assertThat(sim.capacityStats()).isEqualTo(new BackendCapacity.Stats(50, 0, 50, 50, 0));
    }
  }
}
