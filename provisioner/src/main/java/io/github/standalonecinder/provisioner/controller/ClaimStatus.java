package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Objects;
import java.util.function.UnaryOperator;

/** Writes a claim's status (the resize conditions, the volume attributes class) on its latest copy. */
final class ClaimStatus {
  private static final int ATTEMPTS = 5;

  private ClaimStatus() {
  }

  /**
   * Applies {@code change} to the latest copy of the claim and saves its status; a conflict (someone wrote the
   * claim meanwhile) is read again and retried. A claim gone, or replaced by another of its name, is left alone.
   */
  static void update(KubernetesClient kube, PersistentVolumeClaim claim, UnaryOperator<PersistentVolumeClaim> change) {
    var claims = kube.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace());
    KubernetesClientException last = null;
    for (int i = 0; i < ATTEMPTS; i++) {
      PersistentVolumeClaim latest = claims.withName(claim.getMetadata().getName()).get();
      if (latest == null || !Objects.equals(latest.getMetadata().getUid(), claim.getMetadata().getUid())
          || latest.getStatus() == null) {
        return;
      }
      try {
        claims.resource(change.apply(latest)).updateStatus();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        last = e;
      }
    }
    throw last;
  }
}
