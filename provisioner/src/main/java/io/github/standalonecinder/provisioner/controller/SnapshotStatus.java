package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderBackup;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Pure functions from what Cinder says to a VolumeSnapshotContent's status, and from a content's status to its
 * VolumeSnapshot's, the way the common snapshot-controller computes the latter
 * ({@code pkg/common-controller/snapshot_controller.go: updateSnapshotStatus}): whichever of the two writes it,
 * the values are the same, so the other finds nothing to change.
 */
final class SnapshotStatus {
  private static final long GIB = 1L << 30;

  private SnapshotStatus() {}

  /** The content status for a Cinder snapshot: handle, creation time (ns), restore size (bytes), ready. */
  static Map<String, Object> ofCinder(Map<String, Object> current, CinderSnapshot s) {
    return of(current, s.id(), s.createdAt(), s.sizeGiB(), "available".equals(s.status()));
  }

  /**
   * The content status for a Cinder backup: handle {@code backup:<id>}, its creation time and size; ready only when
   * the caller says (the backup is available and the snapshot it was made from is gone).
   */
  static Map<String, Object> ofBackup(Map<String, Object> current, CinderBackup b, boolean ready) {
    return of(current, SnapshotStore.backupHandle(b.id()), b.createdAt(), b.sizeGiB(), ready);
  }

  private static Map<String, Object> of(Map<String, Object> current, String handle, Instant createdAt, int sizeGiB,
      boolean ready) {
    Map<String, Object> status = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current);
    status.put("snapshotHandle", handle);
    if (createdAt != null) {
      Instant t = createdAt.truncatedTo(ChronoUnit.SECONDS);
      status.put("creationTime", t.getEpochSecond() * 1_000_000_000L);
    }
    status.put("restoreSize", sizeGiB * GIB);
    status.put("readyToUse", ready);
    if (ready) {
      status.remove("error");
    }
    return status;
  }

  /** The status with {@code error} set (and readyToUse false), or null when that error message is already set. */
  static Map<String, Object> withError(Map<String, Object> current, String message, Instant now) {
    if (current != null && current.get("error") instanceof Map<?, ?> e && message.equals(e.get("message"))) {
      return null; // as updateSnapshotErrorStatusWithEvent: the same error again changes nothing, sends no Event
    }
    Map<String, Object> status = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current);
    status.put("error", Map.of("time", now.truncatedTo(ChronoUnit.SECONDS).toString(), "message", message));
    status.put("readyToUse", false);
    return status;
  }

  /**
   * The VolumeSnapshot status bound to {@code contentName} with {@code content}'s status, as updateSnapshotStatus
   * builds it; null when nothing changes.
   */
  static Map<String, Object> snapshotFromContent(Map<String, Object> current, String contentName,
      Map<String, Object> content) {
    Object creationNs = content == null ? null : content.get("creationTime");
    Object size = content == null ? null : content.get("restoreSize");
    boolean ready = content != null && Boolean.TRUE.equals(content.get("readyToUse"));
    Object error = content == null ? null : content.get("error");
    Map<String, Object> status = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current);
    status.putIfAbsent("boundVolumeSnapshotContentName", contentName);
    if (status.get("creationTime") == null && creationNs instanceof Number n) {
      long ns = n.longValue();
      status.put("creationTime", Instant.ofEpochSecond(ns / 1_000_000_000L, ns % 1_000_000_000L).toString());
    }
    if (!Objects.equals(status.get("readyToUse"), ready)) {
      status.put("readyToUse", ready);
      if (ready) {
        status.remove("error");
      }
    }
    if (size instanceof Number n && n.longValue() > 0
        && (status.get("restoreSize") == null || isZero(status.get("restoreSize")))) {
      status.put("restoreSize", quantity(n.longValue()));
    }
    if (error != null) {
      status.put("error", error);
    } else {
      status.remove("error"); // the content's error is the snapshot's: none there, none here
    }
    return status.equals(current) ? null : status;
  }

  /** resource.NewQuantity(bytes, BinarySI) as it serializes: whole Gi, Mi, Ki, else plain bytes. */
  static String quantity(long bytes) {
    String[] units = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
    for (int i = 0; i < units.length; i++) {
      long unit = 1L << (10 * (6 - i));
      if (bytes % unit == 0) {
        return (bytes / unit) + units[i];
      }
    }
    return Long.toString(bytes);
  }

  private static boolean isZero(Object q) {
    String s = q.toString();
    return s.matches("0+([a-zA-Z]+)?");
  }

  static boolean ready(Map<String, Object> status) {
    return status != null && Boolean.TRUE.equals(status.get("readyToUse"));
  }
}
