package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.ManagedSecrets;
import io.github.standalonecinder.mappers.MappingException;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Kubernetes half of provisioning: a mapped volume's Secrets, then its PV, each write idempotent. */
final class PvSaver {
  private static final Logger log = LoggerFactory.getLogger(PvSaver.class);
  private static final int PV_SAVE_ATTEMPTS = 5;

  private final KubernetesClient kube;
  private final SecretStore secrets;
  private final ClaimProvisioner.Sleeper sleeper;
  private final RetainedSecrets retained;

  PvSaver(KubernetesClient kube, SecretStore secrets, ClaimProvisioner.Sleeper sleeper) {
    this.kube = kube;
    this.secrets = secrets;
    this.sleeper = sleeper;
    this.retained = new RetainedSecrets(kube);
  }

  /** {@link RetainedSecrets#adopt}: a retry after a crash between the PV and its Secrets' owner. */
  void adoptSecrets(PersistentVolume pv, java.util.Collection<SecretRef> refs) {
    retained.adopt(pv, refs);
  }

  /**
   * Creates or verifies the volume's Secrets, then saves its PV (a {@code Retain} PV then owns its Secrets:
   * {@link RetainedSecrets}); returns the saved PV. A MappingException: a
   * Secret of that name holds other data, and no PV of this claim is saved.
   */
  PersistentVolume save(ClaimProvisioner.ExportedVolume exported)
      throws ProvisioningException, MappingException, InterruptedException {
    PersistentVolume pv = exported.pv();
    if (!exported.saved()) {
      Optional<PersistentVolume> savedByOther = Optional.empty();
      try {
        String pvName = pv.getMetadata().getName();
        for (Secret s : exported.secrets()) {
          secrets.ensure(s, existing -> staleOfOurs(existing, pvName));
        }
      } catch (MappingException e) {
        // Another replica may have saved this claim's PV with Secrets of its own export: then its PV stands.
        savedByOther = savedPv(exported.claim(), exported.pv().getMetadata().getName());
        if (savedByOther.isEmpty()) {
          throw e;
        }
        log.warn("PV {} was saved by another attempt naming Cinder volume {}; not writing Secrets for {}",
            pv.getMetadata().getName(), Annotations.cinderVolumeId(savedByOther.get()), exported.volumeId());
      }
      if (savedByOther.isPresent()) {
        pv = savedByOther.get();
      } else {
        pv = create(exported.pv(), exported.claim(), exported.volumeId());
        retained.adopt(pv, exported.secrets().stream().map(x -> new SecretRef(x.getMetadata().getNamespace(),
            x.getMetadata().getName())).toList());
      }
    }
    return pv;
  }

  /**
   * Whether a Secret that differs from the one we need is our own, left by an attempt that never saved its PV (a
   * crash between the Secret and the PV, on a backend that issues new credentials with every export): it carries
   * our labels for this PV, and no PV of that name is saved. A Secret someone else made, or one a saved PV uses,
   * is never replaced.
   */
  private boolean staleOfOurs(Secret existing, String pvName) {
    Map<String, String> labels = existing.getMetadata().getLabels();
    return labels != null && labels.entrySet().containsAll(ManagedSecrets.labels(pvName).entrySet())
        && kube.persistentVolumes().withName(pvName).get() == null;
  }

  /**
   * Saves the PV, retrying. A PV already saved for this claim (a retry after a crash, or another replica) is
   * success; if it names another volume, that one is the claim's and ours is taken back and deleted.
   */
  private PersistentVolume create(PersistentVolume pv, PersistentVolumeClaim claim, String volumeId)
      throws ProvisioningException, InterruptedException {
    KubernetesClientException last = null;
    for (int attempt = 0; attempt < PV_SAVE_ATTEMPTS; attempt++) {
      try {
        return kube.persistentVolumes().resource(pv).create();
      } catch (KubernetesClientException e) {
        last = e;
        if (e.getCode() == 409) {
          Optional<PersistentVolume> existing = savedPv(claim, pv.getMetadata().getName());
          if (existing.isPresent()) {
            if (!volumeId.equals(Annotations.cinderVolumeId(existing.get()))) {
              log.warn("PV {} was saved by another attempt naming Cinder volume {}, not {}", pv.getMetadata()
                  .getName(), Annotations.cinderVolumeId(existing.get()), volumeId);
            }
            return existing.get();
          }
        }
        log.warn("saving PV {} failed (attempt {}/{}): {}", pv.getMetadata().getName(), attempt + 1,
            PV_SAVE_ATTEMPTS, e.getMessage());
        sleeper.sleep(Duration.ofMillis(200L << attempt));
      }
    }
    // The volume stays: the next attempt finds it by name and saves the PV then.
    throw ProvisioningException.retryable("could not save PV " + pv.getMetadata().getName() + ": "
        + (last == null ? "" : last.getMessage()) + "; the Cinder volume is kept for the next attempt", last);
  }

  /** The claim's PV as the API server has it, if one is saved for this very claim. */
  Optional<PersistentVolume> savedPv(PersistentVolumeClaim claim, String pvName) {
    return Optional.ofNullable(kube.persistentVolumes().withName(pvName).get())
        .filter(p -> ClaimPlanner.claimUid(p).filter(claim.getMetadata().getUid()::equals).isPresent());
  }
}
