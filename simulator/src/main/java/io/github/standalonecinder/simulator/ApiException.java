package io.github.standalonecinder.simulator;

import java.util.LinkedHashMap;
import java.util.Map;

/** An error answered with Cinder's fault body: {@code {"<faultName>": {"code": N, "message": "..."}}}. */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final Map<String, String> headers = new LinkedHashMap<>();
  /** A complete body replacing the Cinder fault body (Keystone errors, injected faults); may be null. */
  Object body;

  ApiException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  static ApiException notFound(String message) {
    return new ApiException(404, message);
  }

  /** Cinder's {@code InvalidVolume}: 400 "Invalid volume: reason". */
  static ApiException invalidVolume(String reason) {
    return new ApiException(400, "Invalid volume: " + reason);
  }

  /** Cinder's {@code InvalidInput}: 400 "Invalid input received: reason". */
  static ApiException invalidInput(String reason) {
    return new ApiException(400, "Invalid input received: " + reason);
  }

  static ApiException volumeNotFound(String id) {
    return notFound("Volume " + id + " could not be found.");
  }

  ApiException header(String name, String value) {
    headers.put(name, value);
    return this;
  }

  ApiException body(Object newBody) {
    this.body = newBody;
    return this;
  }

  /** The fault name Cinder's {@code wsgi.Fault} uses for a status code. */
  static String faultName(int status) {
    return switch (status) {
      case 400 -> "badRequest";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "itemNotFound";
      case 405 -> "badMethod";
      case 409 -> "conflictingRequest";
      case 413 -> "overLimit";
      case 415 -> "badMediaType";
      case 501 -> "notImplemented";
      case 503 -> "serviceUnavailable";
      default -> "computeFault";
    };
  }

  /** Cinder's fault body for this exception (413 gets {@code retryAfter} when a Retry-After header is set). */
  Object faultBody() {
    if (body != null) {
      return body;
    }
    return cinderFault(status, getMessage(), headers.get("Retry-After"));
  }

  static Map<String, Object> cinderFault(int status, String message, String retryAfter) {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("code", status);
    inner.put("message", message);
    if (status == 413 && retryAfter != null) {
      inner.put("retryAfter", retryAfter);
    }
    Map<String, Object> outer = new LinkedHashMap<>();
    outer.put(faultName(status), inner);
    return outer;
  }
}
