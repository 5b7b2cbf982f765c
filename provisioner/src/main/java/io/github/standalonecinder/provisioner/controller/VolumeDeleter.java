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
import java.time.Duration;
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
  static boolean shouldDelete(PersistentVolume pv, ProvisionerSettings settings) {
    if (pv.getStatus() == null || !"Released".equals(pv.getStatus().getPhase())) {
      return false;
    }
    if (!"Delete".equals(pv.getSpec().getPersistentVolumeReclaimPolicy())) {
      return false;
    }
    return isOurs(pv, settings);
  }

  /** Whether this provisioner identity made the PV (we, or the Go original with the same identity). */
  static boolean isOurs(PersistentVolume pv, ProvisionerSettings settings) {
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

  /** A deletion under way: when this process first asked, its poll schedule, what Cinder has said. */
  private static final class Deletion {
    final Instant started = Instant.now();
    /** Reads from when Cinder last accepted the delete (a delete may wait for a place of the adaptive limit). */
    PollSchedule polls = new PollSchedule();
    int refusals;
    boolean forced;
  }

  /** Deletions under way, by volume id: a volume slow to go is polled from the queue, not in a worker. */
  private final Map<String, Deletion> deletions = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Asks Cinder to delete the volume and waits until it is gone, in the worker for at most
   * {@link AvailabilityWait#inWorkerUntil} on the first pass; then the PV leaves the worker
   * ({@link ProvisioningException#waiting}) and each later pass reads the volume once. A refusal (the volume is
   * still detaching, or a snapshot depends on it) is asked again a few times, then reported. A volume Cinder cannot
   * delete ({@code error_deleting}), or still {@code deleting} after {@code --available-timeout} (a lost message),
   * is force-deleted, once per timeout.
   */
  private void deleteAndWait(String volumeId) throws ProvisioningException, InterruptedException {
    Deletion d = deletions.get(volumeId);
    boolean resumed = d != null;
    if (!resumed) {
      d = new Deletion();
      deletions.put(volumeId, d);
    }
    Instant waitStarted = Instant.now();
    try {
      while (true) {
        Optional<CinderVolume> found = cinder.getVolume(volumeId);
        if (found.isEmpty()) {
          deletions.remove(volumeId);
          return;
        }
        CinderVolume v = found.get();
        boolean overdue = d.started.plus(settings.availableTimeout()).isBefore(Instant.now());
        if (v.hasStatus("error_deleting") || (v.hasStatus("deleting") && overdue)) {
          if (d.forced) {
            throw ProvisioningException.retryable("Cinder volume " + volumeId + " is still " + v.status()
                + " after a force delete; will try again", null);
          }
          log.warn("force-deleting Cinder volume {} ({} for {} s)", volumeId, v.status(),
              Duration.between(d.started, Instant.now()).toSeconds());
          cinder.forceDeleteVolume(volumeId);
          d.forced = true;
        } else if (!v.hasStatus("deleting")) {
          ask(volumeId, d);
          // the ask may have waited for a place of the adaptive limit: the wait is counted from Cinder's answer
          waitStarted = Instant.now();
          d.polls = new PollSchedule();
        }
        Duration next = d.polls.untilNextRead();
        if (Instant.now().plus(next).isAfter(AvailabilityWait.inWorkerUntil(waitStarted, resumed))) {
          throw ProvisioningException.waiting("Cinder volume " + volumeId + " is " + v.status(),
              next.compareTo(AvailabilityWait.SHORTEST_PARK) < 0 ? AvailabilityWait.SHORTEST_PARK : next);
        }
        sleeper.sleep(next);
      }
    } catch (ProvisioningException e) {
      if (!e.waiting()) {
        deletions.remove(volumeId); // the next attempt starts afresh
      }
      throw e;
    } catch (RuntimeException | InterruptedException e) {
      deletions.remove(volumeId);
      throw e;
    }
  }

  /** One delete request; a state conflict (still detaching, snapshots) counts, and the third is reported. */
  private void ask(String volumeId, Deletion d) throws ProvisioningException {
    try {
      cinder.deleteVolume(volumeId);
    } catch (CinderException e) {
      if (e.kind() != CinderException.Kind.CONFLICT) {
        throw e;
      }
      if (++d.refusals >= 3) {
        throw ProvisioningException.retryable("Cinder refuses to delete volume " + volumeId + ": "
            + e.getMessage(), e);
      }
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
