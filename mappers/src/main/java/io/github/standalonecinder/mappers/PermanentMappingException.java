package io.github.standalonecinder.mappers;

/**
 * A mapping that fails the same way however often it is tried: the claim fails for good (until it or its class
 * changes) instead of being retried with the volume exported.
 */
public class PermanentMappingException extends MappingException {
  private static final long serialVersionUID = 1L;

  public PermanentMappingException(String message) {
    super(message);
  }
}
