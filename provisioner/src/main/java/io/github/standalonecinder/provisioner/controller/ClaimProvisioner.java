package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.ManagedSecrets;
import io.github.standalonecinder.mappers.MappedVolume;
import io.github.standalonecinder.mappers.MappingException;
import io.github.standalonecinder.mappers.MappingRequest;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapper;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisions one claim, every step idempotent so the whole of it can be re-run after a crash at any point:
 * record intent on the claim, find-or-create the Cinder volume by its deterministic name, wait for it, export it,
 * map it ({@link #export}); create-or-verify Secrets, save the PV ({@link #save}); drop the intent. Also cleans
 * up after claims deleted while being provisioned.
 */
final class ClaimProvisioner {
  private static final Logger log = LoggerFactory.getLogger(ClaimProvisioner.class);
  private static final int PV_SAVE_ATTEMPTS = 5;
  /** The Secret names mappers derive from a PV name ({@code <pv>-chap}, {@code <pv>-cephx}). */
  static final List<String> OWNED_SECRET_SUFFIXES = List.of(ManagedSecrets.CHAP_SUFFIX,
      ManagedSecrets.CEPHX_SUFFIX);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final VolumeMapperRegistry mappers;
  private final SecretStore secrets;
  private final ProvisionerSettings settings;
  private final Sleeper sleeper;
  private final Executor intentWriter;
  private final DuplicateVolumes duplicates;
  private final FailedVolumes failedVolumes;
  /** Claims (UIDs) this process made or chose a volume for whose PV it has not saved: see {@link #owesCleanUp}. */
  private final Set<String> unfinished = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Injected so tests do not wait for real. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  ClaimProvisioner(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter,
      VolumeMapperRegistry mappers, SecretStore secrets, ProvisionerSettings settings, Sleeper sleeper,
      Executor intentWriter) {
    this.kube = kube;
    this.cinder = cinder;
    this.exporter = exporter;
    this.mappers = mappers;
    this.secrets = secrets;
    this.settings = settings;
    this.sleeper = sleeper;
    this.intentWriter = intentWriter;
    this.duplicates = new DuplicateVolumes(cinder, exporter);
    this.failedVolumes = new FailedVolumes(cinder);
  }

  /**
   * Records the intent to provision: our finalizer and the PV name, before any Cinder call. Empty when the claim
   * is gone, was replaced by another of the same name, or is being deleted: the caller's copy (from the informer
   * cache) was stale, and a volume made now would belong to no claim. The write starts from that copy; if it is
   * stale, its resourceVersion makes the write fail and the claim is read afresh.
   */
  Optional<PersistentVolumeClaim> recordIntent(PersistentVolumeClaim claim, String pvName) {
    var meta = claim.getMetadata();
    if (intentRecorded(claim, pvName)) {
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
      if (!hasFinalizer(c)) {
        b.addToFinalizers(Annotations.CLAIM_FINALIZER);
      }
      return b.endMetadata().build();
    }, claim);
    // Null when gone; the unchanged copy when the claim was replaced or is being deleted.
    return Optional.ofNullable(saved).filter(live);
  }

  /** Our finalizer holds the claim: a deletion from here on is seen and cleaned up after. */
  private static boolean intentRecorded(PersistentVolumeClaim claim, String pvName) {
    var annotations = claim.getMetadata().getAnnotations();
    return hasFinalizer(claim) && annotations != null
        && pvName.equals(annotations.get(Annotations.CLAIM_PROVISIONING));
  }

  static boolean hasFinalizer(PersistentVolumeClaim claim) {
    return claim.getMetadata().getFinalizers() != null
        && claim.getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER);
  }

  /** Whether the claim carries our finalizer or intent annotation: a provisioning attempt has begun. */
  static boolean holdsIntent(PersistentVolumeClaim claim) {
    var annotations = claim.getMetadata().getAnnotations();
    return hasFinalizer(claim) || (annotations != null && annotations.containsKey(Annotations.CLAIM_PROVISIONING));
  }

  /** Removes our finalizer and intent annotation; a claim already gone is fine. */
  void clearIntent(PersistentVolumeClaim claim) {
    var meta = claim.getMetadata();
    if (!holdsIntent(claim)) {
      return;
    }
    var claims = kube.persistentVolumeClaims().inNamespace(meta.getNamespace());
    Updates.update(claims.withName(meta.getName()), claims::resource, c -> {
      if (!Objects.equals(c.getMetadata().getUid(), meta.getUid())) {
        return null;
      }
      return new PersistentVolumeClaimBuilder(c).editMetadata()
          .removeFromAnnotations(Annotations.CLAIM_PROVISIONING)
          .removeFromFinalizers(Annotations.CLAIM_FINALIZER)
          .endMetadata().build();
    }, claim);
  }

  /**
   * A Cinder volume exported and mapped, not yet in Kubernetes: what {@link #save} turns into Secrets and a PV.
   * Everything in it can be made again from Cinder and the claim, so losing it (a crash) costs only a retry.
   *
   * @param claim the claim as saved with our intent
   * @param foundIds every volume of the claim's name found in Cinder: those the saved PV does not name are
   *     duplicates, deleted once it is saved ({@link DuplicateVolumes})
   * @param saved the PV was found saved already (by another replica): nothing to write but the clean-up
   */
  record ExportedVolume(PersistentVolumeClaim claim, String volumeId, PersistentVolume pv, List<Secret> secrets,
      List<String> foundIds, boolean saved) {}

  /**
   * The Cinder half of provisioning. The intent is recorded on the claim ({@link #recordIntent}) while Cinder is
   * asked for a volume of the claim's name: that read need not wait for the write, and nothing is created, deleted
   * or exported before the write is done. Then the volume is created unless found, waited for, exported and
   * mapped. Empty when the claim is gone or being deleted. Cinder work done before a failure is kept for the retry.
   */
  Optional<ExportedVolume> export(PersistentVolumeClaim claim, ProvisionPlan plan)
      throws ProvisioningException, InterruptedException {
    CompletableFuture<Optional<PersistentVolumeClaim>> intent = intentRecorded(claim, plan.pvName())
        ? CompletableFuture.completedFuture(Optional.of(claim))
        : CompletableFuture.supplyAsync(() -> recordIntent(claim, plan.pvName()), intentWriter);
    List<CinderVolume> found;
    try {
      found = findOurs(plan.volumeName(), claim);
    } catch (CinderException e) {
      awaitQuietly(intent); // the retry starts after this attempt's write, not beside it
      throw CinderFailures.of("look up Cinder volume " + plan.volumeName(), e);
    }
    Optional<PersistentVolumeClaim> held = await(intent);
    if (held.isEmpty()) {
      return Optional.empty();
    }
    String claimUid = claim.getMetadata().getUid();
    // Volumes Cinder is deleting are gone; those it failed are never used: while the claim has another, they are
    // duplicates (deleted once the PV is saved), else the first is replaced and the claim tries again.
    found = found.stream().filter(v -> !v.hasStatus("deleting")).toList();
    List<CinderVolume> usable = found.stream().filter(v -> !FailedVolumes.failed(v)).toList();
    if (usable.isEmpty() && !found.isEmpty()) {
      throw failedVolumes.replace(claimUid, found.get(0), "went to status " + found.get(0).status());
    }
    if (found.size() > 1) {
      // Several volumes: another attempt may have saved the PV already (our cache not showing it yet). Then the
      // volume it names is the one, and nothing may be exported again.
      Optional<PersistentVolume> saved = savedPv(held.get(), plan.pvName());
      if (saved.isPresent()) {
        return Optional.of(new ExportedVolume(held.get(), Annotations.cinderVolumeId(saved.get()), saved.get(),
            List.of(), ids(found), true));
      }
    }
    unfinished.add(claimUid);
    CinderVolume volume = waitUntilAvailable(createUnlessFound(usable, plan), plan, claimUid);
    failedVolumes.succeeded(claimUid);
    CinderExporter.Export export;
    try {
      export = exporter.export(volume.id());
    } catch (CinderException e) {
      throw CinderFailures.of("export Cinder volume " + volume.id(), e);
    }
    MappedVolume mapped;
    try {
      VolumeMapper mapper = mappers.forConnection(export.connectionInfo());
      mapped = mapper.map(export.connectionInfo(), new MappingRequest(plan.pvName(),
          claim.getMetadata().getNamespace(), claim.getMetadata().getName(), plan.storageClassName(),
          plan.secretNamespace(), plan.mapperParameters(), settings.connector(), plan.readOnly()));
    } catch (MappingException e) {
      throw unmappable(volume.id(), e);
    }
    return Optional.of(new ExportedVolume(held.get(), volume.id(), buildPv(claim, plan, volume, export, mapped),
        mapped.secrets(), ids(found), false));
  }

  private static <T> T await(CompletableFuture<T> write) throws InterruptedException {
    try {
      return write.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re; // a KubernetesClientException, to the caller as if the write had been made on this thread
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static void awaitQuietly(CompletableFuture<?> write) throws InterruptedException {
    try {
      write.get();
    } catch (ExecutionException e) {
      log.debug("recording intent failed too: {}", e.getCause().getMessage());
    }
  }

  /** The Kubernetes half: creates or verifies the volume's Secrets, then saves its PV; returns the saved PV. */
  PersistentVolume save(ExportedVolume exported) throws ProvisioningException, InterruptedException {
    PersistentVolume pv = exported.pv();
    if (!exported.saved()) {
      Optional<PersistentVolume> savedByOther = Optional.empty();
      try {
        for (Secret s : exported.secrets()) {
          secrets.ensure(s);
        }
      } catch (MappingException e) {
        // Another replica may have saved this claim's PV with Secrets of its own export: then its PV stands.
        savedByOther = savedPv(exported.claim(), exported.pv().getMetadata().getName());
        if (savedByOther.isEmpty()) {
          throw unmappable(exported.volumeId(), e);
        }
        log.warn("PV {} was saved by another attempt naming Cinder volume {}; not writing Secrets for {}",
            pv.getMetadata().getName(), Annotations.cinderVolumeId(savedByOther.get()), exported.volumeId());
      }
      pv = savedByOther.isPresent() ? savedByOther.get()
          : save(exported.pv(), exported.claim(), exported.volumeId());
    }
    return pv;
  }

  /**
   * With the claim's PV saved, the other volumes this attempt found (or made) for the claim are nobody's: take
   * them back and delete them. Throws (retryable) while one cannot go yet; the claim keeps our intent meanwhile.
   */
  void deleteDuplicates(ExportedVolume exported, PersistentVolume pv) throws ProvisioningException {
    String named = Annotations.cinderVolumeId(pv);
    List<String> ids = new ArrayList<>(exported.foundIds());
    ids.add(exported.volumeId());
    if (named != null) {
      duplicates.deleteAllBut(named, new LinkedHashSet<>(ids), pv.getMetadata().getName());
    }
  }

  /**
   * Whether an attempt of this process made or chose a volume for the claim and has not seen its PV saved: when
   * the claim turns out provisioned by another replica, that volume may be ours to delete.
   */
  boolean owesCleanUp(PersistentVolumeClaim claim) {
    return unfinished.contains(claim.getMetadata().getUid());
  }

  /** The claim's PV is saved and its duplicates are gone: nothing of this process's attempts is left. */
  void finished(PersistentVolumeClaim claim) {
    unfinished.remove(claim.getMetadata().getUid());
  }

  /**
   * The claim's PV is saved, and the claim still holds our intent (a retry, or a restart after the save) or this
   * process has an attempt for it under way (another replica saved the PV first): look the claim's volumes up
   * afresh (a create Cinder carried out late shows now, and so does the volume our lost attempt made), delete those
   * the PV does not name, then drop the intent.
   */
  void finish(PersistentVolumeClaim claim, PersistentVolume pv) throws ProvisioningException {
    unfinished.remove(claim.getMetadata().getUid());
    String named = Annotations.cinderVolumeId(pv);
    if (named != null) {
      String volumeName = settings.volumeNamePrefix() + claim.getMetadata().getUid();
      try {
        duplicates.deleteAllBut(named, ids(findOurs(volumeName, claim)), pv.getMetadata().getName());
      } catch (CinderException e) {
        throw CinderFailures.of("look up the volumes of " + pv.getMetadata().getName(), e);
      }
    }
    clearIntent(claim);
  }

  /** The claim's PV as the API server has it, if one is saved for this very claim. */
  private Optional<PersistentVolume> savedPv(PersistentVolumeClaim claim, String pvName) {
    return Optional.ofNullable(kube.persistentVolumes().withName(pvName).get())
        .filter(p -> ClaimPlanner.claimUid(p).filter(claim.getMetadata().getUid()::equals).isPresent());
  }

  private static List<String> ids(List<CinderVolume> volumes) {
    return volumes.stream().map(CinderVolume::id).toList();
  }

  /** The backend's answer cannot become a PV: keep nothing exported, retry later (an admin may fix the class). */
  private ProvisioningException unmappable(String volumeId, MappingException e) {
    quietlyUnexport(volumeId);
    return ProvisioningException.retryable("cannot map Cinder volume " + volumeId + ": " + e.getMessage(), e);
  }

  /** The volume found by name (deleting duplicates, or one in error), else a new one. */
  private CinderVolume createUnlessFound(List<CinderVolume> found, ProvisionPlan plan) throws ProvisioningException {
    try {
      if (found.size() > 1) {
        // No PV names any of them yet: use the oldest, as any other replica would, and delete none of them now
        // (another replica may be about to save a PV naming any one); save() deletes the others.
        CinderVolume keeper = DuplicateVolumes.keeper(found);
        log.warn("Cinder has {} volumes named {} for this cluster; using {}, the others are deleted once the PV is "
            + "saved", found.size(), plan.volumeName(), keeper.id());
        found = List.of(keeper);
      }
      if (found.size() == 1) {
        CinderVolume v = found.get(0);
        log.info("reusing Cinder volume {} ({}) for {}", v.id(), v.status(), plan.pvName());
        return v;
      }
      CinderVolume created = cinder.createVolume(new VolumeCreateRequest(plan.volumeName(), plan.sizeGiB(),
          plan.volumeType(), plan.availabilityZone(), "Kubernetes volume " + plan.pvName()
              + " (standalone-cinder)", plan.volumeMetadata(), plan.sourceVolumeId(), null));
      log.info("created Cinder volume {} for {}", created.id(), plan.pvName());
      return created;
    } catch (CinderException e) {
      throw CinderFailures.ofCreate("create Cinder volume " + plan.volumeName(), e);
    }
  }

  private CinderVolume waitUntilAvailable(CinderVolume volume, ProvisionPlan plan, String claimUid)
      throws ProvisioningException, InterruptedException {
    Instant deadline = Instant.now().plus(settings.availableTimeout());
    PollSchedule polls = new PollSchedule();
    CinderVolume current = volume;
    boolean unexported = false;
    while (true) {
      String status = current.status() == null ? "" : current.status().toLowerCase();
      switch (status) {
        case "available" -> {
          return current;
        }
        case "in-use", "attaching", "reserved", "detaching" -> {
          // Exported before a crash, with no PV saved: take the export back and export again.
          if (!unexported) {
            unexported = true;
            try {
              Optional<CinderVolume> after = exporter.unexport(current.id());
              if (after.isEmpty()) {
                throw ProvisioningException.retryable("Cinder volume " + current.id() + " disappeared", null);
              }
              current = after.get();
              continue;
            } catch (CinderException e) {
              throw CinderFailures.of("take back the export of Cinder volume " + current.id(), e);
            }
          }
        }
        default -> {
          if (FailedVolumes.failed(current)) {
            throw failedVolumes.replace(claimUid, current, "went to status " + current.status());
          }
          if (current.hasStatus("creating") && current.createdAt() != null
              && current.createdAt().plus(settings.availableTimeout()).isBefore(Instant.now())) {
            // Nothing in Cinder times a lost create out (a message-bus blip): only we can.
            throw failedVolumes.replace(claimUid, current, "was stuck in creating for more than "
                + settings.availableTimeout().toSeconds() + " s");
          }
          // creating, downloading, extending...: keep waiting
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw ProvisioningException.retryable("Cinder volume " + current.id() + " is still " + current.status()
            + " after " + settings.availableTimeout().toSeconds() + "s; will keep checking", null);
      }
      sleeper.sleep(polls.untilNextRead());
      try {
        Optional<CinderVolume> next = cinder.getVolume(current.id());
        if (next.isEmpty()) {
          throw ProvisioningException.retryable("Cinder volume " + current.id() + " disappeared while waiting for it"
              + " to become available; will create a new one", null);
        }
        current = next.get();
      } catch (CinderException e) {
        throw CinderFailures.of("read Cinder volume " + current.id(), e);
      }
    }
  }

  private PersistentVolume buildPv(PersistentVolumeClaim claim, ProvisionPlan plan, CinderVolume volume,
      CinderExporter.Export export, MappedVolume mapped) {
    var spec = mapped.source();
    spec.setCapacity(Map.of("storage", new Quantity(volume.sizeGiB() + "Gi")));
    spec.setAccessModes(plan.accessModes());
    spec.setVolumeMode(plan.volumeMode());
    spec.setPersistentVolumeReclaimPolicy(plan.reclaimPolicy());
    spec.setStorageClassName(plan.storageClassName());
    spec.setMountOptions(plan.mountOptions().isEmpty() ? null : plan.mountOptions());
    spec.setClaimRef(new ObjectReferenceBuilder()
        .withApiVersion("v1").withKind("PersistentVolumeClaim")
        .withNamespace(claim.getMetadata().getNamespace()).withName(claim.getMetadata().getName())
        .withUid(claim.getMetadata().getUid()).build());
    var b = new PersistentVolumeBuilder()
        .withNewMetadata()
          .withName(plan.pvName())
          .addToAnnotations(Annotations.PROVISIONED_BY, settings.provisionerName())
          .addToAnnotations(Annotations.CINDER_VOLUME_ID, volume.id())
          .addToAnnotations(Annotations.PROVISIONER_IDENTITY, settings.identity())
          .addToLabels(Annotations.LABEL_MANAGED_BY, Annotations.MANAGED_BY)
        .endMetadata()
        .withSpec(spec);
    if (volume.availabilityZone() != null) {
      b.editMetadata().addToLabels("topology.cinder.standalone-cinder.openstack.org/zone", volume.availabilityZone())
          .endMetadata();
    }
    if (export.attachmentId() != null) {
      b.editMetadata().addToAnnotations(ProvisionController.ATTACHMENT_ID, export.attachmentId()).endMetadata();
    }
    if ("Delete".equals(plan.reclaimPolicy())) {
      b.editMetadata().addToFinalizers(Annotations.PV_FINALIZER).endMetadata();
    }
    return b.build();
  }

  /**
   * Saves the PV, retrying. A PV already saved for this claim (a retry after a crash, or another replica) is
   * success; if it names another volume, that one is the claim's and ours is taken back and deleted.
   */
  private PersistentVolume save(PersistentVolume pv, PersistentVolumeClaim claim, String volumeId)
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

  /**
   * Removes what was made for a claim that is being deleted before its PV was saved: the Cinder volume found by
   * name and cluster metadata, and the Secrets named after the PV. Returns normally when nothing is left.
   */
  void cleanUpAbandoned(PersistentVolumeClaim claim, String pvName) throws ProvisioningException {
    String volumeName = settings.volumeNamePrefix() + claim.getMetadata().getUid();
    try {
      for (CinderVolume v : findOurs(volumeName, claim)) {
        Optional<CinderVolume> after = exporter.unexport(v.id());
        if (after.isEmpty() || after.get().hasStatus("deleting")) {
          continue;
        }
        CinderVolume current = after.get();
        if (current.hasStatus("creating") || current.hasStatus("downloading")) {
          // Cinder refuses to delete a volume it is still creating; one stuck there needs a force delete.
          boolean stuck = current.createdAt() != null
              && current.createdAt().plus(settings.availableTimeout()).isBefore(Instant.now());
          if (!stuck) {
            throw ProvisioningException.retryable("Cinder volume " + current.id() + " is still "
                + current.status() + "; it is deleted once Cinder has finished creating it", null);
          }
          log.warn("force-deleting Cinder volume {}, stuck in {} since {}", current.id(), current.status(),
              current.createdAt());
          cinder.forceDeleteVolume(current.id());
        } else {
          cinder.deleteVolume(current.id());
        }
        log.info("deleted Cinder volume {} of claim {}/{} deleted before provisioning finished", v.id(),
            claim.getMetadata().getNamespace(), claim.getMetadata().getName());
      }
    } catch (CinderException e) {
      throw CinderFailures.of("clean up the volume of deleted claim " + claim.getMetadata().getNamespace() + "/"
          + claim.getMetadata().getName(), e);
    }
    // By name, not by label: the provisioner may only create, get and delete Secrets (no list).
    Set<String> namespaces = new LinkedHashSet<>(List.of(settings.namespace(), claim.getMetadata().getNamespace()));
    for (String ns : namespaces) {
      for (String suffix : OWNED_SECRET_SUFFIXES) {
        try {
          secrets.delete(new SecretRef(ns, pvName + suffix));
        } catch (KubernetesClientException e) {
          // Without claim-namespace Secrets enabled we may not touch Secrets there, and none were made there.
          if (e.getCode() != 403 || ns.equals(settings.namespace())) {
            throw e;
          }
        }
      }
    }
  }

  /**
   * The volumes of this name tagged with any of this cluster's ids (its own, and the legacy default when the id is
   * derived): one lookup, by name, the tags checked here.
   */
  private List<CinderVolume> findOurs(String volumeName) {
    if (settings.clusterIds().size() == 1) {
      return cinder.findVolumes(volumeName, Map.of(Annotations.META_CLUSTER, settings.clusterId()));
    }
    return cinder.findVolumes(volumeName, Map.of()).stream()
        .filter(v -> settings.clusterIds().contains(v.metadata().get(Annotations.META_CLUSTER))).toList();
  }

  /**
   * The claim's volumes by name and, for a claim an earlier attempt worked on (it holds our intent), also by the
   * claim UID in their metadata: a volume made before {@code --volume-name-prefix} changed has another name. A new
   * claim costs no second look-up.
   */
  private List<CinderVolume> findOurs(String volumeName, PersistentVolumeClaim claim) {
    List<CinderVolume> byName = findOurs(volumeName);
    if (!holdsIntent(claim)) {
      return byName;
    }
    Map<String, CinderVolume> all = new java.util.LinkedHashMap<>();
    byName.forEach(v -> all.put(v.id(), v));
    cinder.listVolumes(Map.of(Annotations.META_CLAIM_UID, claim.getMetadata().getUid())).stream()
        .filter(v -> settings.clusterIds().contains(v.metadata().get(Annotations.META_CLUSTER)))
        .forEach(v -> all.putIfAbsent(v.id(), v));
    return List.copyOf(all.values());
  }

  private void quietlyUnexport(String volumeId) {
    try {
      exporter.unexport(volumeId);
    } catch (RuntimeException e) {
      log.warn("could not take back the export of Cinder volume {}: {}", volumeId, e.getMessage());
    }
  }


}
