package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds Cinder volumes of this cluster that nothing owns any more and, by configuration, deletes them or only
 * reports them.
 *
 * <p>A sweep builds one {@link Index} from the informer caches, then lists the volumes tagged with this cluster's
 * ids a page at a time and judges each one against the index: a volume is owned when a PV names it, when a PV
 * without a Cinder volume id has its PV name, or when its claim (by UID) or a claim provisioning its PV name exists.
 * What the caches call an orphan, if older than the grace period, is a candidate: only for candidates is the API
 * server asked (the PV by name, then the claim by namespace/name), and the PV cache is looked at again for a PV
 * naming the volume. Two kinds of orphan are left: a volume whose claim and PV are gone, and a duplicate — its PV
 * exists and names another volume (left by a create that timed out, or by two provisioners racing).
 *
 * <p>An orphan is deleted (in {@code delete} mode: unexport, delete, and when its PV is gone the Secrets made for
 * that PV) only when it is tagged with this cluster's own id and its recorded reclaim policy
 * ({@link Annotations#META_RECLAIM_POLICY}) is {@code Delete}; any other orphan is reported — a log line and
 * {@code standalone_cinder_orphan_volumes{reason}} — and left alone ({@link Kept}). A volume whose PV says
 * {@code Retain} while its metadata does not gets {@code Retain} recorded, so it is kept if the PV is removed later.
 * Everything uncertain counts as owned: volumes without our claim metadata, and volumes whose owners cannot be
 * checked (API error).
 *
 * <p>Runs inside the {@link ProvisionController}, so only on the leader.
 */
final class OrphanSweeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OrphanSweeper.class);
  static final String RETAIN = "Retain";
  static final String DELETE = "Delete";

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final VolumeRemoval removal;
  private final ProvisionerSettings settings;
  private final Supplier<List<PersistentVolumeClaim>> cachedClaims;
  private final Supplier<List<PersistentVolume>> cachedPvs;
  private final Clock clock;
  private final Map<Kept, AtomicInteger> lastKept = new EnumMap<>(Kept.class);
  private final Counter deletedCounter;
  private final String cloud;
  /** The orphans the last sweep kept: a volume is logged at WARN when it first appears here, later at DEBUG. */
  private Map<String, Kept> reported = Map.of();
  private ScheduledExecutorService executor;

  /** Why an orphan is left in Cinder: the {@code reason} label of {@code standalone_cinder_orphan_volumes}. */
  enum Kept {
    /** Deletable, but the mode is {@code report}. */
    REPORT_MODE("report-mode", "orphan mode report"),
    /** Deletable; Cinder refused or failed the delete, the next sweep tries again. */
    DELETE_FAILED("delete-failed", "the delete failed"),
    /** Its recorded reclaim policy is {@code Retain}. */
    RETAIN("retain", "its reclaim policy is Retain"),
    /** Tagged with another of this cluster's ids (the legacy default): another cluster may have made it. */
    LEGACY_CLUSTER_ID("legacy-cluster-id", "it is tagged with the old default cluster id, which another cluster "
        + "sharing the project may use"),
    /** No reclaim policy recorded (made by an older version) or one that is not Delete. */
    NO_RECLAIM_POLICY("no-reclaim-policy", "no reclaim policy Delete is recorded on it");

    final String label;
    final String why;

    Kept(String label, String why) {
      this.label = label;
      this.why = why;
    }
  }

  /** What the caches, or the API server, say about a volume. */
  enum Ownership {
    /** Without our claim metadata: not ours to judge. */
    NOT_OURS,
    OWNED,
    /** Its PV exists and names another volume. */
    DUPLICATE,
    /** No PV names it or has its PV name, no claim has its UID or is provisioning its PV name. */
    GONE
  }

  /** The claim metadata of a volume of ours. */
  record Meta(String namespace, String claimName, String claimUid, String pvName) {
    /** Null when the volume lacks any of it (not made by us, or by a version that did not say for whom). */
    static Meta of(CinderVolume v) {
      Map<String, String> m = v.metadata();
      String ns = m.get(Annotations.META_CLAIM_NAMESPACE);
      String name = m.get(Annotations.META_CLAIM_NAME);
      String uid = m.get(Annotations.META_CLAIM_UID);
      String pv = m.get(Annotations.META_PV_NAME);
      if (pv == null && uid != null) {
        pv = "pvc-" + uid;
      }
      return ns == null || name == null || uid == null || pv == null ? null : new Meta(ns, name, uid, pv);
    }

    String claim() {
      return namespace + "/" + claimName;
    }
  }

  /** A cached verdict, and whether the volume's metadata should record {@code Retain} (its PV says so). */
  record Judgement(Ownership ownership, PersistentVolume pv, boolean recordRetain) {}

  /**
   * One sweep's view of the informer caches: PVs by name and by the Cinder volume ids they name, the UIDs of the
   * claims, and the PV names claims are being provisioned for. Built once per sweep; the objects are the caches'
   * own, so it costs only its maps.
   */
  static final class Index {
    private final Map<String, PersistentVolume> pvByName;
    private final Map<String, PersistentVolume> pvByVolumeId;
    private final Set<String> claimUids;
    private final Set<String> provisioningPvNames;

    private Index(Map<String, PersistentVolume> pvByName, Map<String, PersistentVolume> pvByVolumeId,
        Set<String> claimUids, Set<String> provisioningPvNames) {
      this.pvByName = pvByName;
      this.pvByVolumeId = pvByVolumeId;
      this.claimUids = claimUids;
      this.provisioningPvNames = provisioningPvNames;
    }

    static Index of(List<PersistentVolume> pvs, List<PersistentVolumeClaim> claims) {
      Map<String, PersistentVolume> byName = new HashMap<>(pvs.size() * 4 / 3 + 1);
      Map<String, PersistentVolume> byVolumeId = new HashMap<>(pvs.size() * 4 / 3 + 1);
      for (PersistentVolume pv : pvs) {
        byName.put(pv.getMetadata().getName(), pv);
        for (String id : volumeIdsNamedBy(pv)) {
          // Of several PVs naming one volume, a Retain one decides what the volume records.
          byVolumeId.merge(id, pv, (a, b) -> isRetain(a) ? a : b);
        }
      }
      Set<String> uids = new HashSet<>(claims.size() * 4 / 3 + 1);
      Set<String> provisioning = new HashSet<>();
      for (PersistentVolumeClaim c : claims) {
        uids.add(c.getMetadata().getUid());
        String pvName = provisioningPvName(c);
        if (pvName != null) {
          provisioning.add(pvName);
        }
      }
      return new Index(byName, byVolumeId, uids, provisioning);
    }

    /** The cached verdict on a volume (its metadata read by {@link Meta#of}). */
    Judgement judge(CinderVolume v) {
      Meta meta = Meta.of(v);
      if (meta == null) {
        return new Judgement(Ownership.NOT_OURS, null, false);
      }
      PersistentVolume naming = pvByVolumeId.get(v.id());
      if (naming != null) {
        boolean recordRetain = isRetain(naming) && !RETAIN.equals(v.metadata().get(Annotations.META_RECLAIM_POLICY));
        return new Judgement(Ownership.OWNED, naming, recordRetain);
      }
      PersistentVolume byName = pvByName.get(meta.pvName());
      if (byName != null) {
        // It does not name this volume (checked above): a PV of ours names another one, this is a duplicate. A PV
        // without a volume id is not ours to judge by.
        return new Judgement(volumeIdsNamedBy(byName).isEmpty() ? Ownership.OWNED : Ownership.DUPLICATE, byName,
            false);
      }
      if (claimUids.contains(meta.claimUid()) || provisioningPvNames.contains(meta.pvName())) {
        return new Judgement(Ownership.OWNED, null, false);
      }
      return new Judgement(Ownership.GONE, null, false);
    }
  }

  /** One orphan found by a sweep: deleted, or kept for a reason. */
  record Orphan(String volumeId, String volumeName, String claim, String pvName, Ownership ownership, Kept kept) {
    boolean deleted() {
      return kept == null;
    }
  }

  OrphanSweeper(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter, SecretStore secrets,
      ProvisionerSettings settings, MeterRegistry registry, Supplier<List<PersistentVolumeClaim>> cachedClaims,
      Supplier<List<PersistentVolume>> cachedPvs, Clock clock) {
    this(kube, cinder, exporter, secrets, settings, registry, cachedClaims, cachedPvs, clock,
        io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT);
  }

  /**
   * The sweeper of one cloud's volumes ({@code cloud} tags its metrics). Whether a PV names a volume is asked of
   * every PV, whatever cloud it records: a volume any PV names is never an orphan.
   */
  OrphanSweeper(KubernetesClient kube, CinderGateway cinder, CinderExporter exporter, SecretStore secrets,
      ProvisionerSettings settings, MeterRegistry registry, Supplier<List<PersistentVolumeClaim>> cachedClaims,
      Supplier<List<PersistentVolume>> cachedPvs, Clock clock, String cloud) {
    this.cloud = cloud;
    this.kube = kube;
    this.cinder = cinder;
    this.settings = settings;
    this.removal = new VolumeRemoval(cinder, exporter, secrets, settings.namespace());
    this.cachedClaims = cachedClaims;
    this.cachedPvs = cachedPvs;
    this.clock = clock;
    for (Kept k : Kept.values()) {
      AtomicInteger n = new AtomicInteger();
      lastKept.put(k, n);
      Gauge.builder("standalone_cinder_orphan_volumes", n, AtomicInteger::get)
          .description("Cinder volumes of this cluster owned by no claim and no PV that the last sweep left in "
              + "Cinder, by the reason they were kept")
          .tag("cloud", cloud).tag("reason", k.label).register(registry);
    }
    this.deletedCounter = Counter.builder("standalone_cinder_orphan_volumes_deleted")
        .description("Orphan Cinder volumes deleted by the sweeper").tag("cloud", cloud).register(registry);
  }

  /** Sweeps every {@code orphanSweepInterval}, the first time one interval after start; zero: never. */
  void start() {
    long every = settings.orphanSweepInterval().toMillis();
    if (every <= 0) {
      log.info("orphan sweeper is off");
      return;
    }
    executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "orphan-sweeper-" + cloud);
      t.setDaemon(true);
      return t;
    });
    executor.scheduleWithFixedDelay(() -> {
      try {
        sweep();
      } catch (RuntimeException e) {
        log.warn("orphan sweep of cloud {} failed: {}", cloud, e.getMessage());
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

  /**
   * One sweep; returns the orphans found. A Cinder failure while listing aborts it (the next one tries again); a
   * candidate whose owners cannot be read from the API server counts as owned.
   */
  List<Orphan> sweep() {
    long t0 = System.nanoTime();
    int[] listedAndRecorded = new int[2];
    List<CinderVolume> candidates;
    try {
      candidates = candidates(clock.instant().minus(settings.orphanGracePeriod()), listedAndRecorded);
    } catch (CinderException e) {
      log.warn("orphan sweep: cannot list the Cinder volumes of cloud {}: {}", cloud, e.getMessage());
      return List.of();
    }
    Set<String> namedNow = candidates.isEmpty() ? Set.of() : volumeIdsNamedByCachedPvs(candidates);
    List<Orphan> found = new ArrayList<>();
    for (CinderVolume v : candidates) {
      Orphan o = confirmAndDispose(v, namedNow.contains(v.id()));
      if (o != null) {
        found.add(o);
      }
    }
    Map<Kept, Integer> kept = new EnumMap<>(Kept.class);
    Map<String, Kept> nowReported = new HashMap<>();
    for (Orphan o : found) {
      if (!o.deleted()) {
        kept.merge(o.kept(), 1, Integer::sum);
        nowReported.put(o.volumeId(), o.kept());
      }
    }
    lastKept.forEach((k, n) -> n.set(kept.getOrDefault(k, 0)));
    reported = nowReported;
    StringBuilder keptText = new StringBuilder();
    kept.forEach((k, n) -> keptText.append(keptText.length() == 0 ? "" : ", ").append(k.label).append(' ').append(n));
    log.info("orphan sweep: {} Cinder volumes of this cluster, {} candidates, {} "
        + "orphans ({} deleted, {} kept{}), {} reclaim policies recorded as Retain, {} ms", listedAndRecorded[0],
        candidates.size(), found.size(), found.stream().filter(Orphan::deleted).count(), nowReported.size(),
        keptText.length() == 0 ? "" : ": " + keptText, listedAndRecorded[1], (System.nanoTime() - t0) / 1_000_000);
    return found;
  }

  /**
   * Lists this cluster's volumes a page at a time and judges each against one index of the caches (released when
   * this returns): records Retain where a PV says so, and returns those older than {@code cutoff} the caches call
   * orphans. Counts the volumes listed and the policies recorded into {@code counts}.
   */
  private List<CinderVolume> candidates(Instant cutoff, int[] counts) {
    Index index = Index.of(cachedPvs.get(), cachedClaims.get());
    List<CinderVolume> candidates = new ArrayList<>();
    for (String clusterId : settings.clusterIds()) {
      cinder.forEachVolume(Map.of(Annotations.META_CLUSTER, clusterId), v -> {
        counts[0]++;
        if (v.hasStatus("deleting")) {
          return;
        }
        Judgement j = index.judge(v);
        // Whatever the volume's age: an admin may set a PV to Retain and remove it within the grace period.
        if (j.recordRetain() && recordRetain(v, j.pv())) {
          counts[1]++;
        }
        if (v.createdAt() == null || v.createdAt().isAfter(cutoff)) {
          return;
        }
        if (j.ownership() == Ownership.DUPLICATE || j.ownership() == Ownership.GONE) {
          candidates.add(v);
        }
      });
    }
    return candidates;
  }

  /** Records Retain on a volume whose PV says Retain; false when Cinder refused (the next sweep tries again). */
  private boolean recordRetain(CinderVolume v, PersistentVolume pv) {
    try {
      cinder.updateVolumeMetadata(v.id(), Map.of(Annotations.META_RECLAIM_POLICY, RETAIN));
      log.info("recorded reclaim policy Retain on Cinder volume {}: its PV {} says Retain", v.id(),
          pv.getMetadata().getName());
      return true;
    } catch (CinderException e) {
      log.warn("orphan sweep: could not record reclaim policy Retain on Cinder volume {} (PV {}): {}", v.id(),
          pv.getMetadata().getName(), e.getMessage());
      return false;
    }
  }

  /** The candidates' ids that a PV in the cache names now (one pass over the cache, after the listing). */
  private Set<String> volumeIdsNamedByCachedPvs(List<CinderVolume> candidates) {
    Set<String> ids = new HashSet<>();
    candidates.forEach(v -> ids.add(v.id()));
    Set<String> named = new HashSet<>();
    for (PersistentVolume pv : cachedPvs.get()) {
      for (String id : volumeIdsNamedBy(pv)) {
        if (ids.contains(id)) {
          named.add(id);
        }
      }
    }
    return named;
  }

  /** Asks the API server about a candidate; an orphan is then deleted or kept. Null when it is owned after all. */
  private Orphan confirmAndDispose(CinderVolume v, boolean namedByCachedPv) {
    Meta meta = Meta.of(v);
    if (namedByCachedPv) {
      return null;
    }
    Ownership now;
    PersistentVolume pvNow;
    try {
      pvNow = kube.persistentVolumes().withName(meta.pvName()).get();
      now = confirm(v, meta, pvNow,
          () -> kube.persistentVolumeClaims().inNamespace(meta.namespace()).withName(meta.claimName()).get());
    } catch (KubernetesClientException e) {
      log.warn("orphan sweep: cannot check the owners of Cinder volume {}: {}", v.id(), e.getMessage());
      return null;
    }
    if (now == Ownership.OWNED) {
      return null;
    }
    String what = now == Ownership.DUPLICATE
        ? "a duplicate: its PV " + meta.pvName() + " names Cinder volume " + String.join(", ", volumeIdsNamedBy(pvNow))
        : "claim " + meta.claim() + " (uid " + meta.claimUid() + ") and PV " + meta.pvName() + " are gone";
    Kept kept = keptBecause(v, settings.clusterIds(), settings.orphanMode());
    if (kept == null) {
      if (delete(v, meta, now == Ownership.GONE, what)) {
        return new Orphan(v.id(), v.name(), meta.claim(), meta.pvName(), now, null);
      }
      kept = Kept.DELETE_FAILED;
    }
    String line = "orphan Cinder volume " + v.id() + " (" + v.name() + ", created " + v.createdAt() + "): " + what
        + "; not deleting it: " + kept.why;
    if (reported.get(v.id()) == kept) {
      log.debug(line);
    } else {
      log.warn(line);
    }
    return new Orphan(v.id(), v.name(), meta.claim(), meta.pvName(), now, kept);
  }

  /**
   * The verdict on a candidate from what the API server says now: its PV by name (a PV naming it, or one without a
   * volume id, owns it; one naming another volume makes it a duplicate), else its claim, read only then.
   */
  static Ownership confirm(CinderVolume v, Meta meta, PersistentVolume pvNow,
      Supplier<PersistentVolumeClaim> claimNow) {
    if (pvNow != null) {
      Set<String> named = volumeIdsNamedBy(pvNow);
      return named.isEmpty() || named.contains(v.id()) ? Ownership.OWNED : Ownership.DUPLICATE;
    }
    PersistentVolumeClaim c = claimNow.get();
    if (c != null && (meta.claimUid().equals(c.getMetadata().getUid())
        || meta.pvName().equals(provisioningPvName(c)))) {
      return Ownership.OWNED;
    }
    return Ownership.GONE;
  }

  /**
   * Why an orphan must stay, or null when it may be deleted: in {@code delete} mode, tagged with this cluster's own
   * id (the first of {@code clusterIds}) and recorded with reclaim policy {@code Delete}.
   */
  static Kept keptBecause(CinderVolume v, List<String> clusterIds, ProvisionerSettings.OrphanMode mode) {
    String policy = v.metadata().get(Annotations.META_RECLAIM_POLICY);
    if (RETAIN.equals(policy)) {
      return Kept.RETAIN;
    }
    if (!clusterIds.get(0).equals(v.metadata().get(Annotations.META_CLUSTER))) {
      return Kept.LEGACY_CLUSTER_ID;
    }
    if (!DELETE.equals(policy)) {
      return Kept.NO_RECLAIM_POLICY;
    }
    return mode == ProvisionerSettings.OrphanMode.DELETE ? null : Kept.REPORT_MODE;
  }

  private static boolean isRetain(PersistentVolume pv) {
    return pv.getSpec() != null && RETAIN.equals(pv.getSpec().getPersistentVolumeReclaimPolicy());
  }

  private static final Pattern UUID = Pattern.compile(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  /**
   * The Cinder volume ids a PV names: its {@code cinderVolumeId} annotation (ours and the Go original's), a CSI
   * volume handle or in-tree {@code cinder.volumeID} (cinder-csi and hand-made PVs), and a volume id inside an RBD
   * image name or iSCSI target IQN (Cinder's drivers name them {@code volume-<id>}). Naming more than it should only
   * keeps more.
   */
  static Set<String> volumeIdsNamedBy(PersistentVolume pv) {
    Set<String> ids = new LinkedHashSet<>(2);
    Map<String, String> a = pv.getMetadata().getAnnotations();
    if (a != null && a.get(Annotations.CINDER_VOLUME_ID) != null) {
      ids.add(a.get(Annotations.CINDER_VOLUME_ID));
    }
    PersistentVolumeSpec s = pv.getSpec();
    if (s != null) {
      if (s.getCsi() != null) {
        ids.add(s.getCsi().getVolumeHandle());
        uuidsIn(s.getCsi().getVolumeHandle(), ids);
      }
      if (s.getCinder() != null) {
        ids.add(s.getCinder().getVolumeID());
      }
      if (s.getRbd() != null) {
        uuidsIn(s.getRbd().getImage(), ids);
      }
      if (s.getIscsi() != null) {
        uuidsIn(s.getIscsi().getIqn(), ids);
      }
    }
    ids.remove(null);
    return ids;
  }

  private static void uuidsIn(String text, Set<String> into) {
    if (text != null && text.length() >= 36) {
      Matcher m = UUID.matcher(text);
      while (m.find()) {
        into.add(m.group());
      }
    }
  }

  /** The PV name a claim carrying our provisioning finalizer is being provisioned for, else null. */
  private static String provisioningPvName(PersistentVolumeClaim c) {
    Map<String, String> a = c.getMetadata().getAnnotations();
    List<String> f = c.getMetadata().getFinalizers();
    return f != null && f.contains(Annotations.CLAIM_FINALIZER) && a != null
        ? a.get(Annotations.CLAIM_PROVISIONING) : null;
  }

  /**
   * Takes the volume back and deletes it ({@link VolumeRemoval}: a candidate is older than the grace period, so
   * one still {@code creating} is stuck) and — when its PV is gone — the Secrets made for its PV. A duplicate's PV
   * name is that of the PV that lives on: its Secrets are that PV's.
   */
  private boolean delete(CinderVolume v, Meta meta, boolean withSecrets, String what) {
    try {
      removal.remove(v.id(), Duration.ZERO);
    } catch (CinderException e) {
      log.warn("orphan sweep: could not delete orphan Cinder volume {}: {}", v.id(), e.getMessage());
      return false;
    }
    if (withSecrets) {
      try {
        removal.removeSecrets(meta.pvName(), meta.namespace());
      } catch (KubernetesClientException e) {
        log.warn("orphan sweep: could not delete the Secrets of PV {}: {}", meta.pvName(), e.getMessage());
      }
    }
    deletedCounter.increment();
    log.warn("deleted orphan Cinder volume {} ({}, created {}): {}", v.id(), v.name(), v.createdAt(), what);
    return true;
  }
}
