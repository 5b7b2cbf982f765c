package io.github.standalonecinder.provisioner.cinder;

import java.time.Duration;
import java.util.Optional;

/**
 * A failed Cinder call, classified so callers decide without parsing messages. The message never contains a
 * token, password or CHAP secret.
 */
public class CinderException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public enum Kind {
    /** 404. */
    NOT_FOUND(false),
    /** 409, or 400 "invalid volume status" for an action in the wrong state. */
    CONFLICT(false),
    /**
     * 400 other than a state conflict, or a 413 for a size over Cinder's per-volume limit
     * ({@code VolumeSizeExceedsLimit}): the request itself is wrong.
     */
    BAD_REQUEST(false),
    /** 401 after re-authentication: the credentials (retried: they may be rotated or Keystone may recover). */
    UNAUTHORIZED(true),
    /** 403: a policy refuses this call to these credentials; asking again gets the same answer. */
    FORBIDDEN(false),
    /** 413 with a quota body ("VolumeLimitExceeded", "quota"). */
    QUOTA_EXCEEDED(true),
    /** 413 overLimit (other than quota or size) or 429; {@link #retryAfter()} carries Retry-After when sent. */
    RATE_LIMITED(true),
    /** 5xx. */
    SERVER_ERROR(true),
    /** Connection refused, DNS failure, connect or read timeout. */
    UNREACHABLE(true),
    /** A response we could not understand. */
    PROTOCOL(false);

    private final boolean transientFailure;

    Kind(boolean transientFailure) {
      this.transientFailure = transientFailure;
    }

    /** Whether retrying the same call later may succeed. */
    public boolean isTransient() {
      return transientFailure;
    }
  }

  private final Kind kind;
  private final int httpStatus;
  private final Duration retryAfter;

  public CinderException(Kind kind, int httpStatus, String message, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.httpStatus = httpStatus;
    this.retryAfter = retryAfter;
  }

  public CinderException(Kind kind, int httpStatus, String message) {
    this(kind, httpStatus, message, null, null);
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status, or 0 when there was no response. */
  public int httpStatus() {
    return httpStatus;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /**
   * Cinder has no running backup service: its API answers a backup delete with 404 (and older ones a create with
   * 503) "Service cinder-backup could not be found." ({@code cinder/backup/api.py:
   * _get_available_backup_service_host}), and its scheduler fails a backup with "Service not found for creating
   * backup." Classified {@link Kind#SERVER_ERROR}: retried, as the service may be started.
   */
  public boolean noBackupService() {
    return kind == Kind.SERVER_ERROR && noBackupService(getMessage());
  }

  /** Whether Cinder's text (an answer, a backup's {@code fail_reason}) says no cinder-backup service runs. */
  public static boolean noBackupService(String text) {
    return text != null && CinderErrors.NO_BACKUP_SERVICE.matcher(text).find();
  }
}
