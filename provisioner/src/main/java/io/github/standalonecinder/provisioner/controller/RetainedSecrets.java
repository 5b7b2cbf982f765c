package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The Secrets of a {@code Retain} PV live as long as the PV: nothing of ours deletes such a PV (its volume stays in
 * Cinder), so the Secrets are owned by it and Kubernetes' garbage collector removes them when an admin deletes the
 * PV. A {@code Delete} PV's Secrets are removed by the delete path with its volume and need no owner.
 */
final class RetainedSecrets {
  private final KubernetesClient kube;

  RetainedSecrets(KubernetesClient kube) {
    this.kube = kube;
  }

  /** Whether a PV's Secrets are to be owned by it. */
  static boolean applies(PersistentVolume pv) {
    return "Retain".equals(pv.getSpec().getPersistentVolumeReclaimPolicy()) && pv.getMetadata().getUid() != null;
  }

  /** The owner reference that ties a Secret to the saved PV. */
  static OwnerReference ownerOf(PersistentVolume pv) {
    return new OwnerReferenceBuilder().withApiVersion("v1").withKind("PersistentVolume")
        .withName(pv.getMetadata().getName()).withUid(pv.getMetadata().getUid()).build();
  }

  /**
   * Makes the saved PV the owner of each of {@code secrets} that is not yet owned by it; a Secret that is gone is
   * left alone. Idempotent: re-run after a crash between the PV and this step.
   */
  void adopt(PersistentVolume pv, Collection<SecretRef> secrets) {
    if (!applies(pv)) {
      return;
    }
    OwnerReference owner = ownerOf(pv);
    for (SecretRef ref : secrets) {
      var inNamespace = kube.secrets().inNamespace(ref.namespace());
      Updates.update(inNamespace.withName(ref.name()), inNamespace::resource, s -> ownedBy(s, owner));
    }
  }

  /** {@code s} with {@code owner} added, or null when it has it already. */
  static Secret ownedBy(Secret s, OwnerReference owner) {
    List<OwnerReference> refs = s.getMetadata().getOwnerReferences();
    if (refs != null && refs.stream().anyMatch(r -> Objects.equals(r.getUid(), owner.getUid()))) {
      return null;
    }
    return new SecretBuilder(s).editMetadata().addToOwnerReferences(owner).endMetadata().build();
  }
}
