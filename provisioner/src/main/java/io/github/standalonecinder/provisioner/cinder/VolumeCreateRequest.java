package io.github.standalonecinder.provisioner.cinder;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The body of {@code POST /volumes}. Null fields are left out of the request.
 *
 * @param sourceVolumeId clone from this volume ({@code source_volid})
 * @param snapshotId     restore from this snapshot ({@code snapshot_id})
 * @param backupId       restore from this Cinder backup ({@code backup_id}, microversion 3.47)
 * @param schedulerHints Cinder scheduler hints ({@code OS-SCH-HNT:scheduler_hints}): {@code same_host} and
 *                       {@code different_host}, each a list of volume ids; empty: none
 */
public record VolumeCreateRequest(
    String name,
    int sizeGiB,
    String volumeType,
    String availabilityZone,
    String description,
    Map<String, String> metadata,
    String sourceVolumeId,
    String snapshotId,
    String backupId,
    Map<String, List<String>> schedulerHints) {

  public VolumeCreateRequest(String name, int sizeGiB, String volumeType, String availabilityZone,
      String description, Map<String, String> metadata, String sourceVolumeId, String snapshotId,
      Map<String, List<String>> schedulerHints) {
    this(name, sizeGiB, volumeType, availabilityZone, description, metadata, sourceVolumeId, snapshotId, null,
        schedulerHints);
  }

  public VolumeCreateRequest(String name, int sizeGiB, String volumeType, String availabilityZone,
      String description, Map<String, String> metadata, String sourceVolumeId, String snapshotId) {
    this(name, sizeGiB, volumeType, availabilityZone, description, metadata, sourceVolumeId, snapshotId, null,
        Map.of());
  }

  public VolumeCreateRequest {
    Objects.requireNonNull(name, "name");
    if (sizeGiB < 1) {
      throw new IllegalArgumentException("size must be at least 1 GiB, got " + sizeGiB);
    }
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    schedulerHints = schedulerHints == null ? Map.of() : Map.copyOf(schedulerHints);
  }
}
