package io.github.standalonecinder.provisioner.leader;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One provisioner process: its caches fill from the start (a standby with warm caches takes over fast, and the
 * elector is never held up by them); its workers run only while it leads; it stops its work before it hands the
 * Lease back; and it exits non-zero, with one log line saying why, when it can no longer do its job: the Lease
 * lost, an informer stopped, the workers dead, or the start failed. A watchdog looks every second, so a renewal
 * that hangs is noticed too.
 */
public final class Replica implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Replica.class);
  static final Duration WATCHDOG_PERIOD = Duration.ofSeconds(1);

  /** What a replica runs: the controller. */
  public interface Workload {
    /** Starts the informers; the future completes when their caches are filled. */
    CompletableFuture<Void> startInformers();

    /** Starts the workers (and everything else that writes). */
    void startWorkers();

    /** Why the workload cannot do its job any more (an informer stopped, the workers died), if so. */
    Optional<String> problem();

    /** Caches filled and informers running. */
    boolean ready();

    /** Stops the workers and informers; when it returns, the workload makes no further call. */
    void close();
  }

  /** How the process ends; {@link Runtime#halt} in production. */
  public interface Exit {
    void exit(int status);
  }

  private final Workload workload;
  private final LeaseElector elector;
  private final Leadership leadership;
  private final Exit exit;
  private final ScheduledExecutorService watchdog;
  private final AtomicBoolean ending = new AtomicBoolean();
  private volatile CompletableFuture<Void> synced;
  private volatile String failure;

  private Replica(Workload workload, LeaseElector elector, Leadership leadership, Exit exit) {
    this.workload = workload;
    this.elector = elector;
    this.leadership = leadership;
    this.exit = exit;
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "replica-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  /** A replica that always works (no leader election). */
  public static Replica alone(Workload workload, Exit exit) {
    return new Replica(workload, null, null, exit);
  }

  /**
   * A replica that works only while it holds the Lease. {@code electorFactory} builds the elector around the
   * listener this replica gives it.
   */
  public static Replica elected(Workload workload, Leadership leadership,
      java.util.function.Function<LeaseElector.Listener, LeaseElector> electorFactory, Exit exit) {
    Replica[] self = new Replica[1];
    LeaseElector elector = electorFactory.apply(new LeaseElector.Listener() {
      @Override
      public void startedLeading() {
        self[0].startWorkingWhenSynced();
      }

      @Override
      public void stoppedLeading(String why) {
        self[0].lostLeadership(why);
      }
    });
    self[0] = new Replica(workload, elector, leadership, exit);
    return self[0];
  }

  public void start() {
    synced = workload.startInformers();
    synced.whenComplete((v, t) -> {
      if (t != null) {
        fail("the informers could not fill their caches: " + rootMessage(t));
      }
    });
    long period = WATCHDOG_PERIOD.toMillis();
    watchdog.scheduleWithFixedDelay(this::watch, period, period, TimeUnit.MILLISECONDS);
    if (elector == null) {
      startWorkingWhenSynced();
    } else {
      elector.start();
    }
  }

  /** On a thread of its own: the elector's must stay free to renew while the caches fill. */
  private void startWorkingWhenSynced() {
    Thread t = new Thread(() -> {
      try {
        try {
          synced.join();
        } catch (java.util.concurrent.CompletionException e) {
          return; // reported as the informers' failure by start()
        }
        if (ending.get() || (leadership != null && !leadership.held())) {
          return;
        }
        workload.startWorkers();
      } catch (RuntimeException e) {
        fail("the controller failed to start: " + rootMessage(e));
      }
    }, "replica-start");
    t.setDaemon(true);
    t.start();
  }

  private void watch() {
    try {
      if (elector != null) {
        elector.checkDeadline();
      }
      workload.problem().ifPresent(this::fail);
    } catch (RuntimeException e) {
      log.warn("replica watchdog: {}", e.getMessage());
    }
  }

  /** Ends the process: stops the work, hands the Lease back so a standby takes over at once, exits 1. */
  private void fail(String why) {
    if (!ending.compareAndSet(false, true)) {
      return;
    }
    failure = why;
    log.error("{}; exiting", why);
    endOnThread(() -> {
      stopWork();
      if (elector != null) {
        elector.release();
      }
      exit.exit(1);
    });
  }

  /**
   * Another replica may already be working: exit 1 at once. The fence already refuses every write, and there is
   * nothing to hand back; winding the work down would only delay the exit.
   */
  private void lostLeadership(String why) {
    if (!ending.compareAndSet(false, true)) {
      return;
    }
    failure = "lost leadership: " + why;
    log.error("lost leadership on Lease {}/{}: {}; exiting", elector.config().namespace(), elector.config().name(),
        why);
    endOnThread(() -> exit.exit(1));
  }

  private static void endOnThread(Runnable r) {
    Thread t = new Thread(r, "replica-exit");
    t.setDaemon(false);
    t.start();
  }

  private void stopWork() {
    watchdog.shutdownNow();
    try {
      workload.close();
    } catch (RuntimeException e) {
      log.warn("stopping the controller: {}", e.getMessage());
    }
  }

  /** For {@code /healthz}: why this replica is failing, if it is. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** For {@code /readyz}: caches filled, running, and not failing (a healthy standby is ready). */
  public boolean ready() {
    return failure == null && workload.ready();
  }

  public boolean leading() {
    return elector == null || leadership.leading();
  }

  /** Orderly shutdown (SIGTERM): the work stops first, then the Lease is handed back. */
  @Override
  public void close() {
    if (!ending.compareAndSet(false, true)) {
      return;
    }
    stopWork();
    if (elector != null) {
      elector.release();
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
