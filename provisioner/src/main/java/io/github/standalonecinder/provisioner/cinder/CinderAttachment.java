package io.github.standalonecinder.provisioner.cinder;

import io.github.standalonecinder.mappers.ConnectionInfo;

/** A v3 attachment: its id, status, and the connection info Cinder filled in for the connector. */
public record CinderAttachment(String id, String volumeId, String status, ConnectionInfo connectionInfo) {}
