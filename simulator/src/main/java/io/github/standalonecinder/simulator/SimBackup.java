package io.github.standalonecinder.simulator;

import java.util.Map;

/** An immutable snapshot of one simulated Cinder backup, see {@link CinderSimulator#backups()}. */
public record SimBackup(
    String id,
    String volumeId,
    String snapshotId,
    String name,
    String status,
    int size,
    Map<String, String> metadata,
    String failReason) {}
