package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.mappers.MappingRequest;
import io.github.standalonecinder.provisioner.config.CloudSet;
import java.util.List;
import java.util.Map;

/**
 * Everything decided about a claim before Cinder is called: the result of validating the claim and its
 * StorageClass.
 *
 * @param mapperParameters StorageClass parameters handed to the volume mapper
 * @param sourceVolumeId   clone source (from a PVC dataSource), or null
 * @param snapshotId       the handle of a VolumeSnapshot dataSource to restore from (a Cinder snapshot id, or
 *                         {@code backup:<id>} for a Cinder backup: {@link SnapshotStore}), or null
 * @param schedulerHints   Cinder scheduler hints the claim asks for ({@link SchedulerHints})
 * @param adoptVolumeId    an existing Cinder volume to adopt instead of creating one ({@link VolumeAdoption}), or null
 * @param secretPlacement  the class's {@code secret-namespace} and {@code shared-secrets-in-claim-namespace}
 * @param cloud            the cloud the volume is made in (the class's parameter {@code cloud}, or "default")
 */
public record ProvisionPlan(
    String pvName,
    String volumeName,
    int sizeGiB,
    String volumeType,
    String availabilityZone,
    Map<String, String> volumeMetadata,
    String secretNamespace,
    MappingRequest.SecretPlacement secretPlacement,
    List<String> accessModes,
    String volumeMode,
    boolean readOnly,
    String reclaimPolicy,
    List<String> mountOptions,
    String storageClassName,
    Map<String, String> mapperParameters,
    String sourceVolumeId,
    String snapshotId,
    Map<String, List<String>> schedulerHints,
    String adoptVolumeId,
    String cloud) {

  /** A plan in the default cloud. */
  public ProvisionPlan(String pvName, String volumeName, int sizeGiB, String volumeType, String availabilityZone,
      Map<String, String> volumeMetadata, String secretNamespace, MappingRequest.SecretPlacement secretPlacement,
      List<String> accessModes, String volumeMode, boolean readOnly, String reclaimPolicy, List<String> mountOptions,
      String storageClassName, Map<String, String> mapperParameters, String sourceVolumeId, String snapshotId,
      Map<String, List<String>> schedulerHints, String adoptVolumeId) {
    this(pvName, volumeName, sizeGiB, volumeType, availabilityZone, volumeMetadata, secretNamespace, secretPlacement,
        accessModes, volumeMode, readOnly, reclaimPolicy, mountOptions, storageClassName, mapperParameters,
        sourceVolumeId, snapshotId, schedulerHints, adoptVolumeId, CloudSet.DEFAULT);
  }

  /** True for a volume in a named cloud: its PV and the claim's intent record the cloud. */
  public boolean namedCloud() {
    return !CloudSet.DEFAULT.equals(cloud);
  }

  public ProvisionPlan {
    cloud = cloud == null ? CloudSet.DEFAULT : cloud;
    volumeMetadata = Map.copyOf(volumeMetadata);
    accessModes = List.copyOf(accessModes);
    mountOptions = mountOptions == null ? List.of() : List.copyOf(mountOptions);
    mapperParameters = Map.copyOf(mapperParameters);
    schedulerHints = schedulerHints == null ? Map.of() : Map.copyOf(schedulerHints);
  }
}
