package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * More than one Cinder volume for one claim: a create that timed out on our side but that Cinder carried out,
 * or two replicas provisioning the claim at once (a rollout with leader election off, a paused leader). The rule:
 * <b>the volume a PV names is the keeper and is never deleted</b>. Before any PV names one, every replica uses the
 * oldest and deletes none (another replica may be about to save a PV naming any of them); once the claim's PV is
 * saved, by us or by another replica (our save then meets a 409), the volumes it does not name are taken back
 * and deleted; the claim keeps our intent (finalizer) until they are, so a failure or a crash on the way is
 * retried, with a fresh look-up that also finds a create Cinder carried out late.
 */
final class DuplicateVolumes {
  private static final Logger log = LoggerFactory.getLogger(DuplicateVolumes.class);

  private final VolumeRemoval removal;
  private final Duration stuckAfter;

  DuplicateVolumes(VolumeRemoval removal, Duration stuckAfter) {
    this.removal = removal;
    this.stuckAfter = stuckAfter;
  }

  /** The volume to use while no PV names one: the oldest (then the smallest id), the same for every replica. */
  static CinderVolume keeper(List<CinderVolume> found) {
    return found.stream().min(Comparator.comparing((CinderVolume v) -> v.createdAt() == null ? Instant.MAX
        : v.createdAt()).thenComparing(CinderVolume::id)).orElseThrow();
  }

  /** The volume among {@code found} that a PV names, if any. */
  static Optional<CinderVolume> named(List<CinderVolume> found, String pvVolumeId) {
    return found.stream().filter(v -> v.id().equals(pvVolumeId)).findFirst();
  }

  /**
   * Takes back the export of and deletes every volume in {@code ids} but {@code keptId}, the one the saved PV
   * names. Tries them all; throws a retryable failure naming those that could not go yet (the caller keeps the
   * claim's intent and comes back).
   */
  void deleteAllBut(String keptId, Collection<String> ids, String pvName) throws ProvisioningException {
    List<String> pending = new java.util.ArrayList<>();
    for (String id : ids) {
      if (id.equals(keptId)) {
        continue;
      }
      try {
        if (removal.remove(id, stuckAfter)) {
          log.warn("deleted duplicate Cinder volume {}: PV {} names {}", id, pvName, keptId);
        } else {
          pending.add(id + " (still being created)");
        }
      } catch (CinderException e) {
        pending.add(id + " (" + e.getMessage() + ")");
      }
    }
    if (!pending.isEmpty()) {
      throw ProvisioningException.retryable("PV " + pvName + " names Cinder volume " + keptId
          + "; could not delete its duplicates yet: " + pending, null);
    }
  }
}
