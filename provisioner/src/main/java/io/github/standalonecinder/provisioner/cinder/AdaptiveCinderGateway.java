package io.github.standalonecinder.provisioner.cinder;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
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
 * ({@link ConcurrencyLimit}), {@code ceiling} at most.
 *
 * <p>The work that starts an operation and waits for it is a {@link Stage} on one thread (a worker's pass over a
 * claim or a PV, opened with {@link #openStage()}). The stage's first create or delete takes a place, waiting while
 * every place is taken, and the stage holds it until it closes. A read ({@code getVolume}, or a list) that finds
 * the volume no longer {@code creating} ({@code deleting}), or gone, ends the operation: how long it took feeds
 * the limit. A stage that closes before its volume was seen done (the claim leaves the worker, to be read again
 * later) leaves its place with the volume, still taken, until a read sees the volume done or for
 * {@link #PARKED_HOLD_NANOS} at most: Cinder is still working on it, and a place given back at once would let one more
 * operation in than Cinder holds. A hold that runs out reports how long the volume was seen under way, a lower
 * bound: past the tolerance, the limit backs off. So no place outlives its stage by more than
 * {@link #PARKED_HOLD_NANOS}: the workers can wait for places, never for good. A 429, 413 overLimit or 503 of any call
 * halves the limit. Calls made outside a stage (the orphan sweeper, the CLI, tests calling a step directly) are not
 * paced. A proxy, as the other decorators: calls it does not know pass through.
 */
public final class AdaptiveCinderGateway {
  private static final Logger log = LoggerFactory.getLogger(AdaptiveCinderGateway.class);
  private static final ThreadLocal<Stage> STAGE = new ThreadLocal<>();
  /**
   * The longest a volume's place stays taken after its stage closed without seeing it done: a parked claim is read
   * again within 4 s ({@code PollSchedule}), so a volume Cinder is done with frees its place at that read; one
   * slower than this stops counting, and says Cinder is slow.
   */
  static final long PARKED_HOLD_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final int ceiling;
  private final LongSupplier clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  /** The fastest operation seen, by kind ("create", "delete"). */
  private final Map<String, Long> fastest = new HashMap<>();
  /** Places left with their volume by a closed stage, by volume id. */
  private final Map<String, Place> parked = new HashMap<>();
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

  /**
   * Opens a stage on this thread; close it (try-with-resources) when the work is done with its Cinder operation.
   * A stage opened inside another one replaces it until it closes.
   */
  public static Stage openStage() {
    Stage stage = new Stage(STAGE.get());
    STAGE.set(stage);
    return stage;
  }

  CinderGateway around(CinderGateway delegate) {
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      String kind = kindOf(method);
      Stage stage = STAGE.get();
      Place place = stage == null ? null : stage.placeOf(this);
      if (kind != null && stage != null && place == null) {
        place = acquire();
        stage.places.add(place);
      }
      long started = clock.getAsLong();
      Object result;
      try {
        result = method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof CinderException ce && ConcurrencyLimit.overload(ce)) {
          overloaded(started);
        }
        throw e.getCause();
      }
      if (kind != null && place != null) {
        String volumeId = result instanceof CinderVolume v ? v.id() : (String) args[0];
        boolean underWay = result instanceof CinderVolume v ? v.hasStatus("creating") : Boolean.TRUE.equals(result);
        unpark(volumeId); // asked again (a force delete): this stage's place counts for it now
        place.begin(kind, volumeId, started, clock.getAsLong(), underWay);
      } else if (method.getName().equals("getVolume")) {
        seen(place, (String) args[0], ((Optional<?>) result).orElse(null));
      } else if (result instanceof List<?> list) {
        // a claim read again finds its volume by name: a list seen is as good as a read; not in it is not gone
        for (Object v : list) {
          if (v instanceof CinderVolume cv) {
            seen(place, cv.id(), cv);
          }
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

  /** Places taken now, by stages and by parked volumes (for tests). */
  int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits for a free place and takes it. An interrupt (shutting down) ends the wait and is kept for the call to
   * see; the place is taken all the same, and given back when the stage closes.
   */
  private Place acquire() {
    lock.lock();
    try {
      expireParked();
      while (inFlight >= limit.permits()) {
        long wait = expireParked();
        if (inFlight < limit.permits()) {
          break;
        }
        try {
          freed.awaitNanos(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      inFlight++;
      return new Place(this);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What a read answered for {@code volumeId} ({@code null}: gone): the end of the operation of the stage's
   * {@code place} (may be null) or of a parked one, if it is done.
   */
  private void seen(Place place, String volumeId, Object answer) {
    CinderVolume v = answer instanceof CinderVolume cv ? cv : null;
    if (place != null && place.underWay() && volumeId.equals(place.volumeId)) {
      if (settle(place, v)) {
        place.underWay = false;
      }
      return;
    }
    lock.lock();
    try {
      Place p = parked.get(volumeId);
      if (p != null && settle(p, v)) {
        parked.remove(volumeId);
        inFlight--;
        freed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * {@code v} as read now for {@code place}'s operation: false while it is under way (it was busy now), true once
   * it is done, its time then fed to the limit. A create that ended in error or vanished says nothing about how
   * fast Cinder is: no sample.
   */
  private boolean settle(Place place, CinderVolume v) {
    long now = clock.getAsLong();
    boolean create = place.kind.equals("create");
    if (v != null && v.hasStatus(create ? "creating" : "deleting")) {
      place.lastBusy = now;
      return false;
    }
    if (create ? v != null && !v.hasStatus("error") : v == null) {
      lock.lock();
      try {
        long took = Math.max(1, now - place.started);
        long best = Math.min(fastest.getOrDefault(place.kind, Long.MAX_VALUE), took);
        fastest.put(place.kind, best);
        ConcurrencyLimit before = limit;
        limit = limit.settled(ceiling, place.started, now, place.lastBusy - place.started, best, inFlight);
        changed(before, place.kind + " of " + place.volumeId + " took " + TimeUnit.NANOSECONDS.toMillis(took)
            + " ms");
      } finally {
        lock.unlock();
      }
    }
    return true;
  }

  /**
   * The stage holding {@code place} closed: the place is given back, or, while its volume is still under way in
   * Cinder, left with it.
   */
  private void release(Place place) {
    lock.lock();
    try {
      if (place.underWay()) {
        place.parkedAt = clock.getAsLong();
        Place before = parked.put(place.volumeId, place);
        if (before == null) {
          return; // still taken
        }
        // a second stage's operation on the same volume: one place is enough
      }
      inFlight--;
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A stage starts a new operation on {@code volumeId}: a place left with it is given back. */
  private void unpark(String volumeId) {
    lock.lock();
    try {
      if (parked.remove(volumeId) != null) {
        inFlight--;
        freed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Called with the lock held: gives back the places of parked volumes held {@link #PARKED_HOLD_NANOS}, each
   * reporting how long its volume was seen under way; returns how long until the next one runs out.
   */
  private long expireParked() {
    long now = clock.getAsLong();
    long next = PARKED_HOLD_NANOS;
    for (var it = parked.values().iterator(); it.hasNext(); ) {
      Place p = it.next();
      long left = p.parkedAt + PARKED_HOLD_NANOS - now;
      if (left > 0) {
        next = Math.min(next, left);
        continue;
      }
      it.remove();
      inFlight--;
      Long best = fastest.get(p.kind);
      ConcurrencyLimit before = limit;
      limit = limit.unfinished(p.started, now, p.lastBusy - p.started, best == null ? 0 : best);
      changed(before, p.kind + " of " + p.volumeId + " still under way after "
          + TimeUnit.NANOSECONDS.toMillis(p.lastBusy - p.started) + " ms");
    }
    return next;
  }

  private void overloaded(long started) {
    lock.lock();
    try {
      ConcurrencyLimit before = limit;
      limit = limit.overloaded(started, clock.getAsLong());
      changed(before, "Cinder answered as overloaded");
    } finally {
      lock.unlock();
    }
  }

  /** Called with the lock held: logs a change of the permits, and wakes waiters when they grew. */
  private void changed(ConcurrencyLimit before, String why) {
    if (before.permits() != limit.permits()) {
      log.debug("Cinder operations at once: {} -> {} ({})", before.permits(), limit.permits(), why);
      freed.signalAll();
    }
  }

  /**
   * The work of one thread that may start a Cinder operation and wait for it; holds at most one place of each
   * gateway it used, given back when it closes.
   */
  public static final class Stage implements AutoCloseable {
    private final Stage outer;
    private final List<Place> places = new ArrayList<>(1);

    private Stage(Stage outer) {
      this.outer = outer;
    }

    private Place placeOf(AdaptiveCinderGateway gateway) {
      for (Place p : places) {
        if (p.owner == gateway) {
          return p;
        }
      }
      return null;
    }

    @Override
    public void close() {
      if (outer == null) {
        STAGE.remove();
      } else {
        STAGE.set(outer);
      }
      for (Place p : places) {
        p.owner.release(p);
      }
      places.clear();
    }
  }

  /** A place held by a stage, and the operation it last started, if any. */
  private static final class Place {
    final AdaptiveCinderGateway owner;
    String kind;
    String volumeId;
    long started;
    long lastBusy;
    boolean underWay;
    /** When its stage closed with the volume under way. */
    long parkedAt;

    Place(AdaptiveCinderGateway owner) {
      this.owner = owner;
    }

    /** An operation started at {@code started} on {@code volumeId}; Cinder answered at {@code answered}. */
    void begin(String kind, String volumeId, long started, long answered, boolean underWay) {
      this.kind = kind;
      this.volumeId = volumeId;
      this.started = started;
      this.lastBusy = answered;
      this.underWay = underWay;
    }

    boolean underWay() {
      return kind != null && underWay;
    }
  }
}
