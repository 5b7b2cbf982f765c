package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When an informer's LIST or watch fails: retry (with the informer's own backoff) while the failures have lasted
 * less than {@code giveUpAfter}, then let the informer stop, which ends the process (see
 * {@link ProvisionController#problem}). A cache that can no longer be refreshed must not sit behind a held Lease;
 * a restarted pod, or the standby, starts clean. A response we cannot read is not retried at all: it would fail
 * the same way every time. {@link #watching} ends a run of failures.
 */
final class InformerRetryPolicy implements ExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(InformerRetryPolicy.class);
  private static final long NONE = Long.MIN_VALUE;

  private final String what;
  private final long giveUpAfterNanos;
  private final LongSupplier nanoClock;
  private volatile long failingSince = NONE;

  InformerRetryPolicy(String what, Duration giveUpAfter, LongSupplier nanoClock) {
    this.what = what;
    this.giveUpAfterNanos = giveUpAfter.toNanos();
    this.nanoClock = nanoClock;
  }

  @Override
  public boolean retryAfterException(boolean isStarted, Throwable t) {
    if (ExceptionHandler.isDeserializationException(t)) {
      log.error("the {} informer cannot read the API server's answer: {}", what, t.getMessage());
      return false;
    }
    long now = nanoClock.getAsLong();
    if (failingSince == NONE) {
      failingSince = now;
      log.warn("the {} informer's LIST or watch failed ({}); retrying for up to {} s", what, rootMessage(t),
          giveUpAfterNanos / 1_000_000_000L);
    }
    return now - failingSince < giveUpAfterNanos;
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  /** The informer is watching again: a later failure starts a new count. */
  void watching() {
    failingSince = NONE;
  }

  /** How long the current run of failures has lasted; zero when none. */
  Duration failingFor() {
    long since = failingSince;
    return since == NONE ? Duration.ZERO : Duration.ofNanos(nanoClock.getAsLong() - since);
  }
}
