package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConcurrencyLimitTest {
  static final long SECOND = Duration.ofSeconds(1).toNanos();
  static final int CEILING = 64;

  /** An operation started at {@code start} s, done 1 s later (as fast as the fastest), with the limit in use. */
  static ConcurrencyLimit fast(ConcurrencyLimit l, long start) {
    return l.settled(CEILING, start * SECOND, (start + 1) * SECOND, SECOND, SECOND, l.permits());
  }

  @Test
  void startsAtSixteenOrTheCeilingWhenLower() {
    assertThat(ConcurrencyLimit.initial(CEILING, 0).permits()).isEqualTo(16);
    assertThat(ConcurrencyLimit.initial(3, 0).permits()).isEqualTo(3);
  }

  @Test
  void slowStartDoublesEveryRoundWhileLatencyHoldsUpToTheCeiling() {
    ConcurrencyLimit l = new ConcurrencyLimit(8, CEILING, 0);
    for (int round = 1; round <= 3; round++) {
      int ops = l.permits();
      for (int i = 0; i < ops; i++) {
        l = fast(l, round);
      }
      assertThat(l.permits()).as("after round " + round).isEqualTo(8 << round);
    }
    for (int i = 0; i < 100; i++) {
      l = fast(l, 5);
    }
    assertThat(l.permits()).isEqualTo(CEILING);
  }

  @Test
  void halvesOnOverloadDoublesBackToJustBelowThenGrowsByOnePerRound() {
    ConcurrencyLimit l = new ConcurrencyLimit(32, CEILING, 0);
    l = l.overloaded(10 * SECOND, 11 * SECOND);
    assertThat(l.permits()).isEqualTo(16);
    for (int i = 0; i < 15; i++) {
      l = fast(l, 12);
    }
    assertThat(l.permits()).as("back to one below the limit Cinder pushed back at").isEqualTo(31);
    for (int i = 0; i < 32; i++) {
      l = fast(l, 13);
    }
    assertThat(l.permits()).as("then a round of some 31 operations adds one").isEqualTo(32);
  }

  @Test
  void backsOffWhenAnOperationTakesMuchLongerThanTheFastest() {
    ConcurrencyLimit l = new ConcurrencyLimit(20, 20, 0);
    ConcurrencyLimit slow = l.settled(CEILING, 10 * SECOND, 18 * SECOND, SECOND * 13 / 2, SECOND, 20);
    assertThat(slow.permits()).as("still under way after 6.5 s, against 1 s: Cinder is queueing").isEqualTo(10);
    ConcurrencyLimit tolerable = l.settled(CEILING, 10 * SECOND, 18 * SECOND, 6 * SECOND, SECOND, 20);
    assertThat(tolerable.permits()).as("seen done at 8 s but under way only until 6 s: polls and a queue")
        .isEqualTo(20);
  }

  @Test
  void anOperationLeftUnfinishedBacksOffOnlyPastTheToleranceOfAKnownFastest() {
    ConcurrencyLimit l = new ConcurrencyLimit(32, 16, 0);
    assertThat(l.unfinished(SECOND, 9 * SECOND, 8 * SECOND, 0)).as("no fastest known yet").isEqualTo(l);
    assertThat(l.unfinished(SECOND, 7 * SECOND, 6 * SECOND, SECOND)).as("6x: within").isEqualTo(l);
    assertThat(l.unfinished(SECOND, 9 * SECOND, 8 * SECOND, SECOND).permits()).isEqualTo(16);
  }

  @Test
  void backsOffOncePerRound() {
    ConcurrencyLimit l = new ConcurrencyLimit(32, 32, 0).overloaded(10 * SECOND, 11 * SECOND);
    ConcurrencyLimit again = l.overloaded(10 * SECOND + 1, 11 * SECOND + 5)
        .settled(CEILING, 10 * SECOND, 18 * SECOND, 7 * SECOND, SECOND, 16);
    assertThat(again.permits()).as("started before the back-off: already answered").isEqualTo(16);
    assertThat(l.overloaded(12 * SECOND, 13 * SECOND).permits()).as("started after it: backs off again")
        .isEqualTo(8);
  }

  @Test
  void neverBelowOne() {
    ConcurrencyLimit l = new ConcurrencyLimit(1, 1, 0).overloaded(SECOND, 2 * SECOND);
    assertThat(l.permits()).isEqualTo(1);
    assertThat(l.overloaded(3 * SECOND, 4 * SECOND).permits()).isEqualTo(1);
  }

  @Test
  void doesNotGrowWhileMostlyUnused() {
    ConcurrencyLimit l = new ConcurrencyLimit(16, 16, 0);
    assertThat(l.settled(CEILING, SECOND, 2 * SECOND, SECOND, SECOND, 3)).isEqualTo(l);
    assertThat(l.settled(CEILING, SECOND, 2 * SECOND, SECOND, SECOND, 8).limit()).isGreaterThan(16);
  }

  @Test
  void overloadIsRateLimitOrUnavailableNotOtherFailures() {
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.RATE_LIMITED, 429, "x"))).isTrue();
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.RATE_LIMITED, 413, "x"))).isTrue();
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.SERVER_ERROR, 503, "x"))).isTrue();
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.SERVER_ERROR, 500, "x")))
        .isFalse();
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.QUOTA_EXCEEDED, 413, "x")))
        .as("a quota is not load").isFalse();
    assertThat(ConcurrencyLimit.overload(new CinderException(CinderException.Kind.UNREACHABLE, 0, "x"))).isFalse();
  }
}
