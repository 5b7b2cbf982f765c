package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.mappers.PermanentMappingException;
import io.github.standalonecinder.mappers.ManagedSecrets;
import io.github.standalonecinder.mappers.MappedVolume;
import io.github.standalonecinder.mappers.MappingException;
import io.github.standalonecinder.mappers.MappingRequest;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapper;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisions one claim, every step idempotent so the whole of it can be re-run after a crash at any point. The
 * order is this class's; each rule lives in its own place: the intent on the claim ({@link ClaimIntent}), finding
 * the claim's volumes ({@link VolumeLookup}), creating one unless found, waiting for it
 * ({@link AvailabilityWait}), exporting ({@link CinderExporter}) and mapping it ({@link #export}); Secrets and PV
 * ({@link PvSaver}, {@link PvFactory}); other volumes of the claim ({@link DuplicateVolumes}), failed ones
 * ({@link FailedVolumes}), and what a claim deleted mid-way leaves ({@link VolumeRemoval}).
 */
final class ClaimProvisioner {
  private static final Logger log = LoggerFactory.getLogger(ClaimProvisioner.class);
  /** The Secret names mappers derive from a PV name ({@code <pv>-chap}, {@code <pv>-cephx}). */
  static final List<String> OWNED_SECRET_SUFFIXES = List.of(ManagedSecrets.CHAP_SUFFIX,
      ManagedSecrets.CEPHX_SUFFIX);

  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final VolumeMapperRegistry mappers;
  private final ProvisionerSettings settings;
  private final Topology topology;
  private final Executor intentWriter;
  private final ClaimIntent intent;
  private final VolumeLookup lookup;
  private final VolumeRemoval removal;
  private final DuplicateVolumes duplicates;
  private final FailedVolumes failedVolumes;
  private final AvailabilityWait availability;
  private final PvSaver saver;
  private final VolumeAdoption adoption;
  /** Whether a PV names a Cinder volume id (an adopted volume must belong to none). */
  private volatile java.util.function.Predicate<String> namedByPv = id -> false;
  /** Claims (UIDs) this process made or chose a volume for whose PV it has not saved: see {@link #owesCleanUp}. */
  private final Set<String> unfinished = ConcurrentHashMap.newKeySet();

  /** Injected so tests do not wait for real. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  ClaimProvisioner(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter,
      VolumeMapperRegistry mappers, SecretStore secrets, ProvisionerSettings settings, Sleeper sleeper,
      Executor intentWriter) {
    this(kube, cinder, exporter, mappers, secrets, settings, sleeper, intentWriter, Topology.OFF, () -> { });
  }

  /**
   * @param topology     how Cinder's AZs meet the nodes' zones (the PV's node affinity)
   * @param stuckVolumes told of each volume found not available past {@code --available-timeout}
   */
  ClaimProvisioner(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter,
      VolumeMapperRegistry mappers, SecretStore secrets, ProvisionerSettings settings, Sleeper sleeper,
      Executor intentWriter, Topology topology, Runnable stuckVolumes) {
    this.topology = topology;
    this.cinder = cinder;
    this.exporter = exporter;
    this.mappers = mappers;
    this.settings = settings;
    this.intentWriter = intentWriter;
    this.intent = new ClaimIntent(kube);
    this.lookup = new VolumeLookup(cinder, settings);
    this.removal = new VolumeRemoval(cinder, exporter, secrets, settings.namespace());
    this.duplicates = new DuplicateVolumes(removal, settings.availableTimeout());
    this.failedVolumes = new FailedVolumes(cinder, removal, settings.availableTimeout());
    this.availability = new AvailabilityWait(cinder, exporter, failedVolumes, settings.availableTimeout(), sleeper,
        stuckVolumes);
    this.saver = new PvSaver(kube, secrets, sleeper);
    this.adoption = new VolumeAdoption(cinder, exporter);
  }

  /** How a PV naming a volume id is found (the controller's PV cache). */
  void namedByPv(java.util.function.Predicate<String> p) {
    this.namedByPv = p;
  }

  /** {@link ClaimIntent#record}. */
  Optional<PersistentVolumeClaim> recordIntent(PersistentVolumeClaim claim, String pvName) {
    return intent.record(claim, pvName);
  }

  /** {@link ClaimIntent#clear}. */
  void clearIntent(PersistentVolumeClaim claim) {
    intent.clear(claim);
  }

  /** Whether the claim is waiting for Cinder to finish its volume: its next pass is no new attempt. */
  boolean waitingForCinder(PersistentVolumeClaim claim) {
    return availability.isWaiting(claim.getMetadata().getUid());
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
    CompletableFuture<Optional<PersistentVolumeClaim>> recorded = ClaimIntent.recorded(claim, plan.pvName(),
        plan.cloud()) ? CompletableFuture.completedFuture(Optional.of(claim))
        : CompletableFuture.supplyAsync(() -> intent.record(claim, plan.pvName(), plan.cloud()), intentWriter);
    List<CinderVolume> found;
    try {
      found = lookup.ofClaim(plan.volumeName(), claim);
    } catch (CinderException e) {
      awaitQuietly(recorded); // the retry starts after this attempt's write, not beside it
      throw CinderFailures.of("look up Cinder volume " + plan.volumeName(), e);
    }
    Optional<PersistentVolumeClaim> held = await(recorded);
    if (held.isEmpty()) {
      return Optional.empty();
    }
    String claimUid = claim.getMetadata().getUid();
    // Volumes Cinder is deleting are gone; those it failed are never used: while the claim has another, they are
    // duplicates (deleted once the PV is saved), else the first is replaced and the claim tries again.
    found = found.stream().filter(v -> !v.hasStatus("deleting")).toList();
    if (plan.adoptVolumeId() != null) {
      // Not ours to replace or dedupe: only the adopted volume is used (volumes this claim had before it asked
      // for adoption are duplicates, deleted once the PV is saved).
      found = found.stream().filter(v -> v.id().equals(plan.adoptVolumeId()) || !FailedVolumes.failed(v)).toList();
    }
    List<CinderVolume> usable = found.stream().filter(v -> !FailedVolumes.failed(v)).toList();
    if (usable.isEmpty() && !found.isEmpty() && plan.adoptVolumeId() == null) {
      throw failedVolumes.replace(claimUid, found.get(0), "went to status " + found.get(0).status());
    }
    if (found.size() > 1) {
      // Several volumes: another attempt may have saved the PV already (our cache not showing it yet). Then the
      // volume it names is the one, and nothing may be exported again.
      Optional<PersistentVolume> saved = saver.savedPv(held.get(), plan.pvName());
      if (saved.isPresent()) {
        return Optional.of(new ExportedVolume(held.get(), Annotations.cinderVolumeId(saved.get()), saved.get(),
            List.of(), ids(found), true));
      }
    }
    unfinished.add(claimUid);
    CinderVolume volume = availability.await(plan.adoptVolumeId() != null
        ? adoption.take(held.get(), plan, namedByPv) : createUnlessFound(usable, plan, claimUid), claimUid);
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
          plan.secretNamespace(), plan.mapperParameters(), settings.connector(), plan.readOnly(),
          plan.secretPlacement()));
    } catch (MappingException e) {
      throw unmappable(volume.id(), e);
    }
    return Optional.of(new ExportedVolume(held.get(), volume.id(),
        PvFactory.build(claim, plan, volume, export, mapped, settings, topology),
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
    try {
      return saver.save(exported);
    } catch (MappingException e) {
      throw unmappable(exported.volumeId(), e);
    }
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
    availability.forget(claim.getMetadata().getUid());
  }

  /**
   * The claim's PV is saved, and the claim still holds our intent (a retry, or a restart after the save) or this
   * process has an attempt for it under way (another replica saved the PV first): look the claim's volumes up
   * afresh (a create Cinder carried out late shows now, and so does the volume our lost attempt made), delete those
   * the PV does not name, make a {@code Retain} PV its Secrets' owner, then drop the intent.
   */
  void finish(PersistentVolumeClaim claim, PersistentVolume pv) throws ProvisioningException {
    unfinished.remove(claim.getMetadata().getUid());
    String named = Annotations.cinderVolumeId(pv);
    if (named != null) {
      String volumeName = settings.volumeNamePrefix() + claim.getMetadata().getUid();
      try {
        duplicates.deleteAllBut(named, ids(lookup.ofClaim(volumeName, claim)), pv.getMetadata().getName());
      } catch (CinderException e) {
        throw CinderFailures.of("look up the volumes of " + pv.getMetadata().getName(), e);
      }
    }
    mappers.forVolume(pv).ifPresent(m -> saver.adoptSecrets(pv, m.ownedSecrets(pv)));
    intent.clear(claim);
  }

  private static List<String> ids(List<CinderVolume> volumes) {
    return volumes.stream().map(CinderVolume::id).toList();
  }

  /**
   * The backend's answer cannot become a PV: keep nothing exported. What fails the same way every time (a
   * connection Kubernetes would refuse, a pool-wide key the class would put in the claim's namespace) fails for
   * good, until the claim or class changes; anything else (a Secret in the way, a cephx Secret not made yet) is
   * retried, as an admin may fix it.
   */
  private ProvisioningException unmappable(String volumeId, MappingException e) {
    quietlyUnexport(volumeId);
    String message = "cannot map Cinder volume " + volumeId + ": " + e.getMessage();
    return e instanceof PermanentMappingException ? ProvisioningException.invalid(message)
        : ProvisioningException.retryable(message, e);
  }

  /** The volume found by name (deleting duplicates, or one in error), else a new one. */
  private CinderVolume createUnlessFound(List<CinderVolume> found, ProvisionPlan plan, String claimUid)
      throws ProvisioningException {
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
        if (availability.isWaiting(claimUid)) {
          log.debug("Cinder volume {} of {} is {}", v.id(), plan.pvName(), v.status());
        } else {
          log.info("reusing Cinder volume {} ({}) for {}", v.id(), v.status(), plan.pvName());
        }
        return v;
      }
      CinderVolume created = cinder.createVolume(new VolumeCreateRequest(plan.volumeName(), plan.sizeGiB(),
          plan.volumeType(), plan.availabilityZone(), "Kubernetes volume " + plan.pvName()
              + " (standalone-cinder)", plan.volumeMetadata(), plan.sourceVolumeId(), SnapshotStore.snapshotId(plan.snapshotId()),
          SnapshotStore.backupId(plan.snapshotId()), plan.schedulerHints()));
      log.info("created Cinder volume {} for {}", created.id(), plan.pvName());
      return created;
    } catch (CinderException e) {
      throw CinderFailures.ofCreate("create Cinder volume " + plan.volumeName(), e);
    }
  }

  /**
   * Removes what was made for a claim that is being deleted before its PV was saved: the Cinder volumes found by
   * name, cluster and claim metadata, and the Secrets named after the PV. Returns normally when nothing is left.
   */
  void cleanUpAbandoned(PersistentVolumeClaim claim, String pvName) throws ProvisioningException {
    String volumeName = settings.volumeNamePrefix() + claim.getMetadata().getUid();
    try {
      for (CinderVolume v : lookup.ofClaim(volumeName, claim)) {
        if (VolumeAdoption.adopted(v)) {
          adoption.giveBack(v); // not ours to delete
          continue;
        }
        if (!removal.remove(v.id(), settings.availableTimeout())) {
          // Cinder refuses to delete a volume it is still creating; one stuck there is force-deleted.
          throw ProvisioningException.retryable("Cinder volume " + v.id() + " is still being created; it is "
              + "deleted once Cinder has finished creating it", null);
        }
        log.info("deleted Cinder volume {} of claim {}/{} deleted before provisioning finished", v.id(),
            claim.getMetadata().getNamespace(), claim.getMetadata().getName());
      }
    } catch (CinderException e) {
      throw CinderFailures.of("clean up the volume of deleted claim " + claim.getMetadata().getNamespace() + "/"
          + claim.getMetadata().getName(), e);
    }
    removal.removeSecrets(pvName, claim.getMetadata().getNamespace());
  }

  private void quietlyUnexport(String volumeId) {
    try {
      exporter.unexport(volumeId);
    } catch (RuntimeException e) {
      log.warn("could not take back the export of Cinder volume {}: {}", volumeId, e.getMessage());
    }
  }
}
