package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WorkQueueTest {

  @Test
  void deduplicatesQueuedKeys() throws InterruptedException {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      q.add("a");
      q.add("a");
      q.add("b");
      assertThat(q.size()).isEqualTo(2);
      assertThat(q.take()).isEqualTo("a");
      assertThat(q.take()).isEqualTo("b");
    }
  }

  @Test
  void keyAddedWhileInFlightIsRequeuedOnlyAfterDone() throws InterruptedException {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      q.add("a");
      assertThat(q.take()).isEqualTo("a");
      q.add("a");
      assertThat(q.size()).as("never handed to two workers at once").isZero();
      q.done("a");
      assertThat(q.size()).isEqualTo(1);
      assertThat(q.isIdle()).isFalse();
    }
  }

  @Test
  void backoffDoublesFromBaseAndIsCapped() {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofSeconds(1), Duration.ofMinutes(5))) {
      assertThat(q.backoff(0)).isEqualTo(Duration.ofSeconds(1));
      assertThat(q.backoff(1)).isEqualTo(Duration.ofSeconds(2));
      assertThat(q.backoff(8)).isEqualTo(Duration.ofSeconds(256));
      assertThat(q.backoff(9)).isEqualTo(Duration.ofMinutes(5));
      assertThat(q.backoff(200)).isEqualTo(Duration.ofMinutes(5));
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.SECONDS)
  void aKeyAddedNotBeforeADelayIsNotBroughtForwardAndCountsNoFailure() throws InterruptedException {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1))) {
      q.add("a");
      assertThat(q.take()).isEqualTo("a");
      q.addNotBefore("a", Duration.ofMillis(300));
      q.done("a");
      q.add("a"); // an event for the object meanwhile
      assertThat(q.size()).as("not before its time").isZero();
      long start = System.nanoTime();
      assertThat(q.take()).isEqualTo("a");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(200));
      assertThat(q.failures("a")).isZero();
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.SECONDS)
  void rateLimitedAddGrowsPerKeyAndHonoursRetryAfter() throws InterruptedException {
    try (WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(20), Duration.ofSeconds(10))) {
      assertThat(q.addRateLimited("a", null)).isEqualTo(Duration.ofMillis(20));
      assertThat(q.take()).isEqualTo("a");
      q.done("a");
      assertThat(q.addRateLimited("a", null)).isEqualTo(Duration.ofMillis(40));
      assertThat(q.addRateLimited("b", Duration.ofMillis(300))).as("Retry-After wins when longer")
          .isEqualTo(Duration.ofMillis(300));
      q.forget("a");
      assertThat(q.failures("a")).isZero();
      assertThat(q.take()).isEqualTo("a");
      long t0 = System.nanoTime();
      assertThat(q.take()).isEqualTo("b");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(150));
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.SECONDS)
  void closeReleasesBlockedWorkers() throws InterruptedException {
    WorkQueue<String> q = new WorkQueue<>(Duration.ofMillis(10), Duration.ofSeconds(1));
    Thread t = new Thread(() -> {
      try {
        assertThat(q.take()).isNull();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    t.start();
    Thread.sleep(50);
    q.close();
    t.join(2000);
    assertThat(t.isAlive()).isFalse();
  }
}
