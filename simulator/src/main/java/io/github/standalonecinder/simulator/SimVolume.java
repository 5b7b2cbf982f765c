package io.github.standalonecinder.simulator;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of one simulated volume, as returned by {@link CinderSimulator#volumes()} and
 * {@link CinderSimulator#volume(String)}.
 *
 * @param connector the connector of the last {@code os-initialize_connection} (cleared by
 *     {@code os-terminate_connection}), or null
 * @param schedulerHints the {@code OS-SCH-HNT:scheduler_hints} of its create ({@code same_host},
 *     {@code different_host}: volume ids); empty: none
 * @param replicationStatus Cinder's {@code replication_status}: {@code enabled}, {@code failed-over},
 *     {@code disabled}, or null on a simulator without replication
 * @param backupId the Cinder backup it was made from ({@code backup_id}), or null
 */
public record SimVolume(
    String id,
    String projectId,
    String name,
    String description,
    String status,
    String attachStatus,
    int size,
    String availabilityZone,
    String volumeType,
    Map<String, String> metadata,
    List<SimAttachment> attachments,
    boolean multiattach,
    boolean bootable,
    String snapshotId,
    String sourceVolid,
    Map<String, Object> connector,
    Instant createdAt,
    Instant updatedAt,
    Map<String, List<String>> schedulerHints,
    String replicationStatus,
    String backupId) {}
