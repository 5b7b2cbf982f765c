package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Cinder side of a dynamic VolumeSnapshot, crash-safe as volumes are: the snapshot is named
 * {@code snapshot-<VolumeSnapshot UID>} and carries the cluster id and the VolumeSnapshot's identity as metadata,
 * and is looked up by them before every create, so a restart at any step reuses it instead of making another.
 * Failures are {@link ProvisioningException}s classified by {@link CinderFailures}.
 */
final class CinderSnapshots {
  private static final Logger log = LoggerFactory.getLogger(CinderSnapshots.class);

  private final CinderGateway cinder;
  private final ProvisionerSettings settings;

  CinderSnapshots(CinderGateway cinder, ProvisionerSettings settings) {
    this.cinder = cinder;
    this.settings = settings;
  }

  CinderGateway gateway() {
    return cinder;
  }

  static String name(String snapshotUid) {
    return "snapshot-" + snapshotUid;
  }

  /** What identifies our Cinder snapshots of one VolumeSnapshot. */
  Map<String, String> identity(String snapshotUid) {
    return Map.of(Annotations.META_CLUSTER, settings.clusterId(), SnapshotApi.META_SNAPSHOT_UID, snapshotUid);
  }

  /** Oldest first (unknown creation times last), then by id: the one of several to keep using. */
  static <T> Comparator<T> oldestFirst(java.util.function.Function<T, java.time.Instant> createdAt,
      java.util.function.Function<T, String> id) {
    return Comparator.comparing((T t) -> createdAt.apply(t) == null ? java.time.Instant.MAX : createdAt.apply(t))
        .thenComparing(id);
  }

  /** The metadata of our Cinder snapshots and backups of this VolumeSnapshot. */
  Map<String, String> metadata(String namespace, String name, String snapshotUid, String contentName) {
    Map<String, String> metadata = new LinkedHashMap<>(identity(snapshotUid));
    metadata.put(Annotations.META_PROVISIONER, settings.provisionerName());
    metadata.put(SnapshotApi.META_SNAPSHOT_NAMESPACE, namespace);
    metadata.put(SnapshotApi.META_SNAPSHOT_NAME, name);
    metadata.put(SnapshotApi.META_CONTENT_NAME, contentName);
    return metadata;
  }

  /** Our Cinder snapshots of this VolumeSnapshot, oldest first. */
  List<CinderSnapshot> find(String snapshotUid) throws ProvisioningException {
    try {
      return cinder.listSnapshots(identity(snapshotUid)).stream()
          .filter(s -> name(snapshotUid).equals(s.name()))
          .sorted(oldestFirst(CinderSnapshot::createdAt, CinderSnapshot::id)).toList();
    } catch (CinderException e) {
      throw CinderFailures.of("list Cinder snapshots of VolumeSnapshot " + snapshotUid, e);
    }
  }

  /**
   * The Cinder snapshot of the volume for this VolumeSnapshot: the one found, else a new one ({@code force}, so an
   * exported, {@code in-use} volume can be snapshotted).
   */
  CinderSnapshot findOrCreate(String volumeId, String namespace, String name, String snapshotUid,
      String contentName) throws ProvisioningException {
    List<CinderSnapshot> found = find(snapshotUid);
    if (!found.isEmpty()) {
      return found.get(0);
    }
    try {
      CinderSnapshot created = cinder.createSnapshot(volumeId, name(snapshotUid),
          metadata(namespace, name, snapshotUid, contentName), true);
      log.info("created Cinder snapshot {} of volume {} for VolumeSnapshot {}/{}", created.id(), volumeId,
          namespace, name);
      return created;
    } catch (CinderException e) {
      throw CinderFailures.ofCreate("create a Cinder snapshot of volume " + volumeId, e);
    }
  }

  Optional<CinderSnapshot> get(String id) throws ProvisioningException {
    try {
      return cinder.getSnapshot(id);
    } catch (CinderException e) {
      throw CinderFailures.of("get Cinder snapshot " + id, e);
    }
  }

  /** Deletes the snapshot; already gone counts as done. */
  void delete(String id) throws ProvisioningException {
    try {
      if (cinder.deleteSnapshot(id)) {
        log.info("deleting Cinder snapshot {}", id);
      }
    } catch (CinderException e) {
      throw CinderFailures.of("delete Cinder snapshot " + id, e);
    }
  }
}
