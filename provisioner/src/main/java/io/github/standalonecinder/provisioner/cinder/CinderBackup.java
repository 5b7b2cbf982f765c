package io.github.standalonecinder.provisioner.cinder;

import java.time.Instant;
import java.util.Map;

/**
 * A Cinder backup ({@code /v3/{project}/backups}).
 *
 * @param failReason Cinder's {@code fail_reason} when the backup went to {@code error}, else null
 * @param createdAt  Cinder's {@code created_at}; null when Cinder did not say
 */
public record CinderBackup(String id, String name, String volumeId, String snapshotId, String status, int sizeGiB,
    Map<String, String> metadata, String failReason, Instant createdAt) {
  public CinderBackup {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
