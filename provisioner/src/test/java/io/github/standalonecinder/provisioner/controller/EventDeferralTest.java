package io.github.standalonecinder.provisioner.controller;

import static io.github.standalonecinder.provisioner.controller.EventDeferral.Outcome.DROP;
import static io.github.standalonecinder.provisioner.controller.EventDeferral.Outcome.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class EventDeferralTest {
  private static final Duration DEFERRAL = Duration.ofSeconds(5);

  private static EventDeferral.Outcome after(long millis, String next) {
    return EventDeferral.decide(Duration.ofMillis(millis), DEFERRAL, "ProvisioningSucceeded", next);
  }

  @Test
  void itsOutcomeWithinTheDeferralDropsIt() {
    assertThat(after(0, "ProvisioningSucceeded")).isEqualTo(DROP);
    assertThat(after(4_999, "ProvisioningSucceeded")).isEqualTo(DROP);
  }

  @Test
  void itsOutcomeOnceTheDeferralPassedComesAfterIt() {
    assertThat(after(5_000, "ProvisioningSucceeded")).isEqualTo(WRITE);
    assertThat(after(60_000, "ProvisioningSucceeded")).isEqualTo(WRITE);
  }

  @Test
  void anyOtherEventComesAfterIt() {
    assertThat(after(10, "ProvisioningFailed")).isEqualTo(WRITE);
    assertThat(after(10, "Provisioning")).isEqualTo(WRITE);
    assertThat(after(10, "ProvisioningCleanupFailed")).isEqualTo(WRITE);
  }

  @Test
  void aFlushOrTheDeferralsEndWritesIt() {
    assertThat(after(10, null)).isEqualTo(WRITE);
    assertThat(after(5_000, null)).isEqualTo(WRITE);
  }
}
