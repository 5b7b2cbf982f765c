package io.github.standalonecinder.provisioner.controller;

import java.time.Duration;
import java.util.Optional;

/**
 * A provisioning or deletion step that failed. {@code permanent} failures (bad input) are reported once and not
 * retried until the claim or its class changes; others are retried with backoff, at least {@code retryAfter}.
 */
public class ProvisioningException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean permanent;
  private final boolean waiting;
  private final transient Duration retryAfter;

  private ProvisioningException(String message, boolean permanent, Duration retryAfter, Throwable cause) {
    this(message, permanent, false, retryAfter, cause);
  }

  private ProvisioningException(String message, boolean permanent, boolean waiting, Duration retryAfter,
      Throwable cause) {
    super(message, cause);
    this.permanent = permanent;
    this.waiting = waiting;
    this.retryAfter = retryAfter;
  }

  /**
   * Not a failure: Cinder is still working on the volume. The claim leaves the worker and comes back after
   * {@code again}; no Event, no failure counted.
   */
  public static ProvisioningException waiting(String message, Duration again) {
    return new ProvisioningException(message, false, true, again, null);
  }

  public boolean waiting() {
    return waiting;
  }

  /** Bad input: retrying the same claim cannot succeed. */
  public static ProvisioningException invalid(String message) {
    return new ProvisioningException(message, true, null, null);
  }

  public static ProvisioningException retryable(String message, Throwable cause) {
    return new ProvisioningException(message, false, null, cause);
  }

  public static ProvisioningException retryable(String message, Duration retryAfter, Throwable cause) {
    return new ProvisioningException(message, false, retryAfter, cause);
  }

  public boolean permanent() {
    return permanent;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
