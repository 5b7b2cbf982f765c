package io.github.standalonecinder.mappers;

/**
 * Connection info or parameters a mapper cannot turn into a PV. The message names the field and the value
 * (never a secret value), and is shown to users in a ProvisioningFailed Event.
 */
public class MappingException extends Exception {
  private static final long serialVersionUID = 1L;

  public MappingException(String message) {
    super(message);
  }
}
