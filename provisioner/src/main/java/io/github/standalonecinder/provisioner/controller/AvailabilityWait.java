package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.AdaptiveCinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Waits for a claim's volume to become {@code available} without holding a worker for long. A new wait polls in
 * the worker for at most {@link #IN_WORKER} (most backends create a volume in a second or two, and a claim seen at
 * once is a claim bound at once); past that, and on every later pass, the claim leaves the worker
 * ({@link ProvisioningException#waiting}) and comes back when the poll schedule says, its volume then read
 * afresh by the claim's look-up. A slow or stuck volume costs a worker one short pass per poll, not the whole
 * {@code --available-timeout}.
 *
 * <p>A volume exported before a crash with no PV saved has that export taken back once; one Cinder failed, or that
 * is stuck in {@code creating} past the timeout, is replaced ({@link FailedVolumes}).
 */
final class AvailabilityWait {
  /** The longest a new wait polls in the worker before the claim is parked. */
  static final Duration IN_WORKER = Duration.ofSeconds(5);
  /**
   * As {@link #IN_WORKER}, while the pass holds a place of the adaptive limit ({@code AdaptiveCinderGateway}: it
   * made the create or delete waited for): a volume in a Cinder that queues but keeps up (a few times its unloaded
   * time) is seen done in the worker, the place held meanwhile. A claim parked with its volume still under way
   * gives its place back while Cinder still works on it, and one more operation gets in than Cinder holds (at 5 s,
   * a 2 s Cinder with 8 queued refused 404 deletes of 200 and took x2.3 its capacity).
   */
  static final Duration IN_WORKER_HOLDING_PLACE = Duration.ofSeconds(15);
  /** The shortest time a claim or PV waits in the queue for Cinder. */
  static final Duration SHORTEST_PARK = Duration.ofMillis(500);

  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final FailedVolumes failedVolumes;
  private final Duration timeout;
  private final ClaimProvisioner.Sleeper sleeper;
  /** Told of each volume found not available past the timeout. */
  private final Runnable stuck;
  /** Waits under way, by claim UID. */
  private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();

  private record Waiting(String volumeId, Instant deadline, PollSchedule polls) {}

  AvailabilityWait(CinderGateway cinder, CinderExporter exporter, FailedVolumes failedVolumes, Duration timeout,
      ClaimProvisioner.Sleeper sleeper, Runnable stuck) {
    this.cinder = cinder;
    this.stuck = stuck;
    this.exporter = exporter;
    this.failedVolumes = failedVolumes;
    this.timeout = timeout;
    this.sleeper = sleeper;
  }

  /** Whether the claim is waiting for its volume (parked, or being polled). */
  boolean isWaiting(String claimUid) {
    return waiting.containsKey(claimUid);
  }

  /** The claim is done with (provisioned, failed for good, deleted): forget its wait. */
  void forget(String claimUid) {
    waiting.remove(claimUid);
  }

  /**
   * The volume once {@code available}. Throws {@link ProvisioningException#waiting} when the claim should come
   * back later, a retryable failure when the volume is still not available after the timeout (the wait starts
   * afresh with the next pass), or what {@link FailedVolumes#replace} says for a failed volume.
   *
   * @param volume the volume as just read from Cinder (created, or found by the claim's look-up)
   */
  CinderVolume await(CinderVolume volume, String claimUid) throws ProvisioningException, InterruptedException {
    Instant now = Instant.now();
    Waiting w = waiting.get(claimUid);
    boolean resumed = w != null && w.volumeId().equals(volume.id());
    if (!resumed) {
      w = new Waiting(volume.id(), now.plus(timeout), new PollSchedule());
      waiting.put(claimUid, w);
    }
    Instant waitStarted = now;
    CinderVolume current = volume;
    boolean unexported = false;
    try {
      while (true) {
        String status = current.status() == null ? "" : current.status().toLowerCase();
        switch (status) {
          case "available" -> {
            waiting.remove(claimUid);
            return current;
          }
          case "in-use", "attaching", "reserved", "detaching" -> {
            // Exported before a crash, with no PV saved: take the export back and export again.
            if (!unexported) {
              unexported = true;
              current = unexport(current);
              continue;
            }
          }
          default -> {
            if (FailedVolumes.failed(current)) {
              throw failedVolumes.replace(claimUid, current, "went to status " + current.status());
            }
            if (VolumeRemoval.step(current, Instant.now(), timeout) == VolumeRemoval.Step.FORCE_DELETE) {
              // Nothing in Cinder times a lost create out (a message-bus blip): only we can.
              stuck.run();
              throw failedVolumes.replace(claimUid, current, "was stuck in " + current.status()
                  + " for more than " + timeout.toSeconds() + " s");
            }
            // creating, downloading, extending...: keep waiting
          }
        }
        if (Instant.now().isAfter(w.deadline())) {
          stuck.run();
          throw ProvisioningException.retryable("Cinder volume " + current.id() + " is still " + current.status()
              + " after " + timeout.toSeconds() + "s; will keep checking", null);
        }
        Duration next = w.polls().untilNextRead();
        if (Instant.now().plus(next).isAfter(inWorkerUntil(waitStarted, resumed))) {
          Duration park = next.compareTo(SHORTEST_PARK) < 0 ? SHORTEST_PARK : next;
          throw ProvisioningException.waiting("Cinder volume " + current.id() + " is " + current.status(), park);
        }
        sleeper.sleep(next);
        current = read(current.id());
      }
    } catch (ProvisioningException e) {
      if (!e.waiting()) {
        waiting.remove(claimUid); // a failure ends this wait; the next pass starts a new one
      }
      throw e;
    } catch (RuntimeException | InterruptedException e) {
      waiting.remove(claimUid);
      throw e;
    }
  }

  /** Until when a wait that started at {@code started} may poll in the worker (none when resumed). */
  static Instant inWorkerUntil(Instant started, boolean resumed) {
    if (resumed) {
      return started;
    }
    return started.plus(AdaptiveCinderGateway.holdingPlace() ? IN_WORKER_HOLDING_PLACE : IN_WORKER);
  }

  private CinderVolume unexport(CinderVolume v) throws ProvisioningException {
    try {
      Optional<CinderVolume> after = exporter.unexport(v.id());
      if (after.isEmpty()) {
        throw ProvisioningException.retryable("Cinder volume " + v.id() + " disappeared", null);
      }
      return after.get();
    } catch (CinderException e) {
      throw CinderFailures.of("take back the export of Cinder volume " + v.id(), e);
    }
  }

  private CinderVolume read(String id) throws ProvisioningException {
    try {
      return cinder.getVolume(id).orElseThrow(() -> ProvisioningException.retryable("Cinder volume " + id
          + " disappeared while waiting for it to become available; will create a new one", null));
    } catch (CinderException e) {
      throw CinderFailures.of("read Cinder volume " + id, e);
    }
  }
}
