package io.github.standalonecinder.simulator;

/** How the simulated Cinder API authenticates requests. */
public enum SimulatorAuth {
  /**
   * Cinder's noauth middleware: {@code X-Auth-Token: user:project} is required (the simulator, unlike real
   * noauth Cinder, answers 401 when it is missing). When the URL carries a project id it must equal the token's
   * project, otherwise 400 "Malformed request url" as Cinder answers.
   */
  NOAUTH,
  /**
   * Only tokens issued by the embedded Keystone ({@code /identity/v3/auth/tokens} or {@code /identity/v2.0/tokens})
   * that have not expired are accepted; anything else is answered with 401.
   */
  KEYSTONE
}
