package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Creates and removes the Secrets mappers ask for. Create-or-verify: an existing identical Secret is success
 * (a retry after a crash), a different one is an error. Delete treats 404 as done.
 */
public final class SecretStore {
  private final KubernetesClient client;

  public SecretStore(KubernetesClient client) {
    this.client = client;
  }

  /** Creates {@code secret}, or verifies that the existing one has the same type and data. */
  public void ensure(Secret secret) throws MappingException {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  /** Deletes the Secret; absent is success. */
  public void delete(SecretRef ref) {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  KubernetesClient client() {
    return client;
  }
}
