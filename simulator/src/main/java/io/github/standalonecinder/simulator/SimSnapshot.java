package io.github.standalonecinder.simulator;

import java.time.Instant;
import java.util.Map;

/** An immutable snapshot of one simulated Cinder snapshot, see {@link CinderSimulator#snapshots()}. */
public record SimSnapshot(
    String id,
    String volumeId,
    String name,
    String description,
    String status,
    int size,
    Map<String, String> metadata,
    Instant createdAt) {}
