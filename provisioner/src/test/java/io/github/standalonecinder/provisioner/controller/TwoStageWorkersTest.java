package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TwoStageWorkersTest {
  private final WorkQueue<String> queue = new WorkQueue<>(Duration.ofMillis(50), Duration.ofSeconds(1));
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final CountDownLatch releaseSaves = new CountDownLatch(1);
  private TwoStageWorkers<String> workers;

  @AfterEach
  void tearDown() {
    releaseSaves.countDown();
    if (workers != null) {
      workers.close();
    }
    queue.close();
  }

  /** First stage logs "first k"; keys starting with "save" hand back a second stage held until releaseSaves. */
  private void start(int slots) {
    workers = new TwoStageWorkers<>(queue, slots, "test-worker-", key -> {
      log.add("first " + key);
      if (!key.startsWith("save")) {
        return null;
      }
      return () -> {
        log.add("second " + key);
        releaseSaves.await();
        log.add("saved " + key);
      };
    });
    workers.start();
  }

  @Test
  void aKeyInItsSecondStageGivesItsSlotToTheNextKey() {
    start(1);
    queue.add("save-a");
    await().until(() -> log.contains("second save-a"));
    queue.add("b");
    await().until(() -> log.contains("first b"));
    assertThat(log).as("b ran while a's save was still waiting").doesNotContain("saved save-a");
    assertThat(queue.isIdle()).as("save-a is in flight until its second stage ends").isFalse();

    queue.add("save-a");
    releaseSaves.countDown();
    await().until(queue::isIdle);
    assertThat(log).as("a key added during its save runs again only after it").containsSubsequence(
        "saved save-a", "first save-a");
  }

  @Test
  void secondStagesFallingBehindHoldTheFirstStagesBack() throws InterruptedException {
    start(1);
    queue.add("save-a");
    await().until(() -> log.contains("second save-a"));
    queue.add("save-b"); // its first stage ends, then it waits for a second-stage slot, keeping its first one
    await().until(() -> log.contains("first save-b"));
    queue.add("c");
    Thread.sleep(300);
    assertThat(log).doesNotContain("first c", "second save-b");

    releaseSaves.countDown();
    await().until(queue::isIdle);
    assertThat(log).containsSubsequence("saved save-a", "second save-b").contains("first c");
  }

  @Test
  void aFailingStageRequeuesItsKeyWithBackoff() {
    workers = new TwoStageWorkers<>(queue, 2, "test-worker-", key -> {
      log.add("first " + key);
      return () -> {
        if (log.stream().filter(("first " + key)::equals).count() == 1) {
          throw new IllegalStateException("API server said no");
        }
        log.add("saved " + key);
      };
    });
    workers.start();
    queue.add("a");
    await().until(() -> log.contains("saved a"));
    await().until(queue::isIdle);
    assertThat(log).containsExactly("first a", "first a", "saved a");
    assertThat(queue.failures("a")).isEqualTo(1);
  }

  @Test
  void aliveOnlyWhileTheDispatcherHandsOutKeys() {
    workers = new TwoStageWorkers<>(queue, 1, "test-worker-", key -> null);
    assertThat(workers.alive()).as("not started").isFalse();
    workers.start();
    assertThat(workers.alive()).isTrue();
    // The queue shut down under it (as a fatal error would end it): the dispatcher ends, and says so.
    queue.close();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !workers.alive());
  }

  @Test
  void threadsAreMadeOnDemandAndClosingInterruptsTheirWork() {
    start(4);
    assertThat(workers.threadCount()).as("none before there is work").isZero();
    for (String k : List.of("save-a", "save-b", "save-c")) {
      queue.add(k);
    }
    await().until(() -> log.stream().filter(l -> l.startsWith("second")).count() == 3);
    assertThat(workers.threadCount()).isEqualTo(3);
    workers.close();
    await().until(() -> workers.threadCount() == 0);
    assertThat(log).noneMatch(l -> l.startsWith("saved"));
  }
}
