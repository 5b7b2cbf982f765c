package io.github.standalonecinder.provisioner.cinder;

import java.util.Map;

public record CinderSnapshot(String id, String name, String volumeId, String status, int sizeGiB,
    Map<String, String> metadata) {
  public CinderSnapshot {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
