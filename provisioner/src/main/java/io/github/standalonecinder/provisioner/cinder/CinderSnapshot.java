package io.github.standalonecinder.provisioner.cinder;

import java.time.Instant;
import java.util.Map;

/** @param createdAt Cinder's {@code created_at}; null when Cinder did not say */
public record CinderSnapshot(String id, String name, String volumeId, String status, int sizeGiB,
    Map<String, String> metadata, Instant createdAt) {
  public CinderSnapshot {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
