package io.github.standalonecinder.simulator;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.BiConsumer;

/**
 * What a real cinder-volume can do at once, as deployments behave: {@code concurrent} backend operations (volume
 * creates and deletes) are worked on at the same time, each for its delay; up to {@code queue} more wait their
 * turn (the volume shows {@code creating}/{@code deleting} meanwhile, as a cast waits in RabbitMQ); an operation
 * beyond that is refused at the API with {@code overloadStatus} (503 as a load balancer in front of cinder-api
 * answers, or 429 as a rate-limiting proxy does) and a {@code Retry-After}. {@link #UNLIMITED} (the default) is
 * no limit: every operation starts at once.
 *
 * <p>Its figures are what a benchmark's ideal is made of: {@link #concurrent()} operations every operation delay.
 */
public final class BackendCapacity {
  /** No capacity model: every operation starts at once. */
  public static final BackendCapacity UNLIMITED = new BackendCapacity(Integer.MAX_VALUE, 0, 503, Duration.ZERO);

  /** What happens to an operation asked for. */
  enum Admission {
    /** A slot is free: it starts now. */
    START,
    /** Every slot is busy but the queue has room: it starts when a slot frees. */
    QUEUE,
    /** Slots and queue are full: refused at the API. */
    REFUSE
  }

  private final int concurrent;
  private final int queue;
  private final int overloadStatus;
  private final Duration retryAfter;

  private BackendCapacity(int concurrent, int queue, int overloadStatus, Duration retryAfter) {
    this.concurrent = concurrent;
    this.queue = queue;
    this.overloadStatus = overloadStatus;
    this.retryAfter = retryAfter;
  }

  /**
   * {@code concurrent} operations at once, {@code queue} more waiting, the rest refused with 503 and
   * {@code Retry-After: 1}.
   */
  public static BackendCapacity of(int concurrent, int queue) {
    return new BackendCapacity(concurrent, queue, 503, Duration.ofSeconds(1));
  }

  /** The same capacity, refusing with {@code status} (503, 429 or 413) and this {@code Retry-After}. */
  public BackendCapacity refusingWith(int status, Duration retryAfterValue) {
    if (status != 503 && status != 429 && status != 413) {
      throw new IllegalArgumentException("an overloaded Cinder answers 503, 429 or 413, not " + status);
    }
    return new BackendCapacity(concurrent, queue, status, retryAfterValue);
  }

  public int concurrent() {
    return concurrent;
  }

  public int queue() {
    return queue;
  }

  public int overloadStatus() {
    return overloadStatus;
  }

  public Duration retryAfter() {
    return retryAfter;
  }

  /** The decision for one more operation while {@code running} work and {@code waiting} wait. */
  static Admission admit(int running, int waiting, int concurrent, int queue) {
    if (running < concurrent) {
      return Admission.START;
    }
    return waiting < queue ? Admission.QUEUE : Admission.REFUSE;
  }

  /** The refusal Cinder's front answers when slots and queue are full. */
  ApiException refusal() {
    ApiException e = new ApiException(overloadStatus, overloadStatus == 503
        ? "The server is currently unavailable. Please try again at a later time."
        : "This request was rate-limited.");
    long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    return e.header("Retry-After", String.valueOf(seconds));
  }

  @Override
  public String toString() {
    return this == UNLIMITED ? "unlimited" : concurrent + " at once, " + queue + " queued, then " + overloadStatus;
  }

  /** The live state of a simulator's backend under a {@link BackendCapacity}. Thread-safe. */
  static final class Slots {
    private final BackendCapacity capacity;
    private final BiConsumer<Runnable, Duration> scheduler;
    private final Queue<Pending> waiting = new ArrayDeque<>();
    private int running;
    private int peakRunning;
    private int peakOutstanding;
    private long refused;

    Slots(BackendCapacity capacity, BiConsumer<Runnable, Duration> scheduler) {
      this.capacity = capacity;
      this.scheduler = scheduler;
    }

    /**
     * Admits an operation of {@code work} ending with {@code done}, or throws the refusal. Called before the
     * operation changes anything, so a refused one leaves no trace.
     */
    void submit(Duration work, Runnable done) {
      Pending p = new Pending(work, done);
      synchronized (this) {
        switch (admit(running, waiting.size(), capacity.concurrent, capacity.queue)) {
          case START -> running++;
          case QUEUE -> {
            waiting.add(p);
            p = null;
          }
          default -> {
            refused++;
            throw capacity.refusal();
          }
        }
        peakRunning = Math.max(peakRunning, running);
        peakOutstanding = Math.max(peakOutstanding, running + waiting.size());
      }
      if (p != null) {
        start(p);
      }
    }

    private void start(Pending p) {
      scheduler.accept(() -> {
        try {
          p.done.run();
        } finally {
          finished();
        }
      }, p.work);
    }

    private void finished() {
      Pending next;
      synchronized (this) {
        next = waiting.poll();
        if (next == null) {
          running--;
        }
      }
      if (next != null) {
        start(next); // the slot passes on
      }
    }

    synchronized Stats stats() {
      return new Stats(running, waiting.size(), peakRunning, peakOutstanding, refused);
    }

    synchronized void resetPeaks() {
      peakRunning = running;
      peakOutstanding = running + waiting.size();
      refused = 0;
    }

    private record Pending(Duration work, Runnable done) {}
  }

  /**
   * The backend's load: operations worked on and waiting now, the most of each since start or
   * {@link CinderSimulator#resetRequestCounts()}, and how many were refused since then.
   */
  public record Stats(int running, int waiting, int peakRunning, int peakOutstanding, long refused) {}
}
