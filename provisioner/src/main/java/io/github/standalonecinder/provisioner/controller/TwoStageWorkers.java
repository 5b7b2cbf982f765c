package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.leader.FencedException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Works off a {@link WorkQueue} in two stages. At most {@code slots} keys are in their first stage (for the
 * controller: Cinder work, which mostly waits for Cinder); a first stage may hand back a second (the Kubernetes
 * writes that finish a claim), which runs on the same thread without holding a first-stage slot, so the next key
 * starts meanwhile. At most {@code slots} keys are in their second stage; past that a finished first stage keeps
 * its slot until a second-stage one is free, so writes falling behind slow the first stages down instead of
 * piling up. A key stays in flight in the queue, never handed out twice, until both of its stages are done.
 * Threads are made on demand and end after {@link #IDLE_THREAD_SECONDS} without work.
 */
final class TwoStageWorkers<K> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TwoStageWorkers.class);
  static final long IDLE_THREAD_SECONDS = 60;

  /** The first stage of a key's work; returns the second, or null when there is none. */
  @FunctionalInterface
  interface FirstStage<K> {
    SecondStage process(K key) throws InterruptedException;
  }

  @FunctionalInterface
  interface SecondStage {
    void run() throws InterruptedException;
  }

  private final WorkQueue<K> queue;
  private final FirstStage<K> firstStage;
  private final Semaphore firstSlots;
  private final Semaphore secondSlots;
  private final ThreadPoolExecutor threads;
  private final Thread dispatcher;

  TwoStageWorkers(WorkQueue<K> queue, int slots, String threadPrefix, FirstStage<K> firstStage) {
    this.queue = queue;
    this.firstStage = firstStage;
    this.firstSlots = new Semaphore(slots);
    this.secondSlots = new Semaphore(slots);
    AtomicInteger number = new AtomicInteger();
    // Unbounded: the slots bound the work, and a thread just done may not be back in the pool yet.
    this.threads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, threadPrefix + number.getAndIncrement());
          t.setDaemon(true);
          return t;
        });
    this.dispatcher = new Thread(this::dispatch, threadPrefix + "dispatcher");
    this.dispatcher.setDaemon(true);
  }

  void start() {
    dispatcher.start();
  }

  /**
   * For what a stage starts beside itself and waits for (a write made while a read is under way): threads of the
   * same pool, made on demand, interrupted by {@link #close()}.
   */
  Executor sideThreads() {
    return threads;
  }

  /** Whether the dispatcher is handing out keys (false before {@link #start}, after {@link #close}, or if it died). */
  boolean alive() {
    return dispatcher.isAlive();
  }

  /** Threads now alive, working or idle. */
  int threadCount() {
    return threads.getPoolSize();
  }

  /** Stops taking keys and interrupts the work in progress; the queue is the caller's to close. */
  @Override
  public void close() {
    dispatcher.interrupt();
    threads.shutdownNow();
  }

  private void dispatch() {
    while (!Thread.currentThread().isInterrupted()) {
      K key;
      try {
        firstSlots.acquire();
        key = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (key == null) {
        return; // the queue is shut down
      }
      try {
        threads.execute(() -> work(key));
      } catch (RejectedExecutionException e) {
        firstSlots.release(); // closing
        queue.done(key);
        return;
      }
    }
  }

  private void work(K key) {
    boolean holdsFirstSlot = true;
    MDC.put("key", key.toString());
    try {
      SecondStage second = firstStage.process(key);
      if (second != null) {
        secondSlots.acquire();
        firstSlots.release();
        holdsFirstSlot = false;
        try {
          second.run();
        } finally {
          secondSlots.release();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closing; a restart picks the key up again
    } catch (RuntimeException e) {
      if (FencedException.causedBy(e)) {
        // Leadership is being lost: the process is about to exit; the next leader takes the key up.
        log.warn("stopped work on {}: {}", key, e.getMessage());
      } else if (threads.isShutdown()) {
        log.info("stopped work on {}: shutting down", key); // interrupted mid-request by close()
      } else {
        // A bug or an API server failure: never lose the key.
        log.error("unexpected failure on {}", key, e);
      }
      queue.addRateLimited(key, null);
    } finally {
      if (holdsFirstSlot) {
        firstSlots.release();
      }
      MDC.remove("key");
      queue.done(key);
    }
  }
}
