package io.github.standalonecinder.provisioner.config;

import io.github.standalonecinder.provisioner.cinder.CinderException;

/**
 * Why a changed cloud configuration was refused, in words fit for an Event that anyone reading Events may see: what
 * kind of problem, never the endpoint, user name, password or the server's answer (those go to the log).
 */
public record ConfigRefusal(String note) {

  /** The refusal of a configuration that failed to load ({@link ConfigException}) or to connect. */
  public static ConfigRefusal of(Exception e) {
    String why;
    if (e instanceof CinderException c) {
      why = switch (c.kind()) {
        case UNAUTHORIZED -> "its credentials were refused (HTTP " + c.httpStatus() + ")";
        case UNREACHABLE -> "Keystone or Cinder could not be reached with it";
        default -> "connecting with it failed" + (c.httpStatus() > 0 ? " (HTTP " + c.httpStatus() + ")" : "");
      };
      why += "; it is tried again at the next interval";
    } else {
      why = "it is invalid; the provisioner's log names the file, key or line";
    }
    return new ConfigRefusal("The changed cloud configuration was refused and the one in use stays: " + why + ".");
  }
}
