package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cinder backups ({@code cinder/backup/api.py}, {@code cinder/api/contrib/backups.py}, the scheduler's
 * {@code create_backup}, as in Cinder 21), with or without a running cinder-backup service
 * ({@link CinderSimulator.Builder#backupService}).
 *
 * <p>With the service: creating → available after createDelay; the volume is {@code backing-up} meanwhile (the
 * snapshot, for a backup of a snapshot), then back. Without it, as Cinder's scheduler does: the create is accepted
 * (202), the backup goes to {@code error} with {@code fail_reason} "Service not found for creating backup." and a
 * user message; a source snapshot stays {@code backing-up}, and the volume's status becomes its
 * {@code previous_status}, empty (null) for a volume never backed up, migrated or retyped, even an {@code in-use}
 * one (the scheduler's {@code create_backup} puts back only the volume's status, which it never changed): seen on
 * the lab's Cinder 21. A delete is answered 404 "Service cinder-backup could not be found."
 */
final class BackupState {
  static final String NO_SERVICE_FAIL_REASON = "Service not found for creating backup.";
  static final String NO_SERVICE_MESSAGE = "create backup:Backup failed to schedule. Service not found for creating "
      + "backup.";

  static final class Backup {
    final String id;
    final long seq;
    final String volumeId;
    final String snapshotId;
    final String projectId;
    final int size;
    final String name;
    final String description;
    final Map<String, String> metadata = new LinkedHashMap<>();
    final Instant createdAt = Instant.now();
    String status = "creating";
    String failReason;
    Instant updatedAt = createdAt;

    Backup(String id, long seq, String volumeId, String snapshotId, String projectId, int size, String name,
        String description) {
      this.id = id;
      this.seq = seq;
      this.volumeId = volumeId;
      this.snapshotId = snapshotId;
      this.projectId = projectId;
      this.size = size;
      this.name = name;
      this.description = description;
    }
  }

  private final CinderState state;
  private final CinderSimulator.Builder cfg;
  final Map<String, Backup> backups = new ConcurrentHashMap<>();
  private volatile boolean serviceUp;
  private long seq;

  BackupState(CinderState state, CinderSimulator.Builder cfg) {
    this.state = state;
    this.cfg = cfg;
    this.serviceUp = cfg.backupService;
  }

  void serviceUp(boolean up) {
    this.serviceUp = up;
  }

  CinderState.Resp create(Req req, JsonNode body) {
    JsonNode b = CinderState.object(body, "backup");
    String volumeId = CinderState.text(b, "volume_id");
    if (volumeId == null) {
      throw ApiException.badRequest("Invalid input for field/attribute backup. 'volume_id' is a required property");
    }
    String snapshotId = CinderState.text(b, "snapshot_id");
    boolean force = SimulatedBackend.truthy(CinderState.text(b, "force"));
    Map<String, String> metadata = req.atLeast(3, 43) ? state.stringMap(b.get("metadata"), "metadata") : Map.of();
    CinderState.Vol v = state.vol(volumeId);
    CinderState.Snap snap = null;
    String volumePrevious;
    synchronized (v) {
      volumePrevious = v.status;
      if (snapshotId != null) {
        snap = state.snapshots.get(snapshotId);
        if (snap == null) {
          throw ApiException.notFound("Snapshot " + snapshotId + " could not be found.");
        }
        synchronized (snap) {
          if (!volumeId.equals(snap.volumeId)) {
            throw ApiException.invalidVolume("Volume " + volumeId + " does not match with snapshot.volume_id "
                + snap.volumeId + ".");
          }
          if (!"available".equals(snap.status)) {
            throw new ApiException(400, "Invalid snapshot: Snapshot to be backed up must be available, but the "
                + "current status is \"" + snap.status + "\".");
          }
          snap.status = "backing-up";
          snap.updatedAt = Instant.now();
        }
      } else if (!"available".equals(v.status) && !"in-use".equals(v.status)) {
        throw ApiException.invalidVolume("Volume to be backed up must be available or in-use, but the current "
            + "status is \"" + v.status + "\".");
      } else if ("in-use".equals(v.status) && !force) {
        throw ApiException.invalidVolume("Backing up an in-use volume must use the force flag.");
      } else {
        state.setStatus(v, "backing-up");
      }
    }
    Backup backup;
    synchronized (this) {
      backup = new Backup(state.newId(), ++seq, volumeId, snapshotId, req.projectId, v.size,
          CinderState.text(b, "name"), CinderState.text(b, "description"));
    }
    backup.metadata.putAll(metadata);
    backups.put(backup.id, backup);
    CinderState.Snap source = snap;
    boolean up = serviceUp;
    state.schedule(() -> finish(backup, v, volumePrevious, source, up, req.projectId), cfg.createDelay);
    synchronized (backup) {
      return new CinderState.Resp(202, Map.of("backup", summary(backup)));
    }
  }

  private void finish(Backup backup, CinderState.Vol v, String volumePrevious, CinderState.Snap snap, boolean up,
      String projectId) {
    synchronized (backup) {
      backup.status = up ? "available" : "error";
      backup.failReason = up ? null : NO_SERVICE_FAIL_REASON;
      backup.updatedAt = Instant.now();
    }
    if (!up) {
      state.addMessage(projectId, backup.id, NO_SERVICE_MESSAGE);
    }
    if (snap != null) {
      synchronized (snap) {
        if (up && "backing-up".equals(snap.status)) {
          snap.status = "available"; // without the service Cinder leaves the snapshot backing-up
          snap.updatedAt = Instant.now();
        }
      }
      if (!up) {
        synchronized (v) {
          if (!v.gone) {
            state.setStatus(v, null); // volume_update(status=previous_status): none here
          }
        }
      }
    } else {
      synchronized (v) {
        if (!v.gone && "backing-up".equals(v.status)) {
          state.setStatus(v, volumePrevious);
        }
      }
    }
  }

  private Backup backup(String id) {
    Backup b = backups.get(id);
    if (b == null) {
      throw ApiException.notFound("Backup " + id + " could not be found.");
    }
    return b;
  }

  CinderState.Resp get(String id) {
    Backup b = backup(id);
    synchronized (b) {
      return new CinderState.Resp(200, Map.of("backup", detail(b)));
    }
  }

  CinderState.Resp list(Req req, boolean detail) {
    Map<String, String> q = req.query;
    Comparator<Backup> order = Comparator.comparingLong((Backup b) -> b.seq).reversed();
    List<Backup> selected = new ArrayList<>();
    for (Backup b : backups.values()) {
      synchronized (b) {
        if (!b.projectId.equals(req.projectId) || q.containsKey("name") && !q.get("name").equals(b.name)
            || q.containsKey("volume_id") && !q.get("volume_id").equals(b.volumeId)
            || q.containsKey("status") && !q.get("status").equals(b.status)) {
          continue;
        }
      }
      selected.add(b);
    }
    selected.sort(order);
    List<Backup> page = state.page(req, selected, order, backups::get, "Marker");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Backup b : page) {
      synchronized (b) {
        out.add(detail ? detail(b) : summary(b));
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("backups", out);
    List<Map<String, String>> next = state.nextLinks(req, page.isEmpty() ? null : page.get(page.size() - 1).id,
        page.size(), detail ? "backups/detail" : "backups");
    if (!next.isEmpty()) {
      body.put("backups_links", next);
    }
    return new CinderState.Resp(200, body);
  }

  CinderState.Resp delete(String id) {
    Backup b = backup(id);
    synchronized (b) {
      if (!"available".equals(b.status) && !"error".equals(b.status)) {
        throw new ApiException(400, "Invalid backup: Backup status must be available or error");
      }
      if (!serviceUp) {
        // ServiceNotFound is a NotFound: Cinder's wsgi layer answers it with 404.
        throw ApiException.notFound("Service cinder-backup could not be found.");
      }
      b.status = "deleting";
      b.updatedAt = Instant.now();
    }
    state.schedule(() -> {
      synchronized (b) {
        if ("deleting".equals(b.status)) {
          backups.remove(b.id);
        }
      }
    }, cfg.deleteDelay);
    return new CinderState.Resp(202, null);
  }

  /** The size of a backup a volume may be made from ({@code backup_id}). */
  int restorableSize(String id) {
    Backup b = backup(id);
    synchronized (b) {
      if (!"available".equals(b.status)) {
        throw new ApiException(400, "Invalid backup: Originating backup status must be one of 'available' values");
      }
      return b.size;
    }
  }

  /** The size of a volume made from a backup of {@code backupSize}: as asked, at least the backup's. */
  static int sizeOfRestore(Integer asked, int backupSize) {
    if (asked != null && asked < backupSize) {
      throw ApiException.invalidInput("Volume size " + asked + "GB cannot be smaller than the backup size "
          + backupSize + "GB. It must be >= backup size.");
    }
    return asked == null ? backupSize : asked;
  }

  /** {@code GET /os-services}: the scheduler and volume services, and cinder-backup while it runs. */
  /** Whether a cinder-backup service is up (listed by {@code os-services}). */
  boolean serviceUp() {
    return serviceUp;
  }

  private Map<String, Object> summary(Backup b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", b.id);
    m.put("name", b.name);
    m.put("links", List.of());
    return m;
  }

  private Map<String, Object> detail(Backup b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", b.id);
    m.put("status", b.status);
    m.put("size", b.size);
    m.put("object_count", 0);
    m.put("availability_zone", cfg.availabilityZones.get(0));
    m.put("container", null);
    m.put("created_at", CinderState.time(b.createdAt));
    m.put("updated_at", CinderState.time(b.updatedAt));
    m.put("name", b.name);
    m.put("description", b.description);
    m.put("fail_reason", b.failReason);
    m.put("volume_id", b.volumeId);
    m.put("links", List.of());
    m.put("is_incremental", false);
    m.put("has_dependent_backups", false);
    m.put("snapshot_id", b.snapshotId);
    m.put("data_timestamp", CinderState.time(b.createdAt));
    m.put("metadata", new LinkedHashMap<>(b.metadata));
    return m;
  }
}
