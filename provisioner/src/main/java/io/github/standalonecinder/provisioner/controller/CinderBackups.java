package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderBackup;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Cinder backups of VolumeSnapshots whose class says {@code type: backup}, crash-safe as their snapshots are:
 * named {@code backup-<VolumeSnapshot UID>} with the same metadata, looked up before every create. Cinder without a
 * running cinder-backup service gets one clear message ({@link #NO_SERVICE}), retried as a server error is.
 */
final class CinderBackups {
  private static final Logger log = LoggerFactory.getLogger(CinderBackups.class);
  static final String NO_SERVICE = "Cinder has no backup service (cinder-backup is not running): VolumeSnapshots of "
      + "a class with type: backup cannot be made or deleted until it runs";

  private final CinderGateway cinder;
  private final CinderSnapshots snapshots;

  /** The backups of the Cinder (and cluster) whose snapshots {@code snapshots} are. */
  CinderBackups(CinderSnapshots snapshots) {
    this.cinder = snapshots.gateway();
    this.snapshots = snapshots;
  }

  static String name(String snapshotUid) {
    return "backup-" + snapshotUid;
  }

  /** Our backups of this VolumeSnapshot, oldest first. */
  List<CinderBackup> find(String snapshotUid) throws ProvisioningException {
    try {
      return cinder.findBackups(name(snapshotUid), snapshots.identity(snapshotUid)).stream()
          .sorted(CinderSnapshots.oldestFirst(CinderBackup::createdAt, CinderBackup::id)).toList();
    } catch (CinderException e) {
      throw failure("list Cinder backups of VolumeSnapshot " + snapshotUid, e, false);
    }
  }

  /**
   * Refuses before anything is made when Cinder says no cinder-backup runs: a backup of a snapshot made without it
   * leaves that snapshot {@code backing-up} for good (Cinder's scheduler puts back only the volume's status). When
   * Cinder does not let us ask (not admin), the backup's own fate tells.
   */
  void requireService() throws ProvisioningException {
    Optional<Boolean> up;
    try {
      up = cinder.backupServiceUp();
    } catch (CinderException e) {
      throw failure("ask Cinder for its cinder-backup service", e, false);
    }
    if (up.isPresent() && !up.get()) {
      throw ProvisioningException.retryable(NO_SERVICE + " (GET /os-services lists none enabled and up)", null);
    }
  }

  /** A backup of the (intermediate) Cinder snapshot {@code snapshotId} of the volume, for this VolumeSnapshot. */
  CinderBackup create(String volumeId, String snapshotId, String namespace, String name, String snapshotUid,
      String contentName) throws ProvisioningException {
    Map<String, String> metadata = new LinkedHashMap<>(snapshots.metadata(namespace, name, snapshotUid,
        contentName));
    try {
      CinderBackup created = cinder.createBackup(volumeId, snapshotId, name(snapshotUid), metadata, true);
      log.info("created Cinder backup {} of volume {} (from snapshot {}) for VolumeSnapshot {}/{}", created.id(),
          volumeId, snapshotId, namespace, name);
      return created;
    } catch (CinderException e) {
      throw failure("create a Cinder backup of volume " + volumeId, e, true);
    }
  }

  Optional<CinderBackup> get(String id) throws ProvisioningException {
    try {
      return cinder.getBackup(id);
    } catch (CinderException e) {
      throw failure("get Cinder backup " + id, e, false);
    }
  }

  /** Deletes the backup; already gone counts as done. */
  void delete(String id) throws ProvisioningException {
    try {
      if (cinder.deleteBackup(id)) {
        log.info("deleting Cinder backup {}", id);
      }
    } catch (CinderException e) {
      throw failure("delete Cinder backup " + id, e, false);
    }
  }

  /** Why a backup in {@code error} failed, as the VolumeSnapshot's error. */
  static ProvisioningException wentToError(CinderBackup b) {
    if (b.failReason() != null && CinderException.noBackupService(b.failReason())) {
      return ProvisioningException.retryable(NO_SERVICE + " (Cinder backup " + b.id() + " went to error: "
          + b.failReason() + ")", null);
    }
    return ProvisioningException.retryable("Cinder backup " + b.id() + " went to error"
        + (b.failReason() == null ? "" : ": " + b.failReason()), null);
  }

  private static ProvisioningException failure(String what, CinderException e, boolean create) {
    if (e.noBackupService()) {
      return ProvisioningException.retryable(NO_SERVICE + " (could not " + what + ": " + e.getMessage() + ")",
          e.retryAfter().orElse(null), e);
    }
    return create ? CinderFailures.ofCreate(what, e) : CinderFailures.of(what, e);
  }
}
