package io.github.standalonecinder.provisioner.cinder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Locale;
import java.util.regex.Pattern;

/** Turns a Cinder error answer into a classified {@link CinderException}. */
final class CinderErrors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern STATE_CONFLICT = Pattern.compile(
      "(?i)(status must be|invalid volume:|is not in .*state|invalid attachment|already attached|"
          + "must not be migrating|not in-use|unable to .* attachment|attach_status)");
  private static final Pattern QUOTA = Pattern.compile("(?i)(quota|LimitExceeded|exceeds allowed)");
  /** Cinder's VolumeSizeExceedsLimit: "Requested volume size 5G is larger than maximum allowed limit 2G." */
  private static final Pattern SIZE_LIMIT = Pattern.compile("(?i)(larger than maximum allowed|VolumeSizeExceedsLimit)");

  /** What Cinder says when no cinder-backup service runs (see {@link CinderException#noBackupService()}). */
  static final Pattern NO_BACKUP_SERVICE = Pattern.compile(
      "(?i)(Service cinder-backup could not be found|Service not found for creating backup)");

  private CinderErrors() {}

  static CinderException classify(String operation, int status, String body, String retryAfterHeader) {
    String message = faultMessage(body);
    Duration retryAfter = retryAfter(retryAfterHeader, body);
    Kind kind;
    if ((status == 404 || status == 503) && NO_BACKUP_SERVICE.matcher(message).find()) {
      kind = Kind.SERVER_ERROR; // a missing service, not a missing backup: never "already deleted"
    } else if (status == 404) {
      kind = Kind.NOT_FOUND;
    } else if (status == 409) {
      kind = Kind.CONFLICT;
    } else if (status == 400) {
      kind = STATE_CONFLICT.matcher(message).find() ? Kind.CONFLICT : Kind.BAD_REQUEST;
    } else if (status == 401) {
      kind = Kind.UNAUTHORIZED;
    } else if (status == 403) {
      kind = Kind.FORBIDDEN;
    } else if (status == 413) {
      kind = SIZE_LIMIT.matcher(message).find() ? Kind.BAD_REQUEST
          : QUOTA.matcher(message).find() ? Kind.QUOTA_EXCEEDED : Kind.RATE_LIMITED;
    } else if (status == 429) {
      kind = Kind.RATE_LIMITED;
    } else if (status >= 500) {
      kind = Kind.SERVER_ERROR;
    } else {
      kind = Kind.PROTOCOL;
    }
    return new CinderException(kind, status, operation + ": HTTP " + status
        + (message.isEmpty() ? "" : ": " + message), retryAfter, null);
  }

  /** Cinder's fault body {@code {"<faultName>": {"code": N, "message": "..."}}}; else the start of the body. */
  static String faultMessage(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode root = JSON.readTree(body);
      Iterator<JsonNode> it = root.elements();
      while (it.hasNext()) {
        JsonNode fault = it.next();
        if (fault.hasNonNull("message")) {
          return fault.get("message").asText();
        }
      }
      if (root.hasNonNull("message")) {
        return root.get("message").asText();
      }
    } catch (Exception e) {
      // not JSON
    }
    String flat = body.replaceAll("\\s+", " ").strip();
    return flat.length() > 300 ? flat.substring(0, 300) + "..." : flat;
  }

  /** Retry-After in seconds or as an HTTP date, else a {@code retryAfter} in the fault body. */
  static Duration retryAfter(String header, String body) {
    if (header != null && !header.isBlank()) {
      String h = header.strip();
      try {
        return Duration.ofSeconds(Math.max(0, Long.parseLong(h)));
      } catch (NumberFormatException e) {
        try {
          ZonedDateTime at = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME);
          Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
          return d.isNegative() ? Duration.ZERO : d;
        } catch (RuntimeException ignored) {
          // fall through to the body
        }
      }
    }
    if (body != null && body.toLowerCase(Locale.ROOT).contains("retryafter")) {
      try {
        for (JsonNode fault : JSON.readTree(body)) {
          if (fault.hasNonNull("retryAfter")) {
            long s = Long.parseLong(fault.get("retryAfter").asText().strip());
            return s > 0 ? Duration.ofSeconds(s) : null;
          }
        }
      } catch (Exception e) {
        return null;
      }
    }
    return null;
  }
}
