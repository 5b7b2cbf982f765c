package io.github.standalonecinder.provisioner.cinder;

import java.util.List;
import java.util.Map;

/**
 * A Cinder volume as the provisioner needs it. {@code status} is Cinder's raw string (e.g. {@code reserved},
 * {@code error_extending}): OpenStack4j's enum loses several of them. {@code replicationStatus} is Cinder's
 * {@code replication_status} ({@code enabled}, {@code failed-over}, {@code disabled}, …), null when Cinder says none.
 */
public record CinderVolume(
    String id,
    String name,
    String status,
    int sizeGiB,
    String volumeType,
    String availabilityZone,
    Map<String, String> metadata,
    boolean multiattach,
    List<Attachment> attachments,
    java.time.Instant createdAt,
    String replicationStatus) {

  /** A volume Cinder reports no {@code replication_status} for. */
  public CinderVolume(String id, String name, String status, int sizeGiB, String volumeType, String availabilityZone,
      Map<String, String> metadata, boolean multiattach, List<Attachment> attachments, java.time.Instant createdAt) {
    this(id, name, status, sizeGiB, volumeType, availabilityZone, metadata, multiattach, attachments, createdAt,
        null);
  }

  public CinderVolume {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    attachments = attachments == null ? List.of() : List.copyOf(attachments);
  }

  /** One entry of a volume's {@code attachments} list (Cinder lists only completed attachments there). */
  public record Attachment(String attachmentId, String serverId, String hostName) {}

  public boolean hasStatus(String s) {
    return status != null && status.equalsIgnoreCase(s);
  }
}
