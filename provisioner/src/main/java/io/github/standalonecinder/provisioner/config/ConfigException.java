package io.github.standalonecinder.provisioner.config;

/** A configuration the provisioner cannot start with; the message is one line naming the key and the fix. */
public class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
