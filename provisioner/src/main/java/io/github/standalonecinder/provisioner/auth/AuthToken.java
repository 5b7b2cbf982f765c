package io.github.standalonecinder.provisioner.auth;

import java.time.Instant;

/**
 * A token and the Cinder endpoint it is used with. {@code toString} never shows the token.
 *
 * @param expiresAt null for tokens that do not expire (noauth)
 */
public record AuthToken(String id, Instant expiresAt, String cinderEndpoint) {
  @Override
  public String toString() {
    return "AuthToken[expiresAt=" + expiresAt + ", cinderEndpoint=" + cinderEndpoint + "]";
  }
}
