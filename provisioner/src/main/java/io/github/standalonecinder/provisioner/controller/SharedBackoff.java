package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backoff for every worker when Cinder says it is rate-limiting us (429, or 413 overLimit): the next call of
 * any worker waits until Cinder's Retry-After has passed (without one: 1 s, doubling to {@link #MAX_PAUSE} while
 * Cinder keeps refusing), instead of only the refused claim slowing down while the others keep hitting Cinder.
 */
final class SharedBackoff {
  private static final Logger log = LoggerFactory.getLogger(SharedBackoff.class);
  static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  static final Duration MAX_PAUSE = Duration.ofMinutes(1);

  private long pausedUntil = System.nanoTime();
  private Duration nextPause = FIRST_PAUSE;

  private SharedBackoff() {}

  static CinderGateway wrap(CinderGateway delegate) {
    SharedBackoff backoff = new SharedBackoff();
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      backoff.awaitTurn();
      try {
        Object result = method.invoke(delegate, args);
        backoff.succeeded();
        return result;
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof CinderException ce && ce.kind() == CinderException.Kind.RATE_LIMITED) {
          backoff.limited(ce.retryAfter().orElse(null));
        }
        throw e.getCause();
      }
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }

  /** Waits out the shared pause; an interrupt (shutting down) ends the wait and is kept for the call to see. */
  private void awaitTurn() {
    while (true) {
      long wait;
      synchronized (this) {
        wait = pausedUntil - System.nanoTime();
      }
      if (wait <= 0) {
        return;
      }
      LockSupport.parkNanos(wait);
      if (Thread.currentThread().isInterrupted()) {
        return;
      }
    }
  }

  private synchronized void succeeded() {
    nextPause = FIRST_PAUSE;
  }

  private synchronized void limited(Duration retryAfter) {
    Duration pause = retryAfter != null ? retryAfter : nextPause;
    nextPause = nextPause.multipliedBy(2).compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : nextPause.multipliedBy(2);
    long until = System.nanoTime() + pause.toNanos();
    if (until - pausedUntil > 0) {
      pausedUntil = until;
      log.warn("Cinder is rate-limiting us: every Cinder call waits {} ms", TimeUnit.NANOSECONDS.toMillis(
          pause.toNanos()));
    }
  }
}
