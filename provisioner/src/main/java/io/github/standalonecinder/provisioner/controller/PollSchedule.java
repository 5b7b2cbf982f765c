package io.github.standalonecinder.provisioner.controller;

import java.time.Duration;

/**
 * When to read a volume again while waiting for Cinder. The reads are set from the start of the wait, not each
 * from the end of the one before, so the time a read takes does not push the later ones back: a volume that
 * takes 1 s is seen at ~1 s after its create returned, not 1 s plus the first read's round trip.
 */
final class PollSchedule {
  private long next = System.nanoTime();
  private int attempt;

  /** How long to sleep before the next read. */
  Duration untilNextRead() {
    next += delay(attempt++).toNanos();
    return Duration.ofNanos(Math.max(0, next - System.nanoTime()));
  }

  static Duration delay(int attempt) {
    // Every 500 ms for the first 2 s (most backends create or delete a volume in 1-2 s), then 1 s, 2 s, and every
    // 4 s: fast for quick backends, gentle on slow ones. The former 250 ms, 500 ms, 1 s, 2 s... saw a volume that
    // takes 1 s only at 1.75 s, with 3 reads; this sees it at ~1 s with 2 (benchmarks: docs/benchmarks.md).
    if (attempt < 4) {
      return Duration.ofMillis(500);
    }
    return Duration.ofMillis(Math.min(4000, 1000L << Math.min(attempt - 4, 2)));
  }
}
