package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import java.time.Duration;

/**
 * Every Cinder answer other than success, classified once (docs/install.md, "How Cinder's answers are handled"):
 *
 * <ul>
 *   <li><b>permanent</b> (bad input): 400 other than a state conflict, 403 (a policy), 413 for a size over Cinder's
 *   per-volume limit, and 404 on a create (an unknown volume type or source). Not retried until the claim or its
 *   class changes; no further Cinder call for it.</li>
 *   <li><b>quota</b> (413 with a quota message): retried, no sooner than {@link #QUOTA_RETRY}, and the Event says
 *   quota.</li>
 *   <li><b>rate limit</b> (429, 413 overLimit): retried after Cinder's Retry-After; every worker waits it out
 *   together ({@link SharedBackoff}).</li>
 *   <li><b>retryable</b>: 5xx, unreachable, timeouts, 409 and state conflicts, 401, and 404 on anything but a
 *   create.</li>
 * </ul>
 */
final class CinderFailures {
  /** Quota frees up when someone deletes volumes: no point asking every second. */
  static final Duration QUOTA_RETRY = Duration.ofSeconds(10);

  private CinderFailures() {}

  /** A failed call other than a create. */
  static ProvisioningException of(String what, CinderException e) {
    return classify(what, e, false);
  }

  /** A failed create: a 404 there means the type (or the clone's source) Cinder does not have. */
  static ProvisioningException ofCreate(String what, CinderException e) {
    return classify(what, e, true);
  }

  private static ProvisioningException classify(String what, CinderException e, boolean create) {
    String message = "could not " + what + ": ";
    return switch (e.kind()) {
      case BAD_REQUEST, FORBIDDEN -> ProvisioningException.invalid(message + "Cinder refused: " + e.getMessage());
      case NOT_FOUND -> create ? ProvisioningException.invalid(message + "Cinder refused: " + e.getMessage())
          : ProvisioningException.retryable(message + e.getMessage(), e);
      case QUOTA_EXCEEDED -> ProvisioningException.retryable(message + "Cinder quota exceeded: " + e.getMessage(),
          max(e.retryAfter().orElse(null), QUOTA_RETRY), e);
      case RATE_LIMITED -> ProvisioningException.retryable(message + "Cinder rate limit: " + e.getMessage(),
          e.retryAfter().orElse(null), e);
      case UNREACHABLE -> ProvisioningException.retryable(message + "Cinder unreachable: " + e.getMessage(),
          e.retryAfter().orElse(null), e);
      default -> ProvisioningException.retryable(message + e.getMessage(), e.retryAfter().orElse(null), e);
    };
  }

  private static Duration max(Duration a, Duration b) {
    return a == null || a.compareTo(b) < 0 ? b : a;
  }
}
