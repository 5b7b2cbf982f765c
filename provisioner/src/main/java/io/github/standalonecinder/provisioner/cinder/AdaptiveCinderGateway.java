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
 * claim or a PV, opened with {@link #openStage()}). The stage's create or delete takes a place, waiting while every
 * place is taken, and holds it until a read in the stage ({@code getVolume}, or a list) finds the volume no longer
 * {@code creating} ({@code deleting}), or gone, or until the stage closes: a place cannot outlive the work that took
 * it. How long an operation took feeds the limit. A stage that closes before it saw its volume done (the claim
 * leaves the worker, to be read again later) reports how long it saw the volume under way, a lower bound: past the
 * tolerance, the limit backs off. A stage waits in its worker long enough ({@code AvailabilityWait.IN_WORKER}) for
 * a volume in a Cinder that queues but keeps up, so the places taken match the operations Cinder has; a place kept
 * after its stage until a later read would keep the workers waiting for it from doing that read (tried: the 2 s,
 * 8-at-once capacity bench took 90 s for 200 claims instead of 51). A 429, 413 overLimit or 503 of any call halves
 * the limit. Calls made outside a stage (the orphan sweeper, the CLI, tests calling a step directly) are not paced.
 * A proxy, as the other decorators: calls it does not know pass through.
 */
public final class AdaptiveCinderGateway {
  private static final Logger log = LoggerFactory.getLogger(AdaptiveCinderGateway.class);
  private static final ThreadLocal<Stage> STAGE = new ThreadLocal<>();

  private final int ceiling;
  private final LongSupplier clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  /** The fastest operation seen, by kind ("create", "delete"). */
  private final Map<String, Long> fastest = new HashMap<>();
  private int inFlight;
  private ConcurrencyLimit limit;

  /** A limit of at most {@code ceiling} operations at once; {@link #around} puts it in front of a gateway. */
  public AdaptiveCinderGateway(int ceiling) {
    this(ceiling, System::nanoTime);
  }

  AdaptiveCinderGateway(int ceiling, LongSupplier clock) {
    if (ceiling < 1) {
      throw new IllegalArgumentException("ceiling must be at least 1");
    }
    this.ceiling = ceiling;
    this.clock = clock;
    this.limit = ConcurrencyLimit.initial(ceiling, clock.getAsLong());
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

  /**
   * Whether this thread's stage holds a place now: it started a create or delete that Cinder is not yet seen done
   * with.
   */
  public static boolean holdingPlace() {
    Stage stage = STAGE.get();
    return stage != null && stage.places.stream().anyMatch(p -> p.held);
  }

  /** {@code delegate} with its creates and deletes paced by this limit. */
  public CinderGateway around(CinderGateway delegate) {
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      String kind = kindOf(method);
      Stage stage = STAGE.get();
      Place place = stage == null ? null : stage.placeOf(this);
      if (kind != null && stage != null) {
        if (place == null) {
          place = new Place(this);
          stage.places.add(place);
        }
        if (!place.held) {
          acquire();
          place.held = true;
        }
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
      if (place == null) {
        return result;
      }
      if (kind != null) {
        String volumeId = result instanceof CinderVolume v ? v.id() : (String) args[0];
        boolean underWay = result instanceof CinderVolume v ? v.hasStatus("creating") : Boolean.TRUE.equals(result);
        place.begin(kind, volumeId, started, clock.getAsLong(), underWay);
      } else if (method.getName().equals("getVolume")) {
        seen(place, (String) args[0], ((Optional<?>) result).orElse(null));
      } else if (result instanceof List<?> list && place.underWay()) {
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

  /** Operations allowed under way at once now. */
  public int permits() {
    lock.lock();
    try {
      return limit.permits();
    } finally {
      lock.unlock();
    }
  }

  /** Operations under way now: places taken by stages. */
  public int inFlight() {
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
  private void acquire() {
    lock.lock();
    try {
      while (inFlight >= limit.permits()) {
        try {
          freed.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      inFlight++;
    } finally {
      lock.unlock();
    }
  }

  /** What a read in the stage answered for {@code volumeId} ({@code null}: gone). */
  private void seen(Place place, String volumeId, Object answer) {
    if (!place.underWay() || !volumeId.equals(place.volumeId)) {
      return;
    }
    CinderVolume v = answer instanceof CinderVolume cv ? cv : null;
    long now = clock.getAsLong();
    boolean create = place.kind.equals("create");
    if (v != null && v.hasStatus(create ? "creating" : "deleting")) {
      place.lastBusy = now;
      return;
    }
    place.underWay = false;
    lock.lock();
    try {
      // A create that ended in error or vanished says nothing about how fast Cinder is: no sample.
      if (create ? v != null && !v.hasStatus("error") : v == null) {
        long took = Math.max(1, now - place.started);
        long best = Math.min(fastest.getOrDefault(place.kind, Long.MAX_VALUE), took);
        fastest.put(place.kind, best);
        ConcurrencyLimit before = limit;
        limit = limit.settled(ceiling, place.started, now, place.lastBusy - place.started, best, inFlight);
        changed(before, place.kind + " of " + volumeId + " took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
      }
      // Cinder is done with it: the rest of the stage (the export, the Kubernetes writes) needs no place
      place.held = false;
      inFlight--;
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The stage holding {@code place} closed: the place is given back; an operation not seen done reports. */
  private void release(Place place) {
    if (!place.held) {
      return;
    }
    lock.lock();
    try {
      if (place.underWay()) {
        Long best = fastest.get(place.kind);
        ConcurrencyLimit before = limit;
        limit = limit.unfinished(place.started, clock.getAsLong(), place.lastBusy - place.started,
            best == null ? 0 : best);
        changed(before, place.kind + " of " + place.volumeId + " still under way after "
            + TimeUnit.NANOSECONDS.toMillis(place.lastBusy - place.started) + " ms");
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
    /** Whether it counts against the limit: from its create or delete until Cinder is seen done with it. */
    boolean held;

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
