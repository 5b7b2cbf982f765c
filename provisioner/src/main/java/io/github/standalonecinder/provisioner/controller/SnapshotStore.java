package io.github.standalonecinder.provisioner.controller;

import java.util.Map;

/**
 * Where a VolumeSnapshot's data is kept in Cinder, chosen by its class's {@code parameters.type} as cinder-csi's is:
 * {@code snapshot} (the default) or {@code backup}. A content's {@code snapshotHandle} says which: a Cinder snapshot
 * id as it is, a backup as {@code backup:<backup id>}, so a restore, a deletion or a pre-provisioned content needs
 * nothing else to tell them apart. Pure functions.
 */
enum SnapshotStore {
  SNAPSHOT,
  BACKUP;

  /** The VolumeSnapshotClass parameter (cinder-csi's name). */
  static final String PARAMETER = "type";
  /** On a dynamic content: the store its class chose when it was made (the class may change or go later). */
  static final String ANNOTATION = "standalone-cinder.openstack.org/snapshot-type";
  static final String BACKUP_HANDLE_PREFIX = "backup:";

  /** The store a class's parameters ask for; anything but {@code snapshot}, {@code backup} or none is bad input. */
  static SnapshotStore ofClassParameters(String className, Map<String, Object> parameters)
      throws ProvisioningException {
    Object type = parameters == null ? null : parameters.get(PARAMETER);
    if (type == null || "snapshot".equals(type)) {
      return SNAPSHOT;
    }
    if ("backup".equals(type)) {
      return BACKUP;
    }
    throw ProvisioningException.invalid("VolumeSnapshotClass " + className + " has parameters." + PARAMETER + " \""
        + type + "\"; use snapshot (the default) or backup");
  }

  /** A content's store: its annotation, else its handle. */
  static SnapshotStore ofContent(String annotation, String handle) {
    return "backup".equals(annotation) || isBackup(handle) ? BACKUP : SNAPSHOT;
  }

  String annotationValue() {
    return this == BACKUP ? "backup" : "snapshot";
  }

  static String backupHandle(String backupId) {
    return BACKUP_HANDLE_PREFIX + backupId;
  }

  static boolean isBackup(String handle) {
    return handle != null && handle.startsWith(BACKUP_HANDLE_PREFIX);
  }

  /** The Cinder backup id of a handle, or null when it names a snapshot. */
  static String backupId(String handle) {
    return isBackup(handle) ? handle.substring(BACKUP_HANDLE_PREFIX.length()) : null;
  }

  /** The Cinder snapshot id of a handle, or null when it names a backup. */
  static String snapshotId(String handle) {
    return isBackup(handle) ? null : handle;
  }
}
