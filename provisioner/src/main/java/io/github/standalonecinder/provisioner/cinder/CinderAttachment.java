package io.github.standalonecinder.provisioner.cinder;

import io.github.standalonecinder.mappers.ConnectionInfo;

/**
 * A v3 attachment: its id, status, the instance (a Nova server) it is for, if any, and the connection info Cinder
 * filled in for the connector.
 */
public record CinderAttachment(String id, String volumeId, String status, String instanceId,
    ConnectionInfo connectionInfo) {
  public CinderAttachment(String id, String volumeId, String status, ConnectionInfo connectionInfo) {
    this(id, volumeId, status, null, connectionInfo);
  }
}
