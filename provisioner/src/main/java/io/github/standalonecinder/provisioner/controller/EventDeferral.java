package io.github.standalonecinder.provisioner.controller;

import java.time.Duration;

/**
 * What becomes of an Event recorded with {@link EventRecorder#defer}: it waits, and is written at its own time and
 * place in the object's Events when anything else happens to the object first — another Event for it (written after
 * the deferred one, so the object's Events keep their order), the caller saying the object now waits
 * ({@link EventRecorder#flush}), or the deferral passing. It is dropped only when the one Event it names as its
 * outcome comes within the deferral: a claim provisioned in a second or two shows {@code ProvisioningSucceeded} alone,
 * a claim that waits, fails or takes longer still shows {@code Provisioning} first.
 */
final class EventDeferral {
  enum Outcome { WRITE, DROP }

  private EventDeferral() {}

  /**
   * @param elapsed    since the deferred Event was recorded
   * @param deferral   how long it may wait
   * @param outcome    the reason of the Event that makes it unneeded ({@code ProvisioningSucceeded})
   * @param nextReason the reason of the object's next Event, or null when the deferral passed or the caller flushed
   */
  static Outcome decide(Duration elapsed, Duration deferral, String outcome, String nextReason) {
    return nextReason != null && nextReason.equals(outcome) && elapsed.compareTo(deferral) < 0
        ? Outcome.DROP : Outcome.WRITE;
  }
}
