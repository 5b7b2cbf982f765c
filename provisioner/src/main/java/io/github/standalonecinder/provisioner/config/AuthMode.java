package io.github.standalonecinder.provisioner.config;

/** How the provisioner authenticates to Cinder, derived from which keys are set. */
public enum AuthMode {
  /** No Keystone: a fixed Cinder endpoint and the token {@code user:project} (Cinder's noauth middleware). */
  NOAUTH,
  /** Keystone v3 password, scoped to a project. */
  KEYSTONE_V3_PASSWORD,
  /** Keystone v3 password scoped by a trust. */
  KEYSTONE_V3_TRUST,
  /** Keystone v3 application credential (id + secret, or name + user + secret). */
  KEYSTONE_V3_APPLICATION_CREDENTIAL,
  /** Keystone v3 token (an existing token exchanged for one scoped to the project); works until it expires. */
  KEYSTONE_V3_TOKEN,
  /** Keystone v2.0 password with a tenant. */
  KEYSTONE_V2_PASSWORD
}
