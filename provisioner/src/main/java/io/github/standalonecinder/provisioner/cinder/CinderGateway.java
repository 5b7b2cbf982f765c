package io.github.standalonecinder.provisioner.cinder;

import io.github.standalonecinder.mappers.ConnectionInfo;
import io.github.standalonecinder.mappers.Connector;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Everything the provisioner asks of Cinder. Every method is safe to call from any thread; each call is one
 * unit of work with its own OpenStack session. Failures are {@link CinderException}s with a classified
 * {@link CinderException.Kind}.
 */
public interface CinderGateway {

  /** The API version in use and the microversion range the server offers. */
  ApiVersion apiVersion();

  CinderVolume createVolume(VolumeCreateRequest request);

  /** The volume, or empty when Cinder answers 404. */
  Optional<CinderVolume> getVolume(String volumeId);

  /**
   * Volumes with exactly this name whose metadata contains every given entry, over all pages. Uses server-side
   * name filtering where the microversion allows (3.34) and always checks name and metadata locally.
   */
  List<CinderVolume> findVolumes(String name, Map<String, String> metadata);

  /** All volumes whose metadata contains every given entry, over all pages ({@code marker}/{@code limit}). */
  List<CinderVolume> listVolumes(Map<String, String> metadata);

  /**
   * As {@link #listVolumes}, handing each volume to {@code each} as its page arrives: only one page of Cinder's
   * answer is held at a time, whatever the number of volumes. A failure on a later page is thrown after the
   * earlier pages' volumes were handed over.
   */
  default void forEachVolume(Map<String, String> metadata, Consumer<CinderVolume> each) {
    listVolumes(metadata).forEach(each);
  }

  /**
   * Adds or replaces the given metadata keys of the volume, leaving its other keys alone
   * ({@code POST /volumes/{id}/metadata}).
   */
  void updateVolumeMetadata(String volumeId, Map<String, String> metadata);

  /**
   * Replaces all of the volume's metadata ({@code PUT /volumes/{id}/metadata}): how keys are removed (a key with a
   * {@code /} cannot be named in a {@code DELETE …/metadata/{key}} path).
   */
  void replaceVolumeMetadata(String volumeId, Map<String, String> metadata);

  /** {@code os-reserve}. */
  void reserve(String volumeId);

  /** {@code os-unreserve}. */
  void unreserve(String volumeId);

  /** {@code os-initialize_connection}. */
  ConnectionInfo initializeConnection(String volumeId, Connector connector);

  /** {@code os-terminate_connection}. */
  void terminateConnection(String volumeId, Connector connector);

  /** {@code os-attach} with a host name and no instance, so the volume does not stay {@code attaching}. */
  void attach(String volumeId, String hostName, String mountpoint);

  /** {@code os-detach}; a null attachment id detaches the only attachment. */
  void detach(String volumeId, String attachmentId);

  /** v3 attachments API (microversion 3.27): create an attachment with a connector, returning its connection info. */
  CinderAttachment createAttachment(String volumeId, Connector connector, String hostName);

  /** {@code os-complete} on an attachment (microversion 3.44): the volume becomes {@code in-use}. */
  void completeAttachment(String attachmentId);

  /** Deletes an attachment; 404 counts as done. Returns false when it was already gone. */
  boolean deleteAttachment(String attachmentId);

  /**
   * Every attachment of the volume, including those still {@code reserved} or {@code attaching} that the volume's
   * own {@code attachments} list leaves out (microversion 3.27). Connection info is not filled in.
   */
  List<CinderAttachment> listAttachments(String volumeId);

  /** Deletes the volume; returns false when it was already gone (404). */
  boolean deleteVolume(String volumeId);

  /** {@code os-force_delete}: deletes whatever the status (admin only); false when already gone. */
  boolean forceDeleteVolume(String volumeId);

  /** {@code os-extend} to {@code newSizeGiB}. */
  void extendVolume(String volumeId, int newSizeGiB);

  /**
   * {@code os-retype} to another volume type (name or id), with {@code migration_policy} {@code never} or
   * {@code on-demand} (the volume may move to another backend); the volume goes {@code retyping}, then back.
   */
  void retypeVolume(String volumeId, String newType, String migrationPolicy);

  CinderSnapshot createSnapshot(String volumeId, String name, Map<String, String> metadata, boolean force);

  Optional<CinderSnapshot> getSnapshot(String snapshotId);

  /** Snapshots whose metadata contains every given entry, over all pages. */
  List<CinderSnapshot> listSnapshots(Map<String, String> metadata);

  /** Returns false when it was already gone (404). */
  boolean deleteSnapshot(String snapshotId);

  /**
   * {@code POST /backups} of the volume, from {@code snapshotId} when not null, with {@code name} and
   * {@code metadata} (microversion 3.43). Cinder answers at once with the backup {@code creating}.
   */
  CinderBackup createBackup(String volumeId, String snapshotId, String name, Map<String, String> metadata,
      boolean force);

  Optional<CinderBackup> getBackup(String backupId);

  /** Backups with exactly this name whose metadata contains every given entry, over all pages. */
  List<CinderBackup> findBackups(String name, Map<String, String> metadata);

  /**
   * Returns false when it was already gone. A Cinder without a running cinder-backup answers a delete with 404
   * "Service cinder-backup could not be found."; that is a {@link CinderException#noBackupService()} failure, not
   * a deleted backup.
   */
  boolean deleteBackup(String backupId);

  /**
   * Whether a {@code cinder-backup} service is enabled and up ({@code GET /os-services?binary=cinder-backup});
   * empty when Cinder does not let us ask (the services API is admin-only by default).
   */
  Optional<Boolean> backupServiceUp();

  List<VolumeType> listVolumeTypes();

  /**
   * What Cinder's user messages API (microversion 3.3) says about a resource, newest first: why a volume went to
   * {@code error}, for example. Empty on a Cinder without it.
   */
  List<String> listUserMessages(String resourceId);

  /** Availability zone names with their state. */
  List<AvailabilityZone> listAvailabilityZones();
}
