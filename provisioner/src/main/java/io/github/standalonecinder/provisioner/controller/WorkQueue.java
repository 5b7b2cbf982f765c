package io.github.standalonecinder.provisioner.controller;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A de-duplicating, rate-limited work queue in the manner of client-go's workqueue: a key is queued at most
 * once, is never handed to two workers at once (a key added while in flight is re-queued when its worker is
 * done), and failing keys come back after a per-key exponential backoff.
 */
public final class WorkQueue<K> implements AutoCloseable {
  private final Deque<K> queue = new ArrayDeque<>();
  private final Set<K> queued = new HashSet<>();
  private final Set<K> inFlight = new HashSet<>();
  private final Set<K> dirtyWhileInFlight = new HashSet<>();
  private final Map<K, Integer> failures = new HashMap<>();
  /** Keys waiting out a backoff or Retry-After: not handed out again before this {@link System#nanoTime()}. */
  private final Map<K, Long> notBefore = new HashMap<>();
  private final Duration baseDelay;
  private final Duration maxDelay;
  private final ScheduledExecutorService timer;
  private boolean shutDown;

  public WorkQueue(Duration baseDelay, Duration maxDelay) {
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "workqueue-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /** Queues {@code key} now, unless it is already waiting. */
  public synchronized void add(K key) {
    if (shutDown) {
      return;
    }
    if (inFlight.contains(key)) {
      dirtyWhileInFlight.add(key);
      return;
    }
    Long until = notBefore.get(key);
    if (until != null) {
      if (until - System.nanoTime() > 0) {
        // Backing off (perhaps because Cinder said Retry-After): an event, often our own write to the object,
        // must not bring the retry forward. The backoff timer queues the key when the time has come.
        return;
      }
      notBefore.remove(key);
    }
    if (queued.add(key)) {
      queue.addLast(key);
      notifyAll();
    }
  }

  /** Queues {@code key} after {@code delay}. */
  public void addAfter(K key, Duration delay) {
    if (delay.isZero() || delay.isNegative()) {
      add(key);
      return;
    }
    synchronized (this) {
      if (shutDown) {
        return;
      }
    }
    timer.schedule(() -> add(key), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Queues {@code key} after its next backoff delay (base × 2^failures, capped), or after {@code atLeast} when
   * that is longer (a server's Retry-After). Returns the delay used.
   */
  public Duration addRateLimited(K key, Duration atLeast) {
    Duration delay;
    synchronized (this) {
      int n = failures.merge(key, 1, Integer::sum) - 1;
      delay = backoff(n);
    }
    if (atLeast != null && atLeast.compareTo(delay) > 0) {
      delay = atLeast;
    }
    return addNotBefore(key, delay);
  }

  /**
   * Queues {@code key} after {@code delay}, and not before: events meanwhile do not bring it forward. Unlike
   * {@link #addRateLimited}, the key's failure count is unchanged (a claim waiting for Cinder has not failed).
   */
  public Duration addNotBefore(K key, Duration delay) {
    long until = System.nanoTime() + delay.toNanos();
    synchronized (this) {
      if (shutDown) {
        return delay;
      }
      notBefore.put(key, until);
    }
    timer.schedule(() -> addAfterBackoff(key, until), delay.toMillis(), TimeUnit.MILLISECONDS);
    return delay;
  }

  private synchronized void addAfterBackoff(K key, long until) {
    Long current = notBefore.get(key);
    if (current != null && current != until) {
      return; // a later backoff replaced this one; its own timer queues the key
    }
    notBefore.remove(key);
    add(key);
  }

  Duration backoff(int previousFailures) {
    long factor = 1L << Math.min(previousFailures, 30);
    long millis = baseDelay.toMillis() * factor;
    if (millis <= 0 || millis > maxDelay.toMillis()) {
      return maxDelay;
    }
    return Duration.ofMillis(millis);
  }

  /** Clears the key's failure count: its next failure starts again at the base delay. */
  public synchronized void forget(K key) {
    failures.remove(key);
    notBefore.remove(key);
  }

  public synchronized int failures(K key) {
    return failures.getOrDefault(key, 0);
  }

  /** Blocks until a key is available and marks it in flight; returns null once the queue is shut down. */
  public synchronized K take() throws InterruptedException {
    while (queue.isEmpty() && !shutDown) {
      wait();
    }
    if (shutDown) {
      return null;
    }
    K key = queue.removeFirst();
    queued.remove(key);
    inFlight.add(key);
    return key;
  }

  /** Marks the key's processing finished; a key added meanwhile is queued again. */
  public synchronized void done(K key) {
    inFlight.remove(key);
    if (dirtyWhileInFlight.remove(key)) {
      add(key);
    }
  }

  public synchronized int size() {
    return queue.size();
  }

  public synchronized boolean isIdle() {
    return queue.isEmpty() && inFlight.isEmpty();
  }

  @Override
  public void close() {
    synchronized (this) {
      shutDown = true;
      notifyAll();
    }
    timer.shutdownNow();
  }
}
