package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.provisioner.config.CloudSet;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A claim's record that we are provisioning it: our finalizer (a deletion from then on waits for our clean-up)
 * and the PV name in an annotation. Written before any Cinder call, dropped once the PV is saved and the claim's
 * other volumes are gone; a claim holding it may have Cinder volumes or a PV the caches do not show yet.
 */
final class ClaimIntent {
  private final KubernetesClient kube;

  ClaimIntent(KubernetesClient kube) {
    this.kube = kube;
  }

  /**
   * Records the intent to provision: our finalizer and the PV name, before any Cinder call. Empty when the claim
   * is gone, was replaced by another of the same name, or is being deleted: the caller's copy (from the informer
   * cache) was stale, and a volume made now would belong to no claim. The write starts from that copy; if it is
   * stale, its resourceVersion makes the write fail and the claim is read afresh.
   */
  Optional<PersistentVolumeClaim> record(PersistentVolumeClaim claim, String pvName) {
    return record(claim, pvName, CloudSet.DEFAULT);
  }

  /** As above, for a volume made in {@code cloud}: a named cloud is recorded too, so a clean-up finds it. */
  Optional<PersistentVolumeClaim> record(PersistentVolumeClaim claim, String pvName, String cloud) {
    var meta = claim.getMetadata();
    if (recorded(claim, pvName, cloud)) {
      return Optional.of(claim);
    }
    var claims = kube.persistentVolumeClaims().inNamespace(meta.getNamespace());
    Predicate<PersistentVolumeClaim> live = c -> Objects.equals(c.getMetadata().getUid(),
        meta.getUid()) && c.getMetadata().getDeletionTimestamp() == null;
    PersistentVolumeClaim saved = Updates.update(claims.withName(meta.getName()), claims::resource, c -> {
      if (!live.test(c)) {
        return null;
      }
      var b = new PersistentVolumeClaimBuilder(c).editMetadata()
          .addToAnnotations(Annotations.CLAIM_PROVISIONING, pvName);
      if (!CloudSet.DEFAULT.equals(cloud)) {
        b.addToAnnotations(Annotations.CLAIM_PROVISIONING_CLOUD, cloud);
      }
      if (!hasFinalizer(c)) {
        b.addToFinalizers(Annotations.CLAIM_FINALIZER);
      }
      return b.endMetadata().build();
    }, claim);
    // Null when gone; the unchanged copy when the claim was replaced or is being deleted.
    return Optional.ofNullable(saved).filter(live);
  }

  /** Our finalizer holds the claim: a deletion from here on is seen and cleaned up after. */
  static boolean recorded(PersistentVolumeClaim claim, String pvName) {
    return recorded(claim, pvName, CloudSet.DEFAULT);
  }

  static boolean recorded(PersistentVolumeClaim claim, String pvName, String cloud) {
    var annotations = claim.getMetadata().getAnnotations();
    return hasFinalizer(claim) && annotations != null
        && pvName.equals(annotations.get(Annotations.CLAIM_PROVISIONING))
        && cloud.equals(Annotations.cloudOf(claim, Annotations.CLAIM_PROVISIONING_CLOUD));
  }

  /** The cloud a claim's recorded intent names: null when it holds no intent; "default" when it names none. */
  static String cloud(PersistentVolumeClaim claim) {
    return holds(claim) ? Annotations.cloudOf(claim, Annotations.CLAIM_PROVISIONING_CLOUD) : null;
  }

  static boolean hasFinalizer(PersistentVolumeClaim claim) {
    return claim.getMetadata().getFinalizers() != null
        && claim.getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER);
  }

  /** Whether the claim carries our finalizer or intent annotation: a provisioning attempt has begun. */
  static boolean holds(PersistentVolumeClaim claim) {
    var annotations = claim.getMetadata().getAnnotations();
    return hasFinalizer(claim) || (annotations != null && annotations.containsKey(Annotations.CLAIM_PROVISIONING));
  }

  /** Removes our finalizer and intent annotation; a claim already gone is fine. */
  void clear(PersistentVolumeClaim claim) {
    var meta = claim.getMetadata();
    if (!holds(claim)) {
      return;
    }
    var claims = kube.persistentVolumeClaims().inNamespace(meta.getNamespace());
    Updates.update(claims.withName(meta.getName()), claims::resource, c -> {
      if (!Objects.equals(c.getMetadata().getUid(), meta.getUid())) {
        return null;
      }
      return new PersistentVolumeClaimBuilder(c).editMetadata()
          .removeFromAnnotations(Annotations.CLAIM_PROVISIONING)
          .removeFromAnnotations(Annotations.CLAIM_PROVISIONING_CLOUD)
          .removeFromFinalizers(Annotations.CLAIM_FINALIZER)
          .endMetadata().build();
    }, claim);
  }
}
