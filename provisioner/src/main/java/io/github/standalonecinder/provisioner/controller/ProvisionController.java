package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.AdaptiveCinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.kube.LeanItemStore;
import io.github.standalonecinder.provisioner.leader.Replica;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches claims, volumes and classes through shared informers and drives {@link ClaimProvisioner} and
 * {@link VolumeDeleter} from one rate-limited {@link WorkQueue}: handlers only enqueue keys, workers do the work,
 * one operation per key at a time, failures retried with per-key exponential backoff and reported as Events.
 *
 * <p>{@code workers} bounds the keys doing Cinder work at once ({@link TwoStageWorkers}). A claim whose volume is
 * exported gives its slot to the next key and saves its Secrets and PV beside them: a burst moves at Cinder's
 * pace, the Kubernetes writes of one claim not added to the next one's wait.
 */
public final class ProvisionController implements AutoCloseable, Replica.Workload {
  private static final Logger log = LoggerFactory.getLogger(ProvisionController.class);
  /** On PVs exported through the attachments API: the attachment to delete with the volume. */
  public static final String ATTACHMENT_ID = "standalone-cinder.openstack.org/attachment-id";

  /** What a worker works on. */
  sealed interface Key permits ClaimKey, VolumeKey {}

  record ClaimKey(String namespace, String name) implements Key {
    @Override
    public String toString() {
      return "claim " + namespace + "/" + name;
    }
  }

  record VolumeKey(String name) implements Key {
    @Override
    public String toString() {
      return "volume " + name;
    }
  }

  private final KubernetesClient kube;
  private final ProvisionerSettings settings;
  private final ControllerMetrics metrics;
  private final EventRecorder events;
  private final WorkQueue<Key> queue;
  /** Each cloud's Cinder side, by the cloud's name ({@link Clouds}). */
  private final Map<String, CloudScope> scopes;
  private final SnapshotController snapshots;
  static final long LIST_PAGE = 500;
  private final Map<Key, Instant> firstAttempt = new ConcurrentHashMap<>();
  /**
   * How long a claim's {@code Provisioning} Event waits to be written: a claim provisioned within it shows
   * {@code ProvisioningSucceeded} alone (one Event write instead of two); one that takes longer, waits for Cinder
   * (parked when its worker stops polling: {@link AvailabilityWait#inWorkerUntil}) or fails shows
   * {@code Provisioning} first, with the time it was taken up.
   */
  static final Duration PROVISIONING_EVENT_DEFERRAL = AvailabilityWait.IN_WORKER;
  private final PermanentFailures permanentFailures = new PermanentFailures();
  /** Claims whose latest attempt failed and that have no PV yet, by when their provisioning began. */
  private final Map<ClaimKey, Instant> failingSince = new ConcurrentHashMap<>();
  /** Names of PVs this process is saving or saved that the PV cache has not shown yet. */
  private final Set<String> savedNotCached = ConcurrentHashMap.newKeySet();
  /** Claims whose PV this process saved: their intent is cleared once they show Bound. */
  private final ClearWhenBound clearWhenBound = new ClearWhenBound();
  private final TwoStageWorkers<Key> workers;
  private final ExecutorService eventWriter;
  private SharedIndexInformer<PersistentVolumeClaim> claims;
  private SharedIndexInformer<PersistentVolume> volumes;
  private SharedIndexInformer<StorageClass> classes;
  /** Nodes, with topology on only: the selected node's zone label places a WaitForFirstConsumer claim's volume. */
  private SharedIndexInformer<Node> nodes;
  private final Topology topology;
  private volatile boolean running;
  private volatile boolean closed;
  private Duration informerGiveUpAfter = Duration.ofMinutes(1);
  private final Map<SharedIndexInformer<?>, InformerRetryPolicy> informerPolicies = new ConcurrentHashMap<>();

  public ProvisionController(KubernetesClient kube, CinderGateway cinder, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, ControllerMetrics metrics, String instanceId) {
    this(kube, cinder, mappers, settings, Topology.OFF, metrics, instanceId);
  }

  /** @param topology how Cinder's AZs meet the nodes' zones ({@link Topology#OFF}: a flat cluster) */
  public ProvisionController(KubernetesClient kube, CinderGateway cinder, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, Topology topology, ControllerMetrics metrics, String instanceId) {
    this(kube, Clouds.single(cinder, settings.connector()), mappers, settings, topology, metrics, instanceId);
  }

  /**
   * A controller serving several clouds: a claim goes to its class's cloud (parameter {@code cloud}), a PV to the
   * cloud it records ({@link Annotations#CLOUD}); "default" for neither.
   */
  public ProvisionController(KubernetesClient kube, Clouds clouds, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, Topology topology, ControllerMetrics metrics, String instanceId) {
    this.kube = kube;
    this.topology = topology;
    this.settings = settings;
    settings.clusterId(); // fails here, not at the first claim, when it was never resolved (ClusterIdentity)
    this.metrics = metrics;
    this.eventWriter = EventRecorder.backgroundWriter(metrics::eventDropped);
    this.events = new EventRecorder(kube, settings.provisionerName(), instanceId, Clock.systemUTC(), eventWriter);
    this.queue = new WorkQueue<>(settings.baseBackoff(), settings.maxBackoff());
    Map<String, CloudScope> byName = new ConcurrentHashMap<>();
    this.snapshots = new SnapshotController(kube, cloud -> Optional.ofNullable(byName.get(cloud))
        .map(s -> s.snapshots).orElse(null), settings, events, this::cachedClaim, this::cachedPv,
        this::cachedClaims);
    this.workers = new TwoStageWorkers<>(queue, settings.workers(), "provisioner-worker-", this::process);
    for (Clouds.Cloud cloud : clouds.all()) {
      CloudScope scope = new CloudScope(cloud, kube, mappers, settings, topology, metrics, events,
          workers.sideThreads(), this, snapshots::restoreSource);
      byName.put(cloud.name(), scope);
      try {
        log.info("cloud {}: Cinder exports use the {}", cloud.name(),
            scope.exporter.usesAttachments() ? "attachments API" : "legacy attach actions");
      } catch (io.github.standalonecinder.provisioner.cinder.CinderException e) {
        log.info("cloud {}: the export API is chosen once its Cinder answers", cloud.name());
      }
    }
    this.scopes = Map.copyOf(byName);
    metrics.workQueueDepth(queue::size);
    metrics.failingClaims(this::failingClaims, Clock.systemUTC());
  }

  /** Starts informers, waits until their caches are filled, then starts the workers (no leader election). */
  public void start() throws InterruptedException {
    try {
      startInformers().join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
    startWorkers();
  }

  /**
   * How long an informer's LIST or watch may keep failing before it stops and the process gives up; see
   * {@link InformerRetryPolicy}. Set before {@link #startInformers}.
   */
  public ProvisionController informerGiveUpAfter(Duration d) {
    this.informerGiveUpAfter = d;
    return this;
  }

  /**
   * Starts the informers; the future completes when their caches are filled. Their events only queue keys, so
   * a standby may run them: nothing is done with the keys before {@link #startWorkers}.
   */
  @Override
  public CompletableFuture<Void> startInformers() {
    long resync = settings.resyncPeriod().toMillis();
    // Paged initial LISTs: a cluster's worth of claims is never one response held in memory at once.
    claims = kube.persistentVolumeClaims().inAnyNamespace().withLimit(LIST_PAGE).runnableInformer(resync)
        .itemStore(new LeanItemStore<>());
    volumes = kube.persistentVolumes().withLimit(LIST_PAGE).runnableInformer(resync)
        .itemStore(new LeanItemStore<>());
    classes = kube.storage().v1().storageClasses().runnableInformer(resync);
    informerPolicies.clear();
    for (var e : Map.of("claim", claims, "PersistentVolume", volumes, "StorageClass", classes).entrySet()) {
      InformerRetryPolicy policy = new InformerRetryPolicy(e.getKey(), informerGiveUpAfter, System::nanoTime);
      informerPolicies.put(e.getValue(), policy);
      e.getValue().exceptionHandler(policy);
    }
    // Only events that can mean work wake a worker: of a claim's and its PV's updates in a burst (ours, the
    // binder's) most are of claims and PVs already done with.
    claims.addEventHandler(handler(c -> {
      ClaimKey key = new ClaimKey(c.getMetadata().getNamespace(), c.getMetadata().getName());
      if (mayNeedWork(c) || firstAttempt.containsKey(key)) {
        queue.add(key);
      }
    }));
    volumes.addEventHandler(handler(v -> {
      savedNotCached.remove(v.getMetadata().getName());
      VolumeKey key = new VolumeKey(v.getMetadata().getName());
      if (VolumeDeleter.shouldDelete(v, settings) || firstAttempt.containsKey(key)) {
        queue.add(key);
      }
    }));
    classes.addEventHandler(handler(sc -> enqueuePendingClaims()));
    if (topology.enabled()) {
      nodes = kube.nodes().withLimit(LIST_PAGE).runnableInformer(resync).itemStore(new LeanItemStore<>());
      InformerRetryPolicy policy = new InformerRetryPolicy("Node", informerGiveUpAfter, System::nanoTime);
      informerPolicies.put(nodes, policy);
      nodes.exceptionHandler(policy);
      return CompletableFuture.allOf(classes.start().toCompletableFuture(), volumes.start().toCompletableFuture(),
          claims.start().toCompletableFuture(), nodes.start().toCompletableFuture(), snapshots.startInformers());
    }
    return CompletableFuture.allOf(classes.start().toCompletableFuture(), volumes.start().toCompletableFuture(),
        claims.start().toCompletableFuture(), snapshots.startInformers());
  }

  /** Starts the workers and the orphan sweeper: from here on this controller writes. */
  @Override
  public void startWorkers() {
    running = true;
    workers.start();
    snapshots.startWorkers();
    scopes.values().forEach(s -> s.sweeper.start());
    log.info("provisioner {} started with {} workers", settings.provisionerName(), settings.workers());
  }

  /**
   * Why this controller cannot do its job any more: an informer stopped (it gave up, see
   * {@link InformerRetryPolicy}), or the workers' dispatcher died. Also tells each retry policy whether its
   * informer is watching again.
   */
  @Override
  public Optional<String> problem() {
    for (var e : informerPolicies.entrySet()) {
      SharedIndexInformer<?> informer = e.getKey();
      if (informer.isWatching()) {
        e.getValue().watching();
      }
      if (informer.stopped().toCompletableFuture().isDone() && !closed) {
        String cause = "";
        try {
          informer.stopped().toCompletableFuture().getNow(null);
        } catch (RuntimeException ex) {
          cause = ": " + (ex.getCause() == null ? ex.getMessage() : ex.getCause().getMessage());
        }
        return Optional.of("an informer stopped after failing for "
            + e.getValue().failingFor().toSeconds() + " s" + cause);
      }
    }
    if (running && !workers.alive()) {
      return Optional.of("the workers' dispatcher thread died");
    }
    return Optional.empty();
  }

  @Override
  public boolean ready() {
    return isReady();
  }

  /** Caches filled and every informer running. */
  public boolean isReady() {
    return claims != null && !closed && claims.hasSynced() && volumes.hasSynced() && classes.hasSynced()
        && claims.isRunning() && volumes.isRunning() && classes.isRunning()
        && (nodes == null || nodes.hasSynced() && nodes.isRunning()) && snapshots.ready();
  }

  /** True when nothing is queued or being worked on (tests and the demo wait for this). */
  public boolean isIdle() {
    return queue.isIdle() && snapshots.isIdle();
  }

  /** The VolumeSnapshot part: off when the API server does not serve the snapshot API. */
  public SnapshotController snapshots() {
    return snapshots;
  }

  @Override
  public void close() {
    closed = true;
    running = false;
    scopes.values().forEach(CloudScope::close);
    snapshots.close();
    queue.close();
    for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] {claims, volumes, classes, nodes}) {
      if (i != null) {
        i.stop();
      }
    }
    workers.close();
    events.flushAll();
    eventWriter.shutdown();
    try {
      // The Events of the work just done; the process is going away.
      eventWriter.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(java.util.function.Consumer<T> enqueue) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        enqueue.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        enqueue.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        // Nothing to do: our finalizers make us see a deletion as an update first.
      }
    };
  }

  private void enqueuePendingClaims() {
    for (PersistentVolumeClaim c : claims.getStore().list()) {
      if (!ClaimPlanner.isBound(c)) {
        queue.add(new ClaimKey(c.getMetadata().getNamespace(), c.getMetadata().getName()));
      }
    }
  }

  /**
   * A key's Cinder work; for a claim whose volume is exported, returns the writes that save it. The Cinder work is
   * one stage of its cloud's adaptive limit: a create or delete it starts holds a place until Cinder is seen done
   * with the volume, or until it returns.
   */
  private TwoStageWorkers.SecondStage process(Key key) throws InterruptedException {
    try (AdaptiveCinderGateway.Stage stage = AdaptiveCinderGateway.openStage()) {
      if (key instanceof ClaimKey ck) {
        return syncClaim(ck);
      }
      syncVolume((VolumeKey) key);
      return null;
    }
  }

  PersistentVolumeClaim cachedClaim(String namespacedName) {
    return claims.getStore().getByKey(namespacedName);
  }

  PersistentVolume cachedPv(String name) {
    return volumes.getStore().getByKey(name);
  }

  List<PersistentVolumeClaim> cachedClaims() {
    return claims.getStore().list();
  }

  List<PersistentVolume> cachedPvs() {
    return volumes.getStore().list();
  }

  /** Whether a PV the cache shows names the Cinder volume {@code id}. */
  boolean namedByPv(String id) {
    return volumes != null && volumes.getStore().list().stream()
        .anyMatch(pv -> id.equals(Annotations.cinderVolumeId(pv)));
  }

  /**
   * The cloud a claim's work goes to: the one its recorded intent names (so a claim half-provisioned keeps its
   * cloud whatever happens to its class), else its class's; "default" without either.
   */
  private static String cloudOf(PersistentVolumeClaim claim, StorageClass sc) {
    String recorded = ClaimIntent.cloud(claim);
    if (recorded != null) {
      return recorded;
    }
    return sc == null ? io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT : Clouds.ofClass(sc);
  }

  /** A node as the cache has it; null with topology off (no node informer) or when not known. */
  Node cachedNode(String name) {
    return nodes == null ? null : nodes.getStore().getByKey(name);
  }

  private StorageClass storageClassOf(PersistentVolumeClaim claim) {
    String name = claim.getMetadata().getAnnotations() == null ? null
        : claim.getMetadata().getAnnotations().get(Annotations.BETA_STORAGE_CLASS);
    if (name == null) {
      name = claim.getSpec().getStorageClassName();
    }
    return name == null || name.isEmpty() ? null : classes.getStore().getByKey(name);
  }

  private boolean namesUs(PersistentVolumeClaim claim) {
    Map<String, String> a = claim.getMetadata().getAnnotations();
    if (a == null) {
      return false;
    }
    return settings.provisionerName().equals(a.get(Annotations.STORAGE_PROVISIONER))
        || settings.provisionerName().equals(a.get(Annotations.BETA_STORAGE_PROVISIONER));
  }

  /**
   * False for a claim {@link #syncClaim} would pass over at once: not being deleted, without our finalizer, and
   * bound already or not naming us.
   */
  boolean mayNeedWork(PersistentVolumeClaim claim) {
    if (claim.getMetadata().getDeletionTimestamp() != null || ClaimIntent.hasFinalizer(claim)) {
      return true;
    }
    return namesUs(claim) && (!ClaimPlanner.isBound(claim) || VolumeExpander.mayNeed(claim)
        || VolumeModifier.mayNeed(claim));
  }

  /** Does the claim's Cinder work; returns the rest of its work, or null when there is none. */
  TwoStageWorkers.SecondStage syncClaim(ClaimKey key) throws InterruptedException {
    PersistentVolumeClaim claim = cachedClaim(key.namespace() + "/" + key.name());
    if (claim == null) {
      firstAttempt.remove(key);
      failingSince.remove(key);
      permanentFailures.forget(key.toString());
      return null;
    }
    String pvName = ClaimPlanner.pvName(claim);
    StorageClass sc = storageClassOf(claim);
    String cloud = cloudOf(claim, sc);
    CloudScope scope = scopes.get(cloud);
    if (claim.getMetadata().getDeletionTimestamp() != null) {
      if (ClaimIntent.hasFinalizer(claim)) {
        cleanUpDeletedClaim(key, claim, pvName, scope, cloud);
      }
      clearWhenBound.forget(claim.getMetadata().getUid());
      return null;
    }
    boolean bound = ClaimPlanner.isBound(claim);
    boolean owesCleanUp = scope != null && scope.provisioner.owesCleanUp(claim);
    if (bound && namesUs(claim) && !ClaimIntent.holds(claim) && !owesCleanUp
        && (VolumeExpander.mayNeed(claim) || VolumeModifier.mayNeed(claim))) {
      dayTwo(key, claim);
      return null;
    }
    if (bound || !namesUs(claim)) {
      if (bound && (ClaimIntent.holds(claim) || owesCleanUp)) {
        if (!clearedWhenBound(key, claim, scope)) {
          return null;
        }
        if (scope == null) {
          Duration delay = queue.addRateLimited(key, null);
          log.warn("{}: cannot finish it, retrying in {} ms: {}", key, delay.toMillis(), Clouds.notConfigured(cloud));
          return null;
        }
        // Bound: the PV exists; the cache has it unless it was saved a moment ago (then our own save is finishing
        // the claim, unless an attempt of ours lost to another replica's).
        String volumeName = claim.getSpec().getVolumeName();
        PersistentVolume pv = cachedPv(volumeName);
        finish(key, claim, pv != null || !owesCleanUp ? Optional.ofNullable(pv)
            : Optional.ofNullable(kube.persistentVolumes().withName(volumeName).get()), scope);
      }
      return null;
    }
    if (sc == null) {
      // Not our decision to make yet: the class may be created later (its add event re-queues the claim).
      log.debug("{} names us but its StorageClass is not known", key);
      return null;
    }
    if (!settings.provisionerName().equals(sc.getProvisioner())) {
      return null;
    }
    if ("WaitForFirstConsumer".equals(sc.getVolumeBindingMode()) && (claim.getMetadata().getAnnotations() == null
        || claim.getMetadata().getAnnotations().get(Annotations.SELECTED_NODE) == null)) {
      return null;
    }
    if (permanentFailures.unchanged(key.toString(), claim, sc)) {
      return null; // bad input, reported once; nothing changed since
    }
    if (scope == null) {
      provisionFailed(key, claim, sc, null, ProvisioningException.invalid(Clouds.notConfigured(cloud)));
      return null;
    }
    ClaimProvisioner provisioner = scope.provisioner;
    Optional<PersistentVolume> saved = savedPv(key, pvName, claim, provisioner);
    if (saved.isPresent()) {
      if ((ClaimIntent.holds(claim) || owesCleanUp) && clearedWhenBound(key, claim, scope)) {
        finish(key, claim, saved, scope);
      }
      return null;
    }
    Instant started = firstAttempt.computeIfAbsent(key, k -> Instant.now());
    log.debug("provisioning {}, attempt {}", key, queue.failures(key) + 1);
    try {
      ProvisionPlan plan = scope.planner.plan(claim, sc);
      if (!provisioner.waitingForCinder(claim)) {
        events.defer(claim, EventRecorder.Type.Normal, "Provisioning", "Provision",
            "External provisioner is provisioning volume for claim \"" + key.namespace() + "/" + key.name() + "\"",
            PROVISIONING_EVENT_DEFERRAL, "ProvisioningSucceeded");
      }
      Optional<ClaimProvisioner.ExportedVolume> exported = provisioner.export(claim, plan);
      if (exported.isEmpty()) {
        // Deleted or replaced since the cache saw it: its delete (or the new claim's add) brings the key back.
        log.info("{} is gone or being deleted; not provisioning it", key);
        firstAttempt.remove(key);
        queue.forget(key);
        return null;
      }
      return () -> saveClaim(key, sc, plan, exported.get(), started, provisioner);
    } catch (ProvisioningException e) {
      provisionFailed(key, claim, sc, provisioner, e);
    } catch (KubernetesClientException e) {
      provisionFailed(key, sc, e);
    }
    return null;
  }

  /** "1.2 s": how long a claim took, for its Event. */
  static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private void saveClaim(ClaimKey key, StorageClass sc, ProvisionPlan plan, ClaimProvisioner.ExportedVolume exported,
      Instant started, ClaimProvisioner provisioner) throws InterruptedException {
    PersistentVolumeClaim claim = exported.claim();
    try {
      // From here until the PV cache shows it, a sync of this claim asks the API server (the key is in flight, so
      // none runs before this point).
      savedNotCached.add(plan.pvName());
      PersistentVolume pv;
      try {
        pv = provisioner.save(exported);
      } catch (ProvisioningException | RuntimeException e) {
        savedNotCached.remove(plan.pvName()); // not saved; a retry still reads it (the claim holds our intent)
        throw e;
      }
      log.info("saved PV {} of Cinder volume {}", pv.getMetadata().getName(), Annotations.cinderVolumeId(pv));
      Duration took = Duration.between(started, Instant.now());
      events.normal(claim, "ProvisioningSucceeded", "Provision",
          "Successfully provisioned volume " + pv.getMetadata().getName() + " in " + seconds(took));
      metrics.provisioned(sc.getMetadata().getName(), took);
      failingSince.remove(key);
      try {
        provisioner.deleteDuplicates(exported, pv);
      } catch (ProvisioningException e) {
        // Provisioned: the claim keeps our intent until the duplicates are gone, and the retry finishes that.
        Duration delay = queue.addRateLimited(key, e.retryAfter().orElse(null));
        log.warn("{}; retrying in {} ms", e.getMessage(), delay.toMillis());
        return;
      }
      // The intent goes once the claim shows Bound: the binder (kube-controller-manager) writes the claim twice
      // right after the PV appears, and a write of ours beside those met a 409 and a read afresh on 10-20 % of
      // claims. Until then the claim keeps our finalizer; a deletion meanwhile finds the PV and only clears it.
      clearWhenBound.saved(claim.getMetadata().getUid());
      provisioner.finished(claim);
      firstAttempt.remove(key);
      queue.forget(key);
    } catch (ProvisioningException e) {
      provisionFailed(key, claim, sc, provisioner, e);
    } catch (KubernetesClientException e) {
      provisionFailed(key, sc, e);
    }
  }

  /**
   * A bound claim of ours asking for more ({@link VolumeExpander}) or for another VolumeAttributesClass
   * ({@link VolumeModifier}): the resize first, then the class.
   */
  private void dayTwo(ClaimKey key, PersistentVolumeClaim claim) {
    PersistentVolume pv = cachedPv(claim.getSpec().getVolumeName());
    StorageClass sc = storageClassOf(claim);
    if (pv == null || sc == null || !VolumeDeleter.isOurs(pv, settings)) {
      return; // not (yet) known here, or not a volume of ours: its update event brings the claim back
    }
    // The volume's own cloud, whatever the class says now.
    CloudScope scope = scopes.get(Clouds.ofPv(pv));
    if (scope == null) {
      events.warning(claim, "CloudNotConfigured", VolumeExpander.mayNeed(claim) ? "Resize" : "Modify",
          "cannot reach the volume of PV " + pv.getMetadata().getName() + ": " + Clouds.notConfigured(Clouds.ofPv(pv)));
      queue.addRateLimited(key, null);
      return;
    }
    boolean waiting = VolumeExpander.mayNeed(claim)
        && !step(key, claim, sc, "resize", "VolumeResizeFailed", () -> scope.expander.sync(claim, pv, sc));
    if (!waiting && VolumeModifier.mayNeed(claim)) {
      step(key, claim, sc, "modify", "VolumeModifyFailed", () -> scope.modifier.sync(claim, pv));
    }
  }

  /** A day-two step that may fail: Cinder's work waited for in the queue, a failure an Event and a retry. */
  private interface DayTwoStep {
    void run() throws ProvisioningException;
  }

  /** Runs one day-two step; true when it completed (the next step may run). */
  private boolean step(ClaimKey key, PersistentVolumeClaim claim, StorageClass sc, String what, String reason,
      DayTwoStep s) {
    String failureKey = what + " " + key;
    if (permanentFailures.unchanged(failureKey, claim, sc)) {
      return true; // refused once; nothing changed since
    }
    try {
      s.run();
      permanentFailures.forget(failureKey);
      queue.forget(key);
      return true;
    } catch (ProvisioningException e) {
      if (e.waiting()) {
        queue.addNotBefore(key, e.retryAfter().orElseThrow());
        return false;
      }
      events.warning(claim, reason, what.equals("resize") ? "Resize" : "Modify", e.getMessage());
      if (e.permanent()) {
        log.warn("{}: {} refused (not retried until it changes): {}", key, what, e.getMessage());
        permanentFailures.failed(failureKey, claim, sc);
        queue.forget(key);
      } else {
        Duration delay = queue.addRateLimited(key, e.retryAfter().orElse(null));
        log.warn("{}: {} failed, retrying in {} ms: {}", key, what, delay.toMillis(), e.getMessage());
      }
    } catch (KubernetesClientException e) {
      Duration delay = queue.addRateLimited(key, null);
      log.warn("{}: {} hit a Kubernetes API error, retrying in {} ms: {}", key, what, delay.toMillis(),
          e.getMessage());
    }
    return false;
  }

  /** @param provisioner the claim's cloud's, or null when its cloud is not configured */
  private void provisionFailed(ClaimKey key, PersistentVolumeClaim claim, StorageClass sc,
      ClaimProvisioner provisioner, ProvisioningException e) {
    if (e.waiting()) {
      // Cinder is still at work on the volume: the claim leaves the worker and comes back to its wait, and its
      // user sees that it was taken up.
      events.flush(claim);
      Duration again = queue.addNotBefore(key, e.retryAfter().orElseThrow());
      log.debug("{}: {}; looking again in {} ms", key, e.getMessage(), again.toMillis());
      return;
    }
    metrics.provisionFailed(sc.getMetadata().getName());
    failingSince.putIfAbsent(key, firstAttempt.getOrDefault(key, Instant.now()));
    events.warning(claim, "ProvisioningFailed", "Provision", "failed to provision volume with StorageClass \""
        + sc.getMetadata().getName() + "\"" + (scopes.size() > 1 ? " in cloud \"" + cloudOf(claim, sc) + "\"" : "")
        + ": " + e.getMessage());
    if (e.permanent()) {
      log.warn("{} cannot be provisioned (not retried until it or its class changes): {}", key, e.getMessage());
      permanentFailures.failed(key.toString(), claim, sc);
      if (provisioner != null) {
        provisioner.finished(claim);
      }
      firstAttempt.remove(key);
      queue.forget(key);
    } else {
      int attempt = queue.failures(key) + 1;
      Duration delay = queue.addRateLimited(key, e.retryAfter().orElse(null));
      log.warn("provisioning {} failed (attempt {}), retrying in {} ms: {}", key, attempt, delay.toMillis(),
          e.getMessage());
    }
  }

  private void provisionFailed(ClaimKey key, StorageClass sc, KubernetesClientException e) {
    metrics.provisionFailed(sc.getMetadata().getName());
    failingSince.putIfAbsent(key, firstAttempt.getOrDefault(key, Instant.now()));
    Duration delay = queue.addRateLimited(key, null);
    log.warn("provisioning {} hit a Kubernetes API error, retrying in {} ms: {}", key, delay.toMillis(),
        e.getMessage());
  }

  /**
   * When each failing claim's provisioning began, for the gauges; a claim gone from the cache, being deleted or
   * bound (by us or anyone) is no longer failing and is dropped here.
   */
  private Collection<Instant> failingClaims() {
    if (claims == null) {
      return List.of();
    }
    failingSince.keySet().removeIf(k -> {
      PersistentVolumeClaim c = cachedClaim(k.namespace() + "/" + k.name());
      return c == null || c.getMetadata().getDeletionTimestamp() != null || ClaimPlanner.isBound(c);
    });
    return List.copyOf(failingSince.values());
  }

  private void cleanUpDeletedClaim(ClaimKey key, PersistentVolumeClaim claim, String pvName, CloudScope scope,
      String cloud) {
    if (scope == null) {
      events.warning(claim, "ProvisioningCleanupFailed", "Provision", "claim was deleted while being provisioned; "
          + "its volume cannot be cleaned up: " + Clouds.notConfigured(cloud));
      queue.addRateLimited(key, null);
      return;
    }
    ClaimProvisioner provisioner = scope.provisioner;
    PersistentVolume pv = kube.persistentVolumes().withName(pvName).get();
    try {
      if (pv == null || pv.getSpec().getClaimRef() == null
          || !Objects.equals(pv.getSpec().getClaimRef().getUid(), claim.getMetadata().getUid())) {
        provisioner.cleanUpAbandoned(claim, pvName);
      }
      // With the PV saved, the PV's own Delete path removes the volume once Kubernetes releases it.
      provisioner.clearIntent(claim);
      provisioner.finished(claim);
      queue.forget(key);
    } catch (ProvisioningException e) {
      events.warning(claim, "ProvisioningCleanupFailed", "Provision",
          "claim was deleted while being provisioned; cleaning up failed: " + e.getMessage());
      queue.addRateLimited(key, e.retryAfter().orElse(null));
    }
  }

  /**
   * The claim's PV when it is saved. The cache can lag behind a PV saved a moment ago, by this process (then it is
   * in {@link #savedNotCached}), by an attempt that crashed or lost leadership before clearing its intent (then
   * the claim still carries our finalizer or annotation), or by another replica while ours failed (then this
   * process has an attempt under way): only then is the API server asked. A claim with neither
   * has never had a PV (its intent is recorded before any PV is saved), which spares a request per new claim.
   */
  private Optional<PersistentVolume> savedPv(ClaimKey key, String pvName, PersistentVolumeClaim claim,
      ClaimProvisioner provisioner) {
    if (pvName == null) {
      return Optional.empty();
    }
    PersistentVolume cached = cachedPv(pvName);
    if (cached != null) {
      return Optional.of(cached);
    }
    if (!ClaimIntent.holds(claim) && !savedNotCached.contains(pvName)
        && !provisioner.owesCleanUp(claim)) {
      return Optional.empty();
    }
    return Optional.ofNullable(kube.persistentVolumes().withName(pvName).get());
  }

  /**
   * A claim whose PV is saved: its other volumes deleted and our intent dropped ({@link ClaimProvisioner#finish}),
   * or with no PV given only the intent dropped. No Event: the claim is provisioned; a failure is logged and
   * retried (false).
   */
  private boolean finish(ClaimKey key, PersistentVolumeClaim claim, Optional<PersistentVolume> pv,
      CloudScope scope) {
    ClaimProvisioner provisioner = scope.provisioner;
    try {
      if (pv.isPresent()) {
        provisioner.finish(claim, pv.get());
      } else {
        provisioner.clearIntent(claim);
      }
      firstAttempt.remove(key);
      queue.forget(key);
      return true;
    } catch (ProvisioningException | KubernetesClientException e) {
      Duration delay = queue.addRateLimited(key, null);
      log.warn("finishing {} failed, retrying in {} ms: {}", key, delay.toMillis(), e.getMessage());
      return false;
    }
  }

  /**
   * A claim holding our intent whose PV is saved, as {@link ClearWhenBound} says: false when this pass is done with
   * it (waiting for the binder or the cache, or the intent cleared here); true when the full finish is owed.
   */
  private boolean clearedWhenBound(ClaimKey key, PersistentVolumeClaim claim, CloudScope scope) {
    switch (clearWhenBound.step(claim)) {
      case WAIT -> {
        return false;
      }
      case CLEAR -> {
        if (scope == null) {
          return true; // its cloud's scope is gone (a config reload): the full finish reports that
        }
        if (finish(key, claim, Optional.empty(), scope)) {
          clearWhenBound.cleared(claim.getMetadata().getUid());
        }
        return false;
      }
      default -> {
        return true;
      }
    }
  }

  /** Deletes a released volume, all of it in the Cinder slot (every step but the last is Cinder's). */
  void syncVolume(VolumeKey key) throws InterruptedException {
    PersistentVolume pv = cachedPv(key.name());
    if (pv == null || !VolumeDeleter.shouldDelete(pv, settings)) {
      firstAttempt.remove(key);
      return;
    }
    String storageClass = pv.getSpec().getStorageClassName() == null ? "" : pv.getSpec().getStorageClassName();
    Instant started = firstAttempt.computeIfAbsent(key, k -> Instant.now());
    try {
      // The cloud the PV records, not its class's (which may be gone or changed).
      CloudScope scope = scopes.get(Clouds.ofPv(pv));
      if (scope == null) {
        throw ProvisioningException.retryable("cannot reach the volume: " + Clouds.notConfigured(Clouds.ofPv(pv)),
            null);
      }
      scope.deleter.delete(pv);
      metrics.deleted(storageClass, Duration.between(started, Instant.now()));
      firstAttempt.remove(key);
      queue.forget(key);
    } catch (ProvisioningException e) {
      if (e.waiting()) {
        Duration again = queue.addNotBefore(key, e.retryAfter().orElseThrow());
        log.debug("{}: {}; looking again in {} ms", key, e.getMessage(), again.toMillis());
        return;
      }
      metrics.deleteFailed(storageClass);
      events.warning(pv, "VolumeFailedDelete", "Delete", e.getMessage());
      Duration delay = queue.addRateLimited(key, e.retryAfter().orElse(null));
      log.warn("deleting {} failed, retrying in {} ms: {}", key, delay.toMillis(), e.getMessage());
    } catch (KubernetesClientException e) {
      metrics.deleteFailed(storageClass);
      Duration delay = queue.addRateLimited(key, null);
      log.warn("deleting {} hit a Kubernetes API error, retrying in {} ms: {}", key, delay.toMillis(),
          e.getMessage());
    }
  }
}
