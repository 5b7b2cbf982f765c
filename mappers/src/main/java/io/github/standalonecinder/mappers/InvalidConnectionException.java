package io.github.standalonecinder.mappers;

/**
 * Cinder's {@code connection_info} cannot become a PV the API server accepts (a field missing or malformed, an
 * iSCSI name Kubernetes refuses). Exporting the volume again returns the same answer: the claim fails for good
 * (until it or its class changes) instead of being retried with the volume exported.
 */
public class InvalidConnectionException extends PermanentMappingException {
  private static final long serialVersionUID = 1L;

  public InvalidConnectionException(String message) {
    super(message);
  }
}
