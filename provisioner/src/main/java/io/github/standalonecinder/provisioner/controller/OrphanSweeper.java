package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds Cinder volumes tagged with our cluster id that nothing owns any more — no claim with the UID in their
 * metadata, no PV with their PV name or volume id, no claim carrying our provisioning finalizer for them — and that
 * are older than the grace period; then deletes them (unexport, delete, and the Secrets made for their PV) or only
 * reports them (a log line and the {@code standalone_cinder_orphan_volumes} gauge), by configuration.
 *
 * <p>Runs inside the {@link ProvisionController}, so only on the leader. An orphan appears when, for example, the
 * provisioner crashed after creating a volume and someone then removed the claim's finalizer by hand.
 */
final class OrphanSweeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OrphanSweeper.class);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final CinderExporter exporter;
  private final SecretStore secrets;
  private final ProvisionerSettings settings;
  private final Supplier<List<PersistentVolumeClaim>> cachedClaims;
  private final Supplier<List<PersistentVolume>> cachedPvs;
  private final Clock clock;
  private final AtomicInteger lastFound = new AtomicInteger();
  private final Counter deletedCounter;
  private ScheduledExecutorService executor;

  /** One orphan found by a sweep, and whether it was deleted. */
  record Orphan(String volumeId, String volumeName, String claim, String pvName, boolean deleted) {}

  OrphanSweeper(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter, SecretStore secrets,
      ProvisionerSettings settings, MeterRegistry registry, Supplier<List<PersistentVolumeClaim>> cachedClaims,
      Supplier<List<PersistentVolume>> cachedPvs, Clock clock) {
    this.kube = kube;
    this.cinder = cinder;
    this.exporter = exporter;
    this.secrets = secrets;
    this.settings = settings;
    this.cachedClaims = cachedClaims;
    this.cachedPvs = cachedPvs;
    this.clock = clock;
    Gauge.builder("standalone_cinder_orphan_volumes", lastFound, AtomicInteger::get)
        .description("Cinder volumes of this cluster owned by no claim and no PV, found by the last sweep")
        .register(registry);
    this.deletedCounter = Counter.builder("standalone_cinder_orphan_volumes_deleted")
        .description("Orphan Cinder volumes deleted by the sweeper").register(registry);
  }

  /** Sweeps every {@code orphanSweepInterval}, the first time one interval after start; zero: never. */
  void start() {
    long every = settings.orphanSweepInterval().toMillis();
    if (every <= 0) {
      log.info("orphan sweeper is off");
      return;
    }
    executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "orphan-sweeper");
      t.setDaemon(true);
      return t;
    });
    executor.scheduleWithFixedDelay(() -> {
      try {
        sweep();
      } catch (RuntimeException e) {
        log.warn("orphan sweep failed: {}", e.getMessage());
      }
    }, every, every, TimeUnit.MILLISECONDS);
    log.info("orphan sweeper runs every {} s, grace period {} s, mode {}", every / 1000,
        settings.orphanGracePeriod().toSeconds(), settings.orphanMode().name().toLowerCase());
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** One sweep; returns the orphans found. Cinder or API failures abort the sweep (the next one tries again). */
  List<Orphan> sweep() {
    List<CinderVolume> volumes;
    try {
      volumes = cinder.listVolumes(Map.of(Annotations.META_CLUSTER, settings.clusterId()));
    } catch (CinderException e) {
      log.warn("orphan sweep: cannot list Cinder volumes: {}", e.getMessage());
      return List.of();
    }
    Instant cutoff = clock.instant().minus(settings.orphanGracePeriod());
    List<Orphan> found = new ArrayList<>();
    for (CinderVolume v : volumes) {
      if (v.createdAt() == null || v.createdAt().isAfter(cutoff) || v.hasStatus("deleting")) {
        continue;
      }
      if (!isOrphan(v)) {
        continue;
      }
      Map<String, String> m = v.metadata();
      String claim = m.get(Annotations.META_CLAIM_NAMESPACE) + "/" + m.get(Annotations.META_CLAIM_NAME);
      String pvName = pvNameOf(v);
      boolean deleted = false;
      if (settings.orphanMode() == ProvisionerSettings.OrphanMode.DELETE) {
        deleted = delete(v, pvName, m.get(Annotations.META_CLAIM_NAMESPACE));
      } else {
        log.warn("orphan Cinder volume {} ({}, created {}): claim {} (uid {}) and PV {} are gone; not deleting it "
            + "(orphan mode report)", v.id(), v.name(), v.createdAt(), claim, m.get(Annotations.META_CLAIM_UID),
            pvName);
      }
      found.add(new Orphan(v.id(), v.name(), claim, pvName, deleted));
    }
    lastFound.set((int) found.stream().filter(o -> !o.deleted()).count());
    return found;
  }

  private String pvNameOf(CinderVolume v) {
    String pv = v.metadata().get(Annotations.META_PV_NAME);
    if (pv == null && v.metadata().get(Annotations.META_CLAIM_UID) != null) {
      pv = "pvc-" + v.metadata().get(Annotations.META_CLAIM_UID);
    }
    return pv;
  }

  /** Whether nothing owns the volume; everything uncertain counts as owned. */
  private boolean isOrphan(CinderVolume v) {
    Map<String, String> m = v.metadata();
    String ns = m.get(Annotations.META_CLAIM_NAMESPACE);
    String name = m.get(Annotations.META_CLAIM_NAME);
    String uid = m.get(Annotations.META_CLAIM_UID);
    String pvName = pvNameOf(v);
    if (ns == null || name == null || uid == null || pvName == null) {
      return false; // not made by us, or by a version that did not say for whom: never ours to judge
    }
    // A PV that names this volume owns it; a PV with this volume's PV name but another volume id means this one is
    // a duplicate (a create that timed out, carried out by Cinder after the retry made another): nobody will ever
    // use it. Otherwise a claim with the UID (or provisioning for the PV name) may still be using it.
    try {
      for (PersistentVolume pv : concat(cachedPvs.get(), kube.persistentVolumes().list().getItems())) {
        Map<String, String> a = pv.getMetadata().getAnnotations();
        if (a != null && v.id().equals(a.get(Annotations.CINDER_VOLUME_ID))) {
          return false;
        }
      }
      PersistentVolume byName = kube.persistentVolumes().withName(pvName).get();
      if (byName != null) {
        Map<String, String> a = byName.getMetadata().getAnnotations();
        // Without a volume id it is not a PV of ours: do not judge.
        return a != null && a.get(Annotations.CINDER_VOLUME_ID) != null;
      }
      for (PersistentVolumeClaim c : cachedClaims.get()) {
        if (uid.equals(c.getMetadata().getUid()) || provisioningFor(c, pvName)) {
          return false;
        }
      }
      PersistentVolumeClaim claim = kube.persistentVolumeClaims().inNamespace(ns).withName(name).get();
      if (claim != null && (uid.equals(claim.getMetadata().getUid()) || provisioningFor(claim, pvName))) {
        return false;
      }
    } catch (KubernetesClientException e) {
      log.warn("orphan sweep: cannot check the owners of Cinder volume {}: {}", v.id(), e.getMessage());
      return false;
    }
    return true;
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static boolean provisioningFor(PersistentVolumeClaim c, String pvName) {
    Map<String, String> a = c.getMetadata().getAnnotations();
    return c.getMetadata().getFinalizers() != null
        && c.getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER)
        && a != null && pvName.equals(a.get(Annotations.CLAIM_PROVISIONING));
  }

  /** The same steps as {@link ClaimProvisioner#cleanUpAbandoned}: unexport, delete (force when stuck), Secrets. */
  private boolean delete(CinderVolume v, String pvName, String claimNamespace) {
    try {
      Optional<CinderVolume> after = exporter.unexport(v.id());
      if (after.isPresent() && !after.get().hasStatus("deleting")) {
        CinderVolume current = after.get();
        if (current.hasStatus("creating") || current.hasStatus("downloading")) {
          cinder.forceDeleteVolume(current.id());
        } else {
          cinder.deleteVolume(current.id());
        }
      }
    } catch (CinderException e) {
      log.warn("orphan sweep: could not delete orphan Cinder volume {}: {}", v.id(), e.getMessage());
      return false;
    }
    Set<String> namespaces = new LinkedHashSet<>();
    namespaces.add(settings.namespace());
    if (claimNamespace != null) {
      namespaces.add(claimNamespace);
    }
    for (String ns : namespaces) {
      for (String suffix : ClaimProvisioner.OWNED_SECRET_SUFFIXES) {
        try {
          secrets.delete(new SecretRef(ns, pvName + suffix));
        } catch (KubernetesClientException e) {
          if (e.getCode() != 403 || Objects.equals(ns, settings.namespace())) {
            log.warn("orphan sweep: could not delete Secret {}/{}: {}", ns, pvName + suffix, e.getMessage());
          }
        }
      }
    }
    deletedCounter.increment();
    log.warn("deleted orphan Cinder volume {} ({}, created {}): claim {}/{} (uid {}) and PV {} are gone", v.id(),
        v.name(), v.createdAt(), claimNamespace, v.metadata().get(Annotations.META_CLAIM_NAME),
        v.metadata().get(Annotations.META_CLAIM_UID), pvName);
    return true;
  }
}
