package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a volume of ours that no PV keeps is removed, whoever decides it must go (a claim deleted before
 * its PV was saved, a duplicate, a volume Cinder failed, an orphan): take back our export of it (only ours:
 * {@link CinderExporter#unexport}), then delete it the way Cinder accepts in its status ({@link #step}); and, when
 * its PV is gone, the Secrets made for that PV.
 */
final class VolumeRemoval {
  private static final Logger log = LoggerFactory.getLogger(VolumeRemoval.class);

  /** What a volume's status asks for. */
  enum Step {
    /** Gone, or Cinder is deleting it already. */
    NOTHING,
    DELETE,
    /** Cinder refuses a plain delete in this status: {@code error_deleting}, or stuck in {@code creating}. */
    FORCE_DELETE,
    /** Still being created, not for long enough to call it stuck: Cinder refuses to delete it yet. */
    WAIT
  }

  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final SecretStore secrets;
  private final String ownNamespace;

  VolumeRemoval(CinderGateway cinder, CinderExporter exporter, SecretStore secrets, String ownNamespace) {
    this.cinder = cinder;
    this.exporter = exporter;
    this.secrets = secrets;
    this.ownNamespace = ownNamespace;
  }

  /**
   * How to delete a volume in its current status. A volume in {@code creating} or {@code downloading} for longer
   * than {@code stuckAfter} is stuck (nothing in Cinder times a lost create out; zero: the caller knows it is); one
   * in {@code deleting} is left to Cinder.
   */
  static Step step(CinderVolume v, Instant now, Duration stuckAfter) {
    if (v.hasStatus("deleting")) {
      return Step.NOTHING;
    }
    if (v.hasStatus("error_deleting")) {
      return Step.FORCE_DELETE;
    }
    if (v.hasStatus("creating") || v.hasStatus("downloading")) {
      boolean stuck = stuckAfter.isZero() || v.createdAt() != null && v.createdAt().plus(stuckAfter).isBefore(now);
      return stuck ? Step.FORCE_DELETE : Step.WAIT;
    }
    return Step.DELETE;
  }

  /**
   * Takes back our export of the volume and deletes it. Returns false when it cannot go yet ({@link Step#WAIT}):
   * the caller comes back later.
   */
  boolean remove(String volumeId, Duration stuckAfter) {
    Optional<CinderVolume> after = exporter.unexport(volumeId);
    if (after.isEmpty()) {
      return true;
    }
    CinderVolume v = after.get();
    switch (step(v, Instant.now(), stuckAfter)) {
      case NOTHING -> {
        return true;
      }
      case WAIT -> {
        return false;
      }
      case FORCE_DELETE -> {
        log.warn("force-deleting Cinder volume {} ({} since {})", v.id(), v.status(), v.createdAt());
        cinder.forceDeleteVolume(v.id());
      }
      case DELETE -> cinder.deleteVolume(v.id());
    }
    return true;
  }

  /**
   * Deletes the Secrets the mappers name after {@code pvName}, in the provisioner's namespace and the claim's. By
   * name, not by label: the provisioner may only create, get and delete Secrets. Without Secret rights in claim
   * namespaces none were made there, so a 403 there is not a failure.
   */
  void removeSecrets(String pvName, String claimNamespace) {
    Set<String> namespaces = new LinkedHashSet<>(List.of(ownNamespace));
    if (claimNamespace != null) {
      namespaces.add(claimNamespace);
    }
    for (String ns : namespaces) {
      for (String suffix : ClaimProvisioner.OWNED_SECRET_SUFFIXES) {
        try {
          secrets.delete(new SecretRef(ns, pvName + suffix));
        } catch (KubernetesClientException e) {
          if (e.getCode() != 403 || ns.equals(ownNamespace)) {
            throw e;
          }
        }
      }
    }
  }

  /** {@link #remove}, a Cinder refusal logged, not thrown: for callers that go on with other volumes. */
  boolean removeQuietly(String volumeId, Duration stuckAfter, String why) {
    try {
      return remove(volumeId, stuckAfter);
    } catch (CinderException e) {
      log.warn("could not delete Cinder volume {} ({}): {}", volumeId, why, e.getMessage());
      return false;
    }
  }
}
