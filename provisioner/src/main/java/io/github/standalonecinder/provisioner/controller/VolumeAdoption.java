package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An existing Cinder volume made a claim's ({@link Annotations#ADOPT_VOLUME_ID}), instead of a new one: checked
 * against the claim and its class without changing anything in Cinder, then tagged with our metadata (and
 * {@link Annotations#META_ADOPTED}) so every later step finds it by the claim's UID; exported and mapped as usual.
 * A claim deleted before its PV is saved gives the volume back: our export taken back, our metadata removed, the
 * volume kept.
 */
final class VolumeAdoption {
  private static final Logger log = LoggerFactory.getLogger(VolumeAdoption.class);

  private final CinderGateway cinder;
  private final CinderExporter exporter;

  VolumeAdoption(CinderGateway cinder, CinderExporter exporter) {
    this.cinder = cinder;
    this.exporter = exporter;
  }

  /** Whether a volume came to us by adoption (then a claim deleted mid-way gives it back, never deletes it). */
  static boolean adopted(CinderVolume v) {
    return "true".equals(v.metadata().get(Annotations.META_ADOPTED));
  }

  /**
   * The volume, checked and tagged for the claim. A refusal changes nothing in Cinder; it is permanent (until the
   * claim or class changes) unless the volume is only busy for a moment.
   *
   * @param namedByPv whether a PV names a volume id (it belongs to that PV)
   */
  CinderVolume take(PersistentVolumeClaim claim, ProvisionPlan plan, Predicate<String> namedByPv)
      throws ProvisioningException {
    String id = plan.adoptVolumeId();
    String uid = claim.getMetadata().getUid();
    try {
      CinderVolume v = cinder.getVolume(id).orElseThrow(() -> refused(id, "Cinder has no such volume"));
      if (uid.equals(v.metadata().get(Annotations.META_CLAIM_UID))) {
        // Taken before (a retry, or a restart): ours for this claim, unless Cinder failed it since; an adopted
        // volume is never replaced (nor deleted) by us.
        if (FailedVolumes.failed(v)) {
          throw ProvisioningException.invalid("adopted Cinder volume " + id + " went to status " + v.status()
              + "; it is neither replaced nor deleted: an admin must repair it");
        }
        return v;
      }
      Optional<String> why = refusal(v, plan, namedByPv);
      if (why.isPresent()) {
        throw v.hasStatus("creating") || v.hasStatus("extending") || v.hasStatus("downloading")
            ? ProvisioningException.retryable("cannot adopt Cinder volume " + id + ": " + why.get(), null)
            : refused(id, why.get());
      }
      Map<String, String> tags = new LinkedHashMap<>(plan.volumeMetadata());
      tags.put(Annotations.META_ADOPTED, "true");
      cinder.updateVolumeMetadata(id, tags);
      log.info("adopted Cinder volume {} ({}, {} GiB) for {}", id, v.name(), v.sizeGiB(), plan.pvName());
      return cinder.getVolume(id).orElseThrow(() -> ProvisioningException.retryable("Cinder volume " + id
          + " disappeared while being adopted", null));
    } catch (CinderException e) {
      throw CinderFailures.of("adopt Cinder volume " + id, e);
    }
  }

  /** What keeps the volume from becoming the claim's, if anything. A pure decision over what Cinder said. */
  static Optional<String> refusal(CinderVolume v, ProvisionPlan plan, Predicate<String> namedByPv) {
    if (v.metadata().containsKey(Annotations.META_CLUSTER)) {
      return Optional.of("it is already a provisioned volume (of claim " + v.metadata()
          .getOrDefault(Annotations.META_CLAIM_NAMESPACE, "?") + "/" + v.metadata()
          .getOrDefault(Annotations.META_CLAIM_NAME, "?") + ")");
    }
    if (namedByPv.test(v.id())) {
      return Optional.of("a PersistentVolume already names it");
    }
    if (!v.hasStatus("available")) {
      return Optional.of("its status is " + v.status() + ", not available (in use elsewhere, or not ready)");
    }
    if (v.sizeGiB() < plan.sizeGiB()) {
      return Optional.of("it has " + v.sizeGiB() + " GiB and the claim asks for " + plan.sizeGiB() + " GiB");
    }
    if (plan.volumeType() != null && !plan.volumeType().equals(v.volumeType())) {
      return Optional.of("its type is " + v.volumeType() + " and the StorageClass says " + plan.volumeType());
    }
    if (plan.availabilityZone() != null && !plan.availabilityZone().equals(v.availabilityZone())) {
      return Optional.of("it is in availability zone " + v.availabilityZone() + " and the claim's is "
          + plan.availabilityZone());
    }
    boolean shared = plan.accessModes().stream().anyMatch(m -> m.equals("ReadOnlyMany") || m.equals("ReadWriteMany"));
    if (shared && !v.multiattach()) {
      return Optional.of("the claim's access modes " + plan.accessModes() + " need a multiattach volume");
    }
    return Optional.empty();
  }

  private static ProvisioningException refused(String id, String why) {
    return ProvisioningException.invalid("cannot adopt Cinder volume " + id + ": " + why + "; nothing was changed "
        + "in Cinder");
  }

  /** A claim deleted before its PV was saved: the adopted volume is given back as it was, never deleted. */
  void giveBack(CinderVolume v) {
    exporter.unexport(v.id());
    Map<String, String> theirs = new LinkedHashMap<>(v.metadata());
    theirs.keySet().removeIf(k -> List.of(Annotations.META_CLUSTER, Annotations.META_PROVISIONER,
        Annotations.META_CLAIM_NAMESPACE, Annotations.META_CLAIM_NAME, Annotations.META_CLAIM_UID,
        Annotations.META_PV_NAME, Annotations.META_RECLAIM_POLICY, Annotations.META_ADOPTED).contains(k));
    cinder.replaceVolumeMetadata(v.id(), theirs);
    log.info("gave back adopted Cinder volume {}: its claim was deleted before its PV was saved", v.id());
  }
}
