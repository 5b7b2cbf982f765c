package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PollScheduleTest {

  @Test
  void everyHalfSecondForTwoSecondsThenBackingOffToFour() {
    assertThat(IntStream.range(0, 9).mapToObj(PollSchedule::delay).map(Duration::toMillis))
        .containsExactly(500L, 500L, 500L, 500L, 1000L, 2000L, 4000L, 4000L, 4000L);
  }

  @Test
  void readsAreSetFromTheStartOfTheWaitNotFromTheEndOfTheLastRead() throws InterruptedException {
    PollSchedule polls = new PollSchedule();
    assertThat(polls.untilNextRead()).isLessThanOrEqualTo(Duration.ofMillis(500));
    Thread.sleep(200); // the first read, taken at once here, takes 200 ms: the second is due 1 s from the start
    assertThat(polls.untilNextRead()).isLessThanOrEqualTo(Duration.ofMillis(800)).isGreaterThan(
        Duration.ofMillis(500));
  }

  @Test
  void aReadDueAlreadyIsMadeAtOnce() throws InterruptedException {
    PollSchedule polls = new PollSchedule();
    Thread.sleep(600);
    assertThat(polls.untilNextRead()).isZero();
  }
}
