package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes a released PV's Cinder volume, its Secrets, our finalizer and the PV object, in that order. Every step
 * treats "already done" as success, so a delete interrupted anywhere finishes on the next attempt.
 */
final class VolumeDeleter {
  private static final Logger log = LoggerFactory.getLogger(VolumeDeleter.class);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final VolumeMapperRegistry mappers;
  private final SecretStore secrets;
  private final ProvisionerSettings settings;
  private final ClaimProvisioner.Sleeper sleeper;

  VolumeDeleter(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter, VolumeMapperRegistry mappers,
      SecretStore secrets, ProvisionerSettings settings, ClaimProvisioner.Sleeper sleeper) {
    this.kube = kube;
    this.cinder = cinder;
    this.exporter = exporter;
    this.mappers = mappers;
    this.secrets = secrets;
    this.settings = settings;
    this.sleeper = sleeper;
  }

  /**
   * Whether this PV is ours to delete: Released, reclaim Delete, and made by this provisioner identity — by us, or
   * by the Go original with the same identity.
   */
  boolean shouldDelete(PersistentVolume pv) {
    if (pv.getStatus() == null || !"Released".equals(pv.getStatus().getPhase())) {
      return false;
    }
    if (!"Delete".equals(pv.getSpec().getPersistentVolumeReclaimPolicy())) {
      return false;
    }
    return isOurs(pv);
  }

  boolean isOurs(PersistentVolume pv) {
    Map<String, String> a = pv.getMetadata().getAnnotations();
    if (a == null || !a.containsKey(Annotations.CINDER_VOLUME_ID)) {
      return false;
    }
    String identity = a.get(Annotations.PROVISIONER_IDENTITY);
    if (identity != null) {
      return identity.equals(settings.identity());
    }
    return settings.provisionerName().equals(a.get(Annotations.PROVISIONED_BY));
  }

  /**
   * Whose export the PV's volume carries: a PV we made is labelled by us (and names its attachment when the
   * attachments API made it); one without our label is the Go original's, exported with its fixed connector.
   */
  CinderExporter.Owner ownerOf(PersistentVolume pv) {
    var labels = pv.getMetadata().getLabels();
    boolean ours = labels != null && Annotations.MANAGED_BY.equals(labels.get(Annotations.LABEL_MANAGED_BY));
    var annotations = pv.getMetadata().getAnnotations();
    return ours ? exporter.ours(annotations == null ? null : annotations.get(ProvisionController.ATTACHMENT_ID))
        : CinderExporter.goOriginal();
  }

  void delete(PersistentVolume pv) throws ProvisioningException, InterruptedException {
    String volumeId = pv.getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    try {
      if (exporter.unexport(volumeId, ownerOf(pv)).isPresent()) {
        deleteAndWait(volumeId);
      }
    } catch (CinderException e) {
      throw CinderFailures.of("delete Cinder volume " + volumeId, e);
    }
    for (SecretRef ref : secretsOf(pv)) {
      try {
        secrets.delete(ref);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 403 || ref.namespace().equals(settings.namespace())) {
          throw e;
        }
        // A Go-original CHAP Secret in the claim's namespace, without claim-namespace Secret rights: leave it,
        // loudly, rather than keep the volume's deletion pending forever.
        log.warn("not allowed to delete Secret {} of PV {}; delete it by hand, or grant the provisioner Secret "
            + "rights in claim namespaces (chart value secrets.claimNamespaces)", ref, pv.getMetadata().getName());
      }
    }
    removeFinalizerAndPv(pv);
    log.info("deleted PV {} and Cinder volume {}", pv.getMetadata().getName(), volumeId);
  }

  /**
   * Asks Cinder to delete the volume and waits until it is gone. A refusal (the volume is still detaching, or a
   * snapshot depends on it) is asked again a few times, then reported so the worker is not held for long.
   */
  private void deleteAndWait(String volumeId) throws ProvisioningException, InterruptedException {
    Instant deadline = Instant.now().plus(settings.availableTimeout());
    CinderException refusal = null;
    int refusals = 0;
    PollSchedule polls = null; // set from the first delete request's answer: Cinder's deleting time starts there
    while (true) {
      Optional<CinderVolume> v = cinder.getVolume(volumeId);
      if (v.isEmpty()) {
        return;
      }
      if (v.get().hasStatus("error_deleting")) {
        throw ProvisioningException.retryable("Cinder could not delete volume " + volumeId
            + " (status error_deleting); will try again", null);
      }
      if (!v.get().hasStatus("deleting")) {
        try {
          cinder.deleteVolume(volumeId);
        } catch (CinderException e) {
          if (e.kind() != CinderException.Kind.CONFLICT) {
            throw e;
          }
          refusal = e;
          if (++refusals >= 3) {
            throw ProvisioningException.retryable("Cinder refuses to delete volume " + volumeId + ": "
                + e.getMessage(), e);
          }
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw ProvisioningException.retryable("Cinder volume " + volumeId + " is still " + v.get().status()
            + " after " + settings.availableTimeout().toSeconds() + "s"
            + (refusal == null ? "" : ": " + refusal.getMessage()), refusal);
      }
      polls = polls == null ? new PollSchedule() : polls;
      sleeper.sleep(polls.untilNextRead());
    }
  }

  /** Secrets we made for the PV, plus the Go original's {@code <pv>-secret} CHAP Secret in the claim namespace. */
  private Set<SecretRef> secretsOf(PersistentVolume pv) {
    Set<SecretRef> refs = new LinkedHashSet<>();
    mappers.forVolume(pv).ifPresent(m -> refs.addAll(m.ownedSecrets(pv)));
    var iscsi = pv.getSpec().getIscsi();
    String legacyName = pv.getMetadata().getName() + "-secret";
    if (iscsi != null && iscsi.getSecretRef() != null && legacyName.equals(iscsi.getSecretRef().getName())
        && pv.getSpec().getClaimRef() != null) {
      String ns = iscsi.getSecretRef().getNamespace() != null ? iscsi.getSecretRef().getNamespace()
          : pv.getSpec().getClaimRef().getNamespace();
      refs.add(new SecretRef(ns, legacyName));
    }
    return refs;
  }

  private void removeFinalizerAndPv(PersistentVolume pv) {
    String name = pv.getMetadata().getName();
    try {
      if (pv.getMetadata().getFinalizers() != null
          && pv.getMetadata().getFinalizers().contains(Annotations.PV_FINALIZER)) {
        Updates.update(kube.persistentVolumes().withName(name), kube.persistentVolumes()::resource,
            p -> new PersistentVolumeBuilder(p).editMetadata().removeFromFinalizers(Annotations.PV_FINALIZER)
                .endMetadata().build());
      }
      kube.persistentVolumes().withName(name).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }
}
