package io.github.standalonecinder.provisioner.cinder;

/** A Cinder microversion such as 3.27, ordered numerically (3.9 &lt; 3.27). */
public record Microversion(int major, int minor) implements Comparable<Microversion> {
  public static final Microversion V3_0 = new Microversion(3, 0);
  /** User messages API: why an asynchronous operation failed. */
  public static final Microversion MESSAGES = new Microversion(3, 3);
  /** Attachments API. */
  public static final Microversion ATTACHMENTS = new Microversion(3, 27);
  /** Server-side name filtering of volume lists. */
  public static final Microversion NAME_FILTER = new Microversion(3, 34);
  /** Backups with {@code name} and {@code metadata} on create. */
  public static final Microversion BACKUP_METADATA = new Microversion(3, 43);
  /** {@code backup_id} in a volume create: restore a backup into a new volume. */
  public static final Microversion VOLUME_FROM_BACKUP = new Microversion(3, 47);
  /** {@code os-complete} on attachments. */
  public static final Microversion ATTACHMENT_COMPLETE = new Microversion(3, 44);

  public static Microversion parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("microversion is missing");
    }
    String[] parts = text.trim().split("\\.");
    if (parts.length != 2) {
      throw new IllegalArgumentException("microversion \"" + text + "\" is not of the form MAJOR.MINOR");
    }
    try {
      return new Microversion(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("microversion \"" + text + "\" is not of the form MAJOR.MINOR", e);
    }
  }

  @Override
  public int compareTo(Microversion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  @Override
  public String toString() {
    return major + "." + minor;
  }
}
