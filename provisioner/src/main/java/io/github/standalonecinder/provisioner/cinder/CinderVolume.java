package io.github.standalonecinder.provisioner.cinder;

import java.util.List;
import java.util.Map;

/**
 * A Cinder volume as the provisioner needs it. {@code status} is Cinder's raw string (e.g. {@code reserved},
 * {@code error_extending}): OpenStack4j's enum loses several of them.
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
    java.time.Instant createdAt) {

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
