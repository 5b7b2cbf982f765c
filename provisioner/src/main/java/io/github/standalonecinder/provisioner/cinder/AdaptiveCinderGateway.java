package io.github.standalonecinder.provisioner.cinder;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps a {@link CinderGateway} so the volume creates and deletes under way follow what Cinder sustains
 * ({@link ConcurrencyLimit}): a create or delete waits for a free place, and holds it until Cinder is seen done
 * with the volume — a {@code getVolume} (or a list: {@code findVolumes}, {@code listVolumes}) that no longer
 * answers {@code creating} (or {@code deleting}; or a read that finds it gone) — or until the thread that made it
 * starts another (it no longer waits for this one), or, if nobody looks again, for at most {@link #MAX_HOLD}. How
 * long that took feeds the limit; so does every 429, 413 overLimit and 503 of any call. The ceiling is meant to be
 * the controller's {@code --workers}; it is not wired into {@code run} yet: two benchmark runs stalled with it
 * (docs/benchmarks.md). A proxy, as the other decorators: calls it does not know pass through.
 */
public final class AdaptiveCinderGateway {
  private static final Logger log = LoggerFactory.getLogger(AdaptiveCinderGateway.class);
  /**
   * A place is given back after this even if its volume was not seen done: a claim waits for its volume in a
   * worker for 5 s ({@code AvailabilityWait.IN_WORKER}), then leaves it to be read again seconds later. Held past
   * that, the places of claims nobody waits for would stall the workers, and their late reads would read as a
   * slow Cinder.
   */
  static final Duration MAX_HOLD = Duration.ofSeconds(6);

  private final int ceiling;
  private final LongSupplier clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  /** Operations holding a place, by volume id. */
  private final Map<String, Held> held = new HashMap<>();
  /** The volume whose place each thread took last. */
  private final Map<Thread, String> takenBy = new HashMap<>();
  /** The fastest operation seen, by kind ("create", "delete"). */
  private final Map<String, Long> fastest = new HashMap<>();
  private int inFlight;
  private ConcurrencyLimit limit;

  AdaptiveCinderGateway(int ceiling, LongSupplier clock) {
    if (ceiling < 1) {
      throw new IllegalArgumentException("ceiling must be at least 1");
    }
    this.ceiling = ceiling;
    this.clock = clock;
    this.limit = ConcurrencyLimit.initial(ceiling, clock.getAsLong());
  }

  /** {@code delegate} with its creates and deletes limited as Cinder sustains, never more than {@code ceiling}. */
  public static CinderGateway wrap(CinderGateway delegate, int ceiling) {
    return new AdaptiveCinderGateway(ceiling, System::nanoTime).around(delegate);
  }

  CinderGateway around(CinderGateway delegate) {
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      String kind = kindOf(method);
      if (kind != null) {
        movedOn(Thread.currentThread());
      }
      long started = kind == null ? clock.getAsLong() : acquire();
      Object result;
      try {
        result = method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        if (kind != null) {
          release(null, null, started, started);
        }
        if (e.getCause() instanceof CinderException ce && ConcurrencyLimit.overload(ce)) {
          overloaded(started);
        }
        throw e.getCause();
      }
      if (kind != null) {
        String volumeId = result instanceof CinderVolume v ? v.id() : (String) args[0];
        boolean underWay = result instanceof CinderVolume v ? v.hasStatus("creating") : Boolean.TRUE.equals(result);
        if (underWay) {
          hold(volumeId, kind, started);
        } else {
          release(null, null, started, started); // done at once, or already gone
        }
      } else if (method.getName().equals("getVolume")) {
        seen((String) args[0], (Optional<?>) result);
      } else if (result instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof CinderVolume) {
        // a claim read again later finds its volume by name: a list seen is as good as a read
        for (Object v : list) {
          seen(((CinderVolume) v).id(), Optional.of(v));
        }
      }
      return result;
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }

  /** "create", "delete", or null for a call that starts no Cinder operation of its own. */
  static String kindOf(Method m) {
    return switch (m.getName()) {
      case "createVolume" -> "create";
      case "deleteVolume", "forceDeleteVolume" -> "delete";
      default -> null;
    };
  }

  /** The permits now (for tests and logs). */
  int permits() {
    lock.lock();
    try {
      return limit.permits();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits for a free place and takes it; returns when it was taken. An interrupt (shutting down) ends the wait and
   * is kept for the call to see.
   */
  long acquire() {
    lock.lock();
    try {
      while (inFlight >= limit.permits()) {
        expire();
        if (inFlight < limit.permits()) {
          break;
        }
        try {
          freed.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      inFlight++;
      return clock.getAsLong();
    } finally {
      lock.unlock();
    }
  }

  /**
   * A thread that starts another create or delete has stopped waiting for its last one (the claim left the worker
   * to be read again later: {@code AvailabilityWait.IN_WORKER}): that place is given back, without a sample. Else
   * the workers could all wait here for places only the claims they left could free.
   */
  void movedOn(Thread thread) {
    lock.lock();
    try {
      String last = takenBy.remove(thread);
      if (last != null && held.remove(last) != null) {
        inFlight--;
        freed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** The volume's operation is under way in Cinder: its place is held until it is seen done. */
  void hold(String volumeId, String kind, long started) {
    lock.lock();
    try {
      takenBy.put(Thread.currentThread(), volumeId);
      if (held.putIfAbsent(volumeId, new Held(kind, started, clock.getAsLong())) != null) {
        // a second delete of a volume already being deleted: one place is enough
        release(null, null, started, started);
      }
    } finally {
      lock.unlock();
    }
  }

  /** What {@code getVolume(volumeId)} answered: the end of an operation holding a place, if it is done. */
  void seen(String volumeId, Optional<?> answer) {
    lock.lock();
    try {
      Held h = held.get(volumeId);
      if (h == null) {
        return;
      }
      CinderVolume v = answer.isPresent() && answer.get() instanceof CinderVolume cv ? cv : null;
      boolean done = h.kind.equals("create") ? v == null || !v.hasStatus("creating")
          : v == null || !v.hasStatus("deleting");
      if (!done) {
        h.lastBusy = clock.getAsLong();
        return;
      }
      held.remove(volumeId);
      takenBy.values().remove(volumeId);
      // A create that ended in error or vanished says nothing about how fast Cinder is: no sample.
      boolean sample = (h.kind.equals("create") ? v != null && !v.hasStatus("error") : v == null)
          && clock.getAsLong() - h.started <= MAX_HOLD.toNanos(); // later: read late, not slow
      release(sample ? h.kind : null, volumeId, h.started, h.lastBusy);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Gives a place back; with a {@code kind}, the operation's time also feeds the limit: it was seen done now, and
   * under way at {@code lastBusy}.
   */
  private void release(String kind, String volumeId, long started, long lastBusy) {
    lock.lock();
    try {
      if (kind != null) {
        long now = clock.getAsLong();
        long took = Math.max(1, now - started);
        long best = Math.min(fastest.getOrDefault(kind, Long.MAX_VALUE), took);
        fastest.put(kind, best);
        ConcurrencyLimit before = limit;
        limit = limit.settled(ceiling, started, now, lastBusy - started, best, inFlight);
        logChange(before, kind + " of " + volumeId + " took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
      }
      inFlight--;
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void overloaded(long started) {
    lock.lock();
    try {
      ConcurrencyLimit before = limit;
      limit = limit.overloaded(started, clock.getAsLong());
      logChange(before, "Cinder answered as overloaded");
    } finally {
      lock.unlock();
    }
  }

  /** Places held longer than {@link #MAX_HOLD} are given back without a sample. */
  private void expire() {
    long now = clock.getAsLong();
    for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
      Held h = it.next();
      if (now - h.started > MAX_HOLD.toNanos()) {
        it.remove();
        inFlight--;
      }
    }
    takenBy.values().removeIf(id -> !held.containsKey(id));
  }

  private void logChange(ConcurrencyLimit before, String why) {
    if (before.permits() != limit.permits()) {
      log.debug("Cinder operations at once: {} -> {} ({})", before.permits(), limit.permits(), why);
    }
  }

  /** A place held by a volume's operation, started at {@code started}, last seen under way at {@code lastBusy}. */
  private static final class Held {
    final String kind;
    final long started;
    long lastBusy;

    Held(String kind, long started, long lastBusy) {
      this.kind = kind;
      this.started = started;
      this.lastBusy = lastBusy;
    }
  }
}
