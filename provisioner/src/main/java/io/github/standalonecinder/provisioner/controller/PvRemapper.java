package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.ManagedSecrets;
import io.github.standalonecinder.mappers.MappedVolume;
import io.github.standalonecinder.mappers.MappingException;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapper;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds one PV for its volume's new connection after a Cinder failover or failback, never letting Kubernetes
 * delete the volume, and so that a crash after any step and a rerun converge:
 *
 * <ol>
 *   <li>{@code journal}: the PV as it must be rebuilt (no credentials) goes on the claim ({@link RemapPlan#JOURNAL});
 *   <li>{@code retain}: the old PV is set to {@code Retain}, its own policy kept in {@link RemapPlan#RECLAIM_WAS};
 *   <li>{@code export}: our exports of the volume are taken back and it is exported again (Cinder refuses a second
 *       attachment of a volume in use, and the old one leads to the lost site anyway), and mapped;
 *   <li>{@code delete-pv}: the old PV object goes ({@code Retain}: the volume stays; the finalizers that would hold a
 *       bound PV are removed);
 *   <li>{@code secrets}: the new Secrets (same names, new credentials) replace ours; ours the new PV does not use go;
 *   <li>{@code create-pv}: the new PV: same name, claim binding and reclaim policy, new source — the claim names
 *       it by name and it names the claim by UID, so the binding holds;
 *   <li>{@code done}: the journal and the admin's {@link RemapPlan#REMAP_NOW} leave the claim; an Event says what
 *       happened and that the claim's pods must be restarted.
 * </ol>
 * When the new export maps to exactly the PV's source, the PV is only stamped ({@code unchanged}).
 */
final class PvRemapper {
  private static final Logger log = LoggerFactory.getLogger(PvRemapper.class);
  /** The steps, in order, as {@link StepHook} hears them. */
  static final List<String> STEPS = List.of("journal", "retain", "export", "delete-pv", "secrets", "create-pv",
      "done");
  private static final int GONE_POLLS = 50;

  /** Told after each step; tests stop a re-map there as a crash would. */
  interface StepHook {
    void after(String step);
  }

  enum Outcome { REMAPPED, UNCHANGED, NOTHING_TO_DO }

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final VolumeMapperRegistry mappers;
  private final SecretStore secrets;
  private final ProvisionerSettings settings;
  private final EventRecorder events;
  private final ClaimProvisioner.Sleeper sleeper;
  private final StepHook hook;

  PvRemapper(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, EventRecorder events, ClaimProvisioner.Sleeper sleeper, StepHook hook) {
    this.kube = kube;
    this.cinder = cinder;
    this.exporter = exporter;
    this.mappers = mappers;
    this.secrets = new SecretStore(kube);
    this.settings = settings;
    this.events = events;
    this.sleeper = sleeper;
    this.hook = hook;
  }

  /** Re-maps (or resumes re-mapping) the PV of one decision, reading everything afresh first. */
  Outcome remap(RemapPlan.Decision d) throws ProvisioningException, InterruptedException {
    var claims = kube.persistentVolumeClaims().inNamespace(d.claimNamespace());
    PersistentVolumeClaim claim = claims.withName(d.claimName()).get();
    PersistentVolume pv = kube.persistentVolumes().withName(d.pvName()).get();
    if (claim == null || claim.getMetadata().getDeletionTimestamp() != null) {
      if (pv != null && RemapPlan.annotation(pv, RemapPlan.RECLAIM_WAS) != null) {
        restorePolicy(pv); // the claim went mid-way: the PV's own policy decides again
      }
      return Outcome.NOTHING_TO_DO;
    }
    PersistentVolume template = pv != null ? pv : fromJournal(claim);
    if (template == null) {
      return Outcome.NOTHING_TO_DO;
    }
    String volumeId = Annotations.cinderVolumeId(template);
    CinderVolume volume;
    try {
      volume = cinder.getVolume(volumeId).orElseThrow(() -> ProvisioningException.retryable("Cinder volume "
          + volumeId + " of PV " + d.pvName() + " is gone; not re-mapping it", null));
    } catch (CinderException e) {
      throw CinderFailures.of("read Cinder volume " + volumeId, e);
    }
    String to = volume.replicationStatus();
    if (pv != null && RemapPlan.annotation(pv, RemapPlan.RECLAIM_WAS) == null
        && Objects.equals(RemapPlan.mappedFor(pv), to)) {
      // A re-map that saved its PV and stopped before dropping the journal: finish it, Event included.
      finish(claim, pv, RemapPlan.journal(claim) == null ? null : describe(pv.getSpec()));
      return Outcome.NOTHING_TO_DO;
    }
    String reclaim = originalPolicy(template);
    if (RemapPlan.journal(claim) == null) {
      claim = writeJournal(claim, template, reclaim);
    }
    hook.after("journal");
    if (pv != null && !"Retain".equals(pv.getSpec().getPersistentVolumeReclaimPolicy())) {
      pv = retain(pv, reclaim);
    }
    hook.after("retain");
    CinderExporter.Export export = reexport(volumeId, template);
    MappedVolume mapped = map(export, template, volumeId);
    hook.after("export");
    PersistentVolume rebuilt = PvFactory.remapped(template, mapped, export, to, reclaim);
    if (pv != null && sameSource(pv.getSpec(), rebuilt.getSpec())) {
      ensureSecrets(mapped.secrets(), template);
      PersistentVolume stamped = Updates.update(kube.persistentVolumes().withName(pv.getMetadata().getName()),
          kube.persistentVolumes()::resource, p -> new PersistentVolumeBuilder(p)
              .withMetadata(new ObjectMetaBuilder(p.getMetadata()).withAnnotations(rebuilt.getMetadata()
                  .getAnnotations()).build())
              .editSpec().withPersistentVolumeReclaimPolicy(reclaim).endSpec().build());
      finish(claim, stamped, null);
      log.info("PV {}: the new export of Cinder volume {} maps to the same source; stamped {}", d.pvName(),
          volumeId, to);
      return Outcome.UNCHANGED;
    }
    if (pv != null) {
      deleteOld(pv);
    }
    hook.after("delete-pv");
    ensureSecrets(mapped.secrets(), template);
    hook.after("secrets");
    PersistentVolume saved = create(rebuilt);
    new RetainedSecrets(kube).adopt(saved, mapped.secrets().stream().map(s -> new SecretRef(
        s.getMetadata().getNamespace(), s.getMetadata().getName())).toList());
    hook.after("create-pv");
    finish(claim, saved, describe(saved.getSpec()));
    hook.after("done");
    log.info("re-mapped PV {} of claim {}/{} to the {} connection of Cinder volume {}", d.pvName(),
        d.claimNamespace(), d.claimName(), to, volumeId);
    return Outcome.REMAPPED;
  }

  private PersistentVolume fromJournal(PersistentVolumeClaim claim) {
    String json = RemapPlan.journal(claim);
    return json == null ? null : kube.getKubernetesSerialization().unmarshal(json, PersistentVolume.class);
  }

  /** The reclaim policy the PV had before the swap set it to {@code Retain}. */
  private static String originalPolicy(PersistentVolume pv) {
    String was = RemapPlan.annotation(pv, RemapPlan.RECLAIM_WAS);
    return was != null ? was : pv.getSpec().getPersistentVolumeReclaimPolicy();
  }

  private PersistentVolumeClaim writeJournal(PersistentVolumeClaim claim, PersistentVolume pv, String reclaim) {
    Map<String, String> annotations = new LinkedHashMap<>(pv.getMetadata().getAnnotations());
    annotations.remove(RemapPlan.RECLAIM_WAS);
    PersistentVolume template = new PersistentVolumeBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(pv.getMetadata().getName())
            .withLabels(pv.getMetadata().getLabels()).withAnnotations(annotations)
            .withFinalizers(pv.getMetadata().getFinalizers()).build())
        .withSpec(new io.fabric8.kubernetes.api.model.PersistentVolumeSpecBuilder(pv.getSpec())
            .withPersistentVolumeReclaimPolicy(reclaim).build())
        .build();
    String json = kube.getKubernetesSerialization().asJson(template);
    var claims = kube.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace());
    return Updates.update(claims.withName(claim.getMetadata().getName()), claims::resource,
        c -> RemapPlan.journal(c) != null ? null : new PersistentVolumeClaimBuilder(c).editMetadata()
            .addToAnnotations(RemapPlan.JOURNAL, json).endMetadata().build(), claim);
  }

  private PersistentVolume retain(PersistentVolume pv, String reclaim) {
    return Updates.update(kube.persistentVolumes().withName(pv.getMetadata().getName()),
        kube.persistentVolumes()::resource, p -> new PersistentVolumeBuilder(p).editMetadata()
            .addToAnnotations(RemapPlan.RECLAIM_WAS, reclaim).endMetadata()
            .editSpec().withPersistentVolumeReclaimPolicy("Retain").endSpec().build(), pv);
  }

  private void restorePolicy(PersistentVolume pv) {
    String was = RemapPlan.annotation(pv, RemapPlan.RECLAIM_WAS);
    Updates.update(kube.persistentVolumes().withName(pv.getMetadata().getName()), kube.persistentVolumes()::resource,
        p -> new PersistentVolumeBuilder(p).editMetadata().removeFromAnnotations(RemapPlan.RECLAIM_WAS).endMetadata()
            .editSpec().withPersistentVolumeReclaimPolicy(was).endSpec().build(), pv);
  }

  /** Takes back our exports of the volume (never a Nova server's) and exports it again. */
  private CinderExporter.Export reexport(String volumeId, PersistentVolume template) throws ProvisioningException {
    Map<String, String> a = template.getMetadata().getAnnotations();
    try {
      exporter.unexport(volumeId, exporter.ours(a.get(ProvisionController.ATTACHMENT_ID)));
      return exporter.export(volumeId);
    } catch (CinderException e) {
      throw CinderFailures.of("export Cinder volume " + volumeId + " again", e);
    }
  }

  private MappedVolume map(CinderExporter.Export export, PersistentVolume template, String volumeId)
      throws ProvisioningException {
    try {
      VolumeMapper mapper = mappers.forConnection(export.connectionInfo());
      var sc = template.getSpec().getStorageClassName() == null ? null
          : kube.storage().v1().storageClasses().withName(template.getSpec().getStorageClassName()).get();
      return mapper.map(export.connectionInfo(), RemapMapping.request(template, sc, mappers, settings));
    } catch (MappingException e) {
      throw ProvisioningException.retryable("cannot map the new connection of Cinder volume " + volumeId + ": "
          + e.getMessage(), e);
    }
  }

  private static boolean sameSource(PersistentVolumeSpec a, PersistentVolumeSpec b) {
    return Objects.equals(a.getIscsi(), b.getIscsi()) && Objects.equals(a.getRbd(), b.getRbd())
        && Objects.equals(a.getFc(), b.getFc()) && Objects.equals(a.getCsi(), b.getCsi());
  }

  /**
   * Deletes the old PV object, which is {@code Retain} by now (checked again on the copy read here, and deleted only
   * while it is that copy), and waits until it is gone: the finalizers that hold a PV while it is bound
   * ({@code kubernetes.io/pv-protection}) or until our delete path ran are taken off, as nothing is left for them
   * to guard.
   */
  private void deleteOld(PersistentVolume pv) throws ProvisioningException, InterruptedException {
    String name = pv.getMetadata().getName();
    var resource = kube.persistentVolumes().withName(name);
    PersistentVolume current = resource.get();
    if (current == null) {
      return;
    }
    if (!"Retain".equals(current.getSpec().getPersistentVolumeReclaimPolicy())) {
      throw ProvisioningException.retryable("PV " + name + " is not Retain; not deleting it for the re-map", null);
    }
    // On the copy checked: a delete arriving late (a replica frozen right after sending it) or after a change
    // (the PV rebuilt under the same name) is refused with 409 instead of deleting a PV nobody looked at.
    resource.lockResourceVersion(current.getMetadata().getResourceVersion()).delete();
    for (int i = 0; i < GONE_POLLS; i++) {
      PersistentVolume left = resource.get();
      if (left == null) {
        return;
      }
      List<String> finalizers = left.getMetadata().getFinalizers();
      if (finalizers != null && (finalizers.contains(PvFactory.PV_PROTECTION)
          || finalizers.contains(Annotations.PV_FINALIZER))) {
        Updates.update(resource, kube.persistentVolumes()::resource, p -> new PersistentVolumeBuilder(p)
            .editMetadata().removeFromFinalizers(PvFactory.PV_PROTECTION)
            .removeFromFinalizers(Annotations.PV_FINALIZER).endMetadata().build());
      }
      sleeper.sleep(Duration.ofMillis(100));
    }
    throw ProvisioningException.retryable("PV " + name + " is still being deleted (finalizers "
        + resource.get().getMetadata().getFinalizers() + "); the re-map goes on once it is gone", null);
  }

  /**
   * The new connection's Secrets: ours of the same name (earlier credentials of this PV) are replaced, one made by
   * someone else is not; ours that only the old PV used are deleted.
   */
  private void ensureSecrets(List<Secret> wanted, PersistentVolume old) throws ProvisioningException {
    String pvName = old.getMetadata().getName();
    Set<SecretRef> keep = new LinkedHashSet<>();
    try {
      for (Secret s : wanted) {
        secrets.ensure(s, existing -> ours(existing, pvName));
        keep.add(new SecretRef(s.getMetadata().getNamespace(), s.getMetadata().getName()));
      }
    } catch (MappingException e) {
      throw ProvisioningException.retryable(e.getMessage(), e);
    }
    for (SecretRef ref : mappers.forVolume(old).map(m -> m.ownedSecrets(old)).orElse(List.of())) {
      if (!keep.contains(ref)) {
        secrets.delete(ref);
      }
    }
  }

  private static boolean ours(Secret s, String pvName) {
    Map<String, String> labels = s.getMetadata().getLabels();
    return labels != null && labels.entrySet().containsAll(ManagedSecrets.labels(pvName).entrySet());
  }

  /** Creates the new PV; one of that name saved already by an earlier run of this re-map is success. */
  private PersistentVolume create(PersistentVolume rebuilt) throws ProvisioningException {
    try {
      return kube.persistentVolumes().resource(rebuilt).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      PersistentVolume existing = kube.persistentVolumes().withName(rebuilt.getMetadata().getName()).get();
      if (existing != null && RemapPlan.annotation(existing, RemapPlan.RECLAIM_WAS) == null
          && Objects.equals(RemapPlan.annotation(existing, RemapPlan.MAPPED_FOR),
              RemapPlan.annotation(rebuilt, RemapPlan.MAPPED_FOR))) {
        return existing;
      }
      throw ProvisioningException.retryable("PV " + rebuilt.getMetadata().getName() + " exists again; the re-map "
          + "tries again", e);
    }
  }

  /** Drops the journal and the admin's request from the claim; with a new connection, says so on the claim. */
  private void finish(PersistentVolumeClaim claim, PersistentVolume pv, String connection) {
    var claims = kube.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace());
    PersistentVolumeClaim cleared = Updates.update(claims.withName(claim.getMetadata().getName()), claims::resource,
        c -> RemapPlan.journal(c) == null && RemapPlan.annotation(c, RemapPlan.REMAP_NOW) == null ? null
            : new PersistentVolumeClaimBuilder(c).editMetadata().removeFromAnnotations(RemapPlan.JOURNAL)
                .removeFromAnnotations(RemapPlan.REMAP_NOW).endMetadata().build());
    if (connection != null && cleared != null) {
      events.normal(cleared, "VolumeRemapped", "Remap", "PV " + pv.getMetadata().getName() + " was rebuilt after "
          + "a Cinder replication failover or failback (Cinder volume " + Annotations.cinderVolumeId(pv) + " is "
          + RemapPlan.mappedFor(pv) + "): it now connects to " + connection + ". Restart the pods that used this "
          + "claim before: they still reach the volume through the old connection");
    }
  }

  /** The connection a PV source names, without credentials: portal and IQN, monitors, or target WWNs. */
  static String describe(PersistentVolumeSpec spec) {
    if (spec.getIscsi() != null) {
      return "iSCSI portal " + spec.getIscsi().getTargetPortal() + " IQN " + spec.getIscsi().getIqn();
    }
    if (spec.getRbd() != null) {
      return "RBD monitors " + String.join(",", spec.getRbd().getMonitors());
    }
    if (spec.getFc() != null) {
      return "FC targets " + String.join(",", spec.getFc().getTargetWWNs());
    }
    if (spec.getCsi() != null) {
      return "CSI volume " + spec.getCsi().getVolumeHandle();
    }
    return "its new source";
  }
}
