package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Claims that failed as bad input, with what they looked like then: such a claim is not evaluated again (no
 * Cinder call, no Event bumped at every informer resync) until the claim or its class changes. What counts is the
 * claim's UID, spec, labels and annotations (but the intent we wrote during the failed attempt), and the
 * class's parameters, binding mode and resourceVersion.
 */
final class PermanentFailures {
  private record Seen(String uid, int fingerprint) {}

  private final Map<String, Seen> failed = new ConcurrentHashMap<>();

  static int fingerprint(PersistentVolumeClaim claim, StorageClass sc) {
    return Objects.hash(claim.getSpec(), claim.getMetadata().getLabels(), othersAnnotations(claim),
        sc.getMetadata().getResourceVersion(), sc.getParameters(), sc.getVolumeBindingMode(),
        sc.getAllowedTopologies());
  }

  /** The claim's annotations but ours (the intent we wrote during the failed attempt is no change of the claim). */
  private static Map<String, String> othersAnnotations(PersistentVolumeClaim claim) {
    Map<String, String> a = claim.getMetadata().getAnnotations();
    if (a == null) {
      return Map.of();
    }
    Map<String, String> out = new java.util.TreeMap<>(a);
    out.remove(Annotations.CLAIM_PROVISIONING); // a user's own (scheduler hints, a resize confirmed) still count
    return out;
  }

  void failed(String key, PersistentVolumeClaim claim, StorageClass sc) {
    failed.put(key, new Seen(claim.getMetadata().getUid(), fingerprint(claim, sc)));
  }

  /** Whether the claim failed as bad input and neither it nor its class has changed since. */
  boolean unchanged(String key, PersistentVolumeClaim claim, StorageClass sc) {
    Seen seen = failed.get(key);
    if (seen == null) {
      return false;
    }
    if (seen.uid().equals(claim.getMetadata().getUid()) && seen.fingerprint() == fingerprint(claim, sc)) {
      return true;
    }
    failed.remove(key, seen);
    return false;
  }

  void forget(String key) {
    failed.remove(key);
  }
}
