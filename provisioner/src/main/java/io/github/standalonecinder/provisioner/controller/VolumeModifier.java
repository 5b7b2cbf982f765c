package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.ModifyVolumeStatus;
import io.fabric8.kubernetes.api.model.ModifyVolumeStatusBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound claim's {@code volumeAttributesClassName} (storage.k8s.io VolumeAttributesClass, whose {@code driverName}
 * is our provisioner name) applied as a Cinder retype: the class's {@code type} parameter is the new volume type,
 * {@code migrationPolicy} ({@code never} by default, or {@code on-demand}) Cinder's {@code migration_policy}. The
 * claim's status says where it is as the API defines it: {@code modifyVolumeStatus} {@code Pending} (the class does
 * not exist yet), {@code InProgress}, {@code Infeasible} (the class cannot be applied: retried only when the claim
 * changes), and on success {@code currentVolumeAttributesClassName} and the PV's {@code volumeAttributesClassName}.
 */
final class VolumeModifier {
  private static final Logger log = LoggerFactory.getLogger(VolumeModifier.class);
  static final String PARAM_TYPE = "type";
  static final String PARAM_MIGRATION = "migrationPolicy";
  private static final Duration POLL = Duration.ofSeconds(1);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final EventRecorder events;
  private final String driverName;
  /** Retypes asked of Cinder, by claim UID, and to which type: one that ends without the type is a failure. */
  private final Map<String, String> asked = new ConcurrentHashMap<>();

  VolumeModifier(KubernetesClient kube, CinderGateway cinder, EventRecorder events, String driverName) {
    this.kube = kube;
    this.cinder = cinder;
    this.events = events;
    this.driverName = driverName;
  }

  /** Whether the claim asks for a class it does not have yet (and was not found infeasible for). */
  static boolean mayNeed(PersistentVolumeClaim claim) {
    String target = claim.getSpec().getVolumeAttributesClassName();
    var status = claim.getStatus();
    String current = status == null ? null : status.getCurrentVolumeAttributesClassName();
    ModifyVolumeStatus modify = status == null ? null : status.getModifyVolumeStatus();
    if (target == null || target.isEmpty() || target.equals(current)) {
      return modify != null; // asked back for the current class: the pending change is dropped
    }
    return modify == null || !"Infeasible".equals(modify.getStatus())
        || !target.equals(modify.getTargetVolumeAttributesClassName());
  }

  /**
   * Brings the volume to the claim's class. Throws {@link ProvisioningException#waiting} while Cinder retypes, a
   * retryable failure for Cinder's transient refusals; what cannot be done is written to the claim's status.
   */
  void sync(PersistentVolumeClaim claim, PersistentVolume pv) throws ProvisioningException {
    String target = claim.getSpec().getVolumeAttributesClassName();
    String uid = claim.getMetadata().getUid();
    if (target == null || target.isEmpty()
        || target.equals(claim.getStatus().getCurrentVolumeAttributesClassName())) {
      updateStatus(claim, c -> {
        c.getStatus().setModifyVolumeStatus(null);
        return c;
      });
      asked.remove(uid);
      return;
    }
    VolumeAttributesClass vac = kube.resources(VolumeAttributesClass.class).withName(target).get();
    if (vac == null) {
      setModifyStatus(claim, target, "Pending");
      return; // its creation is no claim event: looked at again at the next resync
    }
    Optional<String> problem = problem(vac);
    if (problem.isPresent()) {
      infeasible(claim, target, problem.get());
      return;
    }
    String type = vac.getParameters().get(PARAM_TYPE);
    String policy = vac.getParameters().getOrDefault(PARAM_MIGRATION, "never");
    String id = Annotations.cinderVolumeId(pv);
    try {
      CinderVolume v = cinder.getVolume(id).orElseThrow(() -> ProvisioningException.retryable("Cinder volume " + id
          + " of PV " + pv.getMetadata().getName() + " is gone", null));
      if (v.hasStatus("retyping")) {
        throw ProvisioningException.waiting("Cinder volume " + id + " is retyping", POLL);
      }
      Optional<VolumeType> wanted = cinder.listVolumeTypes().stream()
          .filter(t -> t.name().equals(type) || t.id().equals(type)).findFirst();
      if (wanted.isEmpty()) {
        infeasible(claim, target, "Cinder has no volume type \"" + type + "\"");
        return;
      }
      if (wanted.get().name().equals(v.volumeType())) {
        done(claim, pv, target, v);
        return;
      }
      if (type.equals(asked.get(uid))) {
        // Retyped before and back without the type: Cinder refused (no backend takes it, a migration failed).
        List<String> said = cinder.listUserMessages(id);
        asked.remove(uid);
        infeasible(claim, target, "Cinder did not retype volume " + id + " to " + type
            + (said.isEmpty() ? "" : ": " + said.get(0)));
        return;
      }
      setModifyStatus(claim, target, "InProgress");
      events.normal(claim, "VolumeModify", "Modify", "retyping Cinder volume " + id + " from " + v.volumeType()
          + " to " + type + " (migration policy " + policy + ")");
      cinder.retypeVolume(id, type, policy);
      asked.put(uid, type);
      log.info("retyping Cinder volume {} of PV {} from {} to {}", id, pv.getMetadata().getName(), v.volumeType(),
          type);
      throw ProvisioningException.waiting("Cinder volume " + id + " is retyping", POLL);
    } catch (CinderException e) {
      if (e.kind() == CinderException.Kind.BAD_REQUEST || e.kind() == CinderException.Kind.NOT_FOUND) {
        infeasible(claim, target, "Cinder refused the retype: " + e.getMessage());
        return;
      }
      throw CinderFailures.of("retype Cinder volume " + id, e);
    }
  }

  /** What keeps a class from being applied by us, if anything: a pure decision over the class. */
  Optional<String> problem(VolumeAttributesClass vac) {
    if (!driverName.equals(vac.getDriverName())) {
      return Optional.of("VolumeAttributesClass " + vac.getMetadata().getName() + " is for driver "
          + vac.getDriverName() + ", not " + driverName);
    }
    Map<String, String> params = vac.getParameters() == null ? Map.of() : vac.getParameters();
    Set<String> unknown = new java.util.TreeSet<>(params.keySet());
    unknown.removeAll(Set.of(PARAM_TYPE, PARAM_MIGRATION));
    if (!unknown.isEmpty()) {
      return Optional.of("VolumeAttributesClass " + vac.getMetadata().getName() + " has parameters this provisioner "
          + "does not know: " + unknown + " (known: " + PARAM_TYPE + ", " + PARAM_MIGRATION + ")");
    }
    if (params.get(PARAM_TYPE) == null || params.get(PARAM_TYPE).isBlank()) {
      return Optional.of("VolumeAttributesClass " + vac.getMetadata().getName() + " has no \"" + PARAM_TYPE
          + "\" parameter (the Cinder volume type)");
    }
    String policy = params.getOrDefault(PARAM_MIGRATION, "never");
    if (!policy.equals("never") && !policy.equals("on-demand")) {
      return Optional.of("VolumeAttributesClass " + vac.getMetadata().getName() + ": \"" + PARAM_MIGRATION
          + "\" must be never or on-demand, got " + policy);
    }
    return Optional.empty();
  }

  private void done(PersistentVolumeClaim claim, PersistentVolume pv, String target, CinderVolume v) {
    Updates.update(kube.persistentVolumes().withName(pv.getMetadata().getName()), kube.persistentVolumes()::resource,
        p -> target.equals(p.getSpec().getVolumeAttributesClassName()) ? null : new PersistentVolumeBuilder(p)
            .editSpec().withVolumeAttributesClassName(target).endSpec().build(), pv);
    updateStatus(claim, c -> {
      c.getStatus().setCurrentVolumeAttributesClassName(target);
      c.getStatus().setModifyVolumeStatus(null);
      return c;
    });
    asked.remove(claim.getMetadata().getUid());
    events.normal(claim, "VolumeModifySuccessful", "Modify", "Cinder volume " + v.id() + " is now of type "
        + v.volumeType() + " (VolumeAttributesClass " + target + ")");
  }

  private void infeasible(PersistentVolumeClaim claim, String target, String why) {
    setModifyStatus(claim, target, "Infeasible");
    events.warning(claim, "VolumeModifyFailed", "Modify", why);
  }

  private void setModifyStatus(PersistentVolumeClaim claim, String target, String state) {
    ModifyVolumeStatus now = claim.getStatus().getModifyVolumeStatus();
    if (now != null && state.equals(now.getStatus()) && target.equals(now.getTargetVolumeAttributesClassName())) {
      return;
    }
    updateStatus(claim, c -> {
      c.getStatus().setModifyVolumeStatus(new ModifyVolumeStatusBuilder().withStatus(state)
          .withTargetVolumeAttributesClassName(target).build());
      return c;
    });
  }

  private void updateStatus(PersistentVolumeClaim claim, UnaryOperator<PersistentVolumeClaim> change) {
    ClaimStatus.update(kube, claim, change);
  }
}
