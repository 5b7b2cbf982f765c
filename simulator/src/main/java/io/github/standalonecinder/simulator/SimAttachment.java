package io.github.standalonecinder.simulator;

import java.time.Instant;
import java.util.Map;

/**
 * An immutable snapshot of one attachment of a simulated volume (made by {@code os-attach} or the v3 attachments
 * API).
 *
 * @param attachStatus Cinder's attach_status: reserved, attaching, attached
 * @param connectionInfo the flattened connection info the attachments API returned, or null
 */
public record SimAttachment(
    String id,
    String volumeId,
    String instanceUuid,
    String hostName,
    String mountpoint,
    String attachStatus,
    String mode,
    Map<String, Object> connector,
    Map<String, Object> connectionInfo,
    Instant attachedAt) {}
