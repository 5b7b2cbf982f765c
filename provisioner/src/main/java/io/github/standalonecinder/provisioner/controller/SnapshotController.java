package io.github.standalonecinder.provisioner.controller;

import static io.github.standalonecinder.provisioner.controller.SnapshotApi.ANN_BEING_DELETED;
import static io.github.standalonecinder.provisioner.controller.SnapshotApi.AS_SOURCE_FINALIZER;
import static io.github.standalonecinder.provisioner.controller.SnapshotApi.BOUND_FINALIZER;
import static io.github.standalonecinder.provisioner.controller.SnapshotApi.CONTENT_FINALIZER;
import static io.github.standalonecinder.provisioner.controller.SnapshotApi.str;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.standalonecinder.provisioner.cinder.CinderBackup;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VolumeSnapshots of our volumes, with or without the standard snapshot-controller (docs/snapshots.md).
 *
 * <p>For a VolumeSnapshot whose class {@code driver} is our provisioner name it does the snapshot-controller's part
 * the way that controller does it — the content {@code snapcontent-<uid>} (with {@code source.volumeHandle}: our
 * Cinder volume id), the finalizers, the VolumeSnapshot's status computed from the content's — and the part a CSI
 * driver's sidecar would do: the Cinder snapshot, the content's status, deletion by {@code deletionPolicy}. Where
 * the snapshot-controller runs it finds the content made and the status already equal to what it would write.
 *
 * <p>The content is the recorded intent: it is saved before Cinder is asked for anything, and the Cinder snapshot's
 * name and metadata come from the VolumeSnapshot's UID, looked up before every create.
 */
public final class SnapshotController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotController.class);
  static final Duration POLL = Duration.ofSeconds(1);

  sealed interface Key permits SnapshotKey, ContentKey {}

  record SnapshotKey(String namespace, String name) implements Key {
    @Override
    public String toString() {
      return "VolumeSnapshot " + namespace + "/" + name;
    }
  }

  record ContentKey(String name) implements Key {
    @Override
    public String toString() {
      return "VolumeSnapshotContent " + name;
    }
  }

  /**
   * A ready VolumeSnapshot of ours, for a claim restoring from it.
   *
   * @param handle its content's {@code snapshotHandle}: a Cinder snapshot id, or {@code backup:<id>}
   *               ({@link SnapshotStore})
   */
  public record RestoreSource(String handle, long restoreSizeBytes, String cloud) {
    public RestoreSource(String handle, long restoreSizeBytes) {
      this(handle, restoreSizeBytes, io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT);
    }
  }

  private final KubernetesClient kube;
  private final ProvisionerSettings settings;
  private final EventRecorder events;
  /** Each cloud's snapshots by the cloud's name; null for a cloud not configured. */
  private final Function<String, CinderSnapshots> clouds;
  private final Function<String, PersistentVolumeClaim> claimLookup;
  private final Function<String, PersistentVolume> pvLookup;
  private final Supplier<List<PersistentVolumeClaim>> allClaims;
  private final WorkQueue<Key> queue;
  private final Clock clock = Clock.systemUTC();
  private SharedIndexInformer<GenericKubernetesResource> snapshots;
  private SharedIndexInformer<GenericKubernetesResource> contents;
  private SharedIndexInformer<GenericKubernetesResource> classes;
  private volatile boolean enabled;
  private Thread worker;

  SnapshotController(KubernetesClient kube, CinderSnapshots cinder, ProvisionerSettings settings,
      EventRecorder events, Function<String, PersistentVolumeClaim> claimLookup,
      Function<String, PersistentVolume> pvLookup, Supplier<List<PersistentVolumeClaim>> allClaims) {
    this(kube, cloud -> io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT.equals(cloud) ? cinder : null,
        settings, events, claimLookup, pvLookup, allClaims);
  }

  /** @param clouds each cloud's snapshots by name, null for a cloud not configured */
  SnapshotController(KubernetesClient kube, Function<String, CinderSnapshots> clouds, ProvisionerSettings settings,
      EventRecorder events, Function<String, PersistentVolumeClaim> claimLookup,
      Function<String, PersistentVolume> pvLookup, Supplier<List<PersistentVolumeClaim>> allClaims) {
    this.kube = kube;
    this.clouds = clouds;
    this.settings = settings;
    this.events = events;
    this.claimLookup = claimLookup;
    this.pvLookup = pvLookup;
    this.allClaims = allClaims;
    this.queue = new WorkQueue<>(settings.baseBackoff(), settings.maxBackoff());
  }

  /** Whether the API server serves the snapshot API: decided once, when the informers start. */
  public boolean enabled() {
    return enabled;
  }

  CompletableFuture<Void> startInformers() {
    if (!SnapshotApi.served(kube)) {
      log.info("{} is not served (the snapshot CRDs are not installed): VolumeSnapshots are off until a restart",
          SnapshotApi.API_VERSION);
      enabled = false;
      return CompletableFuture.completedFuture(null);
    }
    enabled = true;
    long resync = settings.resyncPeriod().toMillis();
    classes = kube.genericKubernetesResources(SnapshotApi.CLASSES).runnableInformer(resync);
    contents = kube.genericKubernetesResources(SnapshotApi.CONTENTS).runnableInformer(resync);
    snapshots = kube.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inAnyNamespace().runnableInformer(resync);
    snapshots.addEventHandler(handler(vs -> queue.add(new SnapshotKey(vs.getMetadata().getNamespace(),
        vs.getMetadata().getName())), true));
    contents.addEventHandler(handler(c -> {
      queue.add(new ContentKey(c.getMetadata().getName()));
      String ns = str(c, "spec", "volumeSnapshotRef", "namespace");
      String name = str(c, "spec", "volumeSnapshotRef", "name");
      if (ns != null && name != null) {
        queue.add(new SnapshotKey(ns, name));
      }
    }, true));
    classes.addEventHandler(handler(c -> snapshots.getStore().list().forEach(vs -> queue.add(
        new SnapshotKey(vs.getMetadata().getNamespace(), vs.getMetadata().getName()))), false));
    return CompletableFuture.allOf(classes.start().toCompletableFuture(), contents.start().toCompletableFuture(),
        snapshots.start().toCompletableFuture());
  }

  boolean ready() {
    return !enabled || snapshots.hasSynced() && contents.hasSynced() && classes.hasSynced()
        && snapshots.isRunning() && contents.isRunning() && classes.isRunning();
  }

  void startWorkers() {
    if (!enabled) {
      return;
    }
    worker = new Thread(this::work, "snapshot-worker");
    worker.setDaemon(true);
    worker.start();
  }

  boolean isIdle() {
    return queue.isIdle();
  }

  @Override
  public void close() {
    queue.close();
    for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] {snapshots, contents, classes}) {
      if (i != null) {
        i.stop();
      }
    }
    if (worker != null) {
      worker.interrupt();
    }
  }

  private ResourceEventHandler<GenericKubernetesResource> handler(
      java.util.function.Consumer<GenericKubernetesResource> enqueue, boolean onDelete) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource obj) {
        enqueue.accept(obj);
      }

      @Override
      public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
        enqueue.accept(newObj);
      }

      @Override
      public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
        if (onDelete) {
          enqueue.accept(obj); // a content gone lets its snapshot drop the bound finalizer
        }
      }
    };
  }

  private void work() {
    while (true) {
      Key key;
      try {
        key = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (key == null) {
        return;
      }
      try {
        if (key instanceof SnapshotKey sk) {
          syncSnapshot(sk);
        } else {
          syncContent((ContentKey) key);
        }
      } catch (KubernetesClientException e) {
        Duration delay = queue.addRateLimited(key, null);
        log.warn("{} hit a Kubernetes API error, retrying in {} ms: {}", key, delay.toMillis(), e.getMessage());
      } catch (RuntimeException e) {
        Duration delay = queue.addRateLimited(key, null);
        log.error("{} failed, retrying in {} ms", key, delay.toMillis(), e);
      } finally {
        queue.done(key);
      }
    }
  }

  // ------------------------------------------------------------------ lookups

  private GenericKubernetesResource content(String name) {
    return name == null ? null : contents.getStore().getByKey(name);
  }

  private GenericKubernetesResource snapshotClass(String name) {
    return name == null ? null : classes.getStore().getByKey(name);
  }

  private boolean oursByDriver(GenericKubernetesResource classOrContent) {
    return classOrContent != null
        && settings.provisionerName().equals(str(classOrContent, classOrContent.getKind().equals("VolumeSnapshotClass")
            ? new String[] {"driver"} : new String[] {"spec", "driver"}));
  }

  /** The content this snapshot is or would be bound to: its status, its pre-provisioned source, or the dynamic name. */
  private GenericKubernetesResource contentOf(GenericKubernetesResource vs) {
    String bound = str(vs, "status", "boundVolumeSnapshotContentName");
    String preProvisioned = str(vs, "spec", "source", "volumeSnapshotContentName");
    String name = bound != null && !bound.isEmpty() ? bound : preProvisioned != null ? preProvisioned
        : SnapshotApi.contentName(vs.getMetadata().getUid());
    return content(name);
  }

  /** utils.IsVolumeSnapshotRefSet: the content names this snapshot, UID included. */
  static boolean pointsBack(GenericKubernetesResource content, GenericKubernetesResource vs) {
    return content != null && Objects.equals(str(content, "spec", "volumeSnapshotRef", "name"), vs.getMetadata().getName())
        && Objects.equals(str(content, "spec", "volumeSnapshotRef", "namespace"), vs.getMetadata().getNamespace())
        && Objects.equals(str(content, "spec", "volumeSnapshotRef", "uid"), vs.getMetadata().getUid());
  }

  /**
   * The Cinder snapshot behind a ready VolumeSnapshot of ours, for a claim's {@code dataSource}: empty while it is
   * not ready (retry), an invalid-input failure when it cannot become one of ours.
   */
  public RestoreSource restoreSource(String namespace, String name) throws ProvisioningException {
    if (!enabled) {
      throw ProvisioningException.invalid("dataSource VolumeSnapshot \"" + name + "\": snapshots are off: the API "
          + "server does not serve " + SnapshotApi.API_VERSION + " (install the snapshot CRDs, then restart the "
          + "provisioner)");
    }
    GenericKubernetesResource vs = snapshots.getStore().getByKey(namespace + "/" + name);
    if (vs == null) {
      throw ProvisioningException.retryable("dataSource VolumeSnapshot " + namespace + "/" + name
          + " does not exist (yet)", null);
    }
    GenericKubernetesResource content = contentOf(vs);
    if (content != null && !oursByDriver(content)) {
      throw ProvisioningException.invalid("dataSource VolumeSnapshot " + namespace + "/" + name + " is of driver \""
          + str(content, "spec", "driver") + "\", not of " + settings.provisionerName());
    }
    if (!SnapshotStatus.ready(SnapshotApi.map(vs, "status")) || content == null || !pointsBack(content, vs)
        || str(content, "status", "snapshotHandle") == null) {
      // Not a failure: the claim waits for it without an Event, as for a volume Cinder is still making.
      throw ProvisioningException.waiting("dataSource VolumeSnapshot " + namespace + "/" + name
          + " is not ready to use yet", POLL.multipliedBy(2));
    }
    Object size = SnapshotApi.at(content, "status", "restoreSize");
    return new RestoreSource(str(content, "status", "snapshotHandle"), size instanceof Number n ? n.longValue() : 0,
        Annotations.cloudOf(content, Annotations.CLOUD));
  }

  // ------------------------------------------------------------------ VolumeSnapshot

  void syncSnapshot(SnapshotKey key) {
    GenericKubernetesResource vs = snapshots.getStore().getByKey(key.namespace() + "/" + key.name());
    if (vs == null) {
      queue.forget(key);
      return;
    }
    boolean dynamic = str(vs, "spec", "source", "persistentVolumeClaimName") != null;
    GenericKubernetesResource content = contentOf(vs);
    GenericKubernetesResource snapshotClass = snapshotClass(str(vs, "spec", "volumeSnapshotClassName"));
    if (!oursByDriver(content) && !(dynamic && oursByDriver(snapshotClass))) {
      return; // another driver's, or a pre-provisioned one whose content is not there (yet)
    }
    if (SnapshotApi.deleting(vs)) {
      deleteSnapshot(key, vs, content);
      return;
    }
    try {
      if (content == null) {
        content = createContent(vs, snapshotClass);
      } else if (dynamic && (!pointsBack(content, vs) || SnapshotApi.at(content, "spec", "source", "volumeHandle") == null)) {
        throw ProvisioningException.invalid("VolumeSnapshotContent " + content.getMetadata().getName()
            + " is bound to a different snapshot");
      } else if (!dynamic) {
        content = bindPreProvisioned(vs, content);
      }
      vs = addSnapshotFinalizers(vs, content);
      updateSnapshotStatus(vs, content);
      queue.forget(key);
    } catch (ProvisioningException e) {
      snapshotFailed(key, vs, e);
    }
  }

  /** syncUnreadySnapshot's createSnapshotContent, for a PV of ours (where upstream needs a CSI PV). */
  private GenericKubernetesResource createContent(GenericKubernetesResource vs, GenericKubernetesResource cls)
      throws ProvisioningException {
    String ns = vs.getMetadata().getNamespace();
    String claimName = str(vs, "spec", "source", "persistentVolumeClaimName");
    PersistentVolumeClaim claim = claimLookup.apply(ns + "/" + claimName);
    if (claim == null || !ClaimPlanner.isBound(claim)) {
      throw ProvisioningException.retryable("source claim " + ns + "/" + claimName + " does not exist or is not "
          + "bound yet", null);
    }
    PersistentVolume pv = pvLookup.apply(claim.getSpec().getVolumeName());
    String volumeId = pv == null ? null : Annotations.cinderVolumeId(pv);
    if (pv == null) {
      throw ProvisioningException.retryable("the PV of source claim " + ns + "/" + claimName + " is not known yet",
          null);
    }
    if (volumeId == null) {
      throw ProvisioningException.invalid("source claim " + ns + "/" + claimName + " is not backed by a Cinder "
          + "volume of " + settings.provisionerName());
    }
    String policy = str(cls, "deletionPolicy");
    if (!"Delete".equals(policy) && !"Retain".equals(policy)) {
      throw ProvisioningException.invalid("VolumeSnapshotClass " + cls.getMetadata().getName()
          + " has deletionPolicy \"" + policy + "\"; use Delete or Retain");
    }
    SnapshotStore store = SnapshotStore.ofClassParameters(cls.getMetadata().getName(), SnapshotApi.map(cls,
        "parameters"));
    Map<String, Object> ref = new LinkedHashMap<>();
    ref.put("apiVersion", SnapshotApi.API_VERSION);
    ref.put("kind", SnapshotApi.KIND_SNAPSHOT);
    ref.put("name", vs.getMetadata().getName());
    ref.put("namespace", ns);
    ref.put("uid", vs.getMetadata().getUid());
    ref.put("resourceVersion", vs.getMetadata().getResourceVersion());
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("volumeSnapshotRef", ref);
    spec.put("source", Map.of("volumeHandle", volumeId));
    spec.put("volumeSnapshotClassName", cls.getMetadata().getName());
    spec.put("deletionPolicy", policy);
    spec.put("driver", settings.provisionerName());
    if (pv.getSpec().getVolumeMode() != null) {
      spec.put("sourceVolumeMode", pv.getSpec().getVolumeMode());
    }
    GenericKubernetesResource content = new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotContent")
        .withNewMetadata().withName(SnapshotApi.contentName(vs.getMetadata().getUid()))
        .withFinalizers(CONTENT_FINALIZER).addToAnnotations(SnapshotStore.ANNOTATION, store.annotationValue())
        .endMetadata()
        .editMetadata().addToAnnotations(cloudAnnotation(pv)).endMetadata()
        .addToAdditionalProperties("spec", spec).build();
    try {
      content = contentsApi().resource(content).create();
      log.info("created VolumeSnapshotContent {} for VolumeSnapshot {} of Cinder volume {}",
          content.getMetadata().getName(), SnapshotApi.key(vs), volumeId);
      events.normal(vs, "CreatingSnapshot", "Snapshot", "Creating a Cinder "
          + (store == SnapshotStore.BACKUP ? "backup" : "snapshot") + " of volume " + volumeId
          + " for VolumeSnapshot " + SnapshotApi.key(vs));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      content = contentsApi().withName(content.getMetadata().getName()).get(); // made by us before a restart
    }
    return content;
  }

  /** checkandBindSnapshotContent: a pre-provisioned content gets the snapshot's UID (and class). */
  private GenericKubernetesResource bindPreProvisioned(GenericKubernetesResource vs,
      GenericKubernetesResource content) throws ProvisioningException {
    String refName = str(content, "spec", "volumeSnapshotRef", "name");
    String refNs = str(content, "spec", "volumeSnapshotRef", "namespace");
    String refUid = str(content, "spec", "volumeSnapshotRef", "uid");
    if (SnapshotApi.at(content, "spec", "source", "snapshotHandle") == null) {
      throw ProvisioningException.invalid("VolumeSnapshotContent " + content.getMetadata().getName()
          + " is dynamically provisioned while expecting a pre-provisioned one");
    }
    if (!vs.getMetadata().getName().equals(refName) || !vs.getMetadata().getNamespace().equals(refNs)
        || refUid != null && !refUid.isEmpty() && !refUid.equals(vs.getMetadata().getUid())) {
      throw ProvisioningException.invalid("VolumeSnapshotContent " + content.getMetadata().getName()
          + " is bound to a different snapshot");
    }
    String className = str(vs, "spec", "volumeSnapshotClassName");
    if (refUid != null && !refUid.isEmpty() && (className == null
        || str(content, "spec", "volumeSnapshotClassName") != null)) {
      return content;
    }
    GenericKubernetesResource updated = update(contentsApi().withName(content.getMetadata().getName()),
        r -> contentsApi().resource(r), c -> {
          Map<String, Object> spec = SnapshotApi.mutable(c, "spec");
          Map<String, Object> ref = new LinkedHashMap<>(castMap(spec.get("volumeSnapshotRef")));
          ref.put("uid", vs.getMetadata().getUid());
          spec.put("volumeSnapshotRef", ref);
          if (className != null) {
            spec.put("volumeSnapshotClassName", className);
          }
          c.setAdditionalProperty("spec", spec);
          return c;
        }, content);
    return updated == null ? content : updated;
  }

  /** checkandAddSnapshotFinalizers: as-source always, bound once bound to a content with deletionPolicy Delete. */
  private GenericKubernetesResource addSnapshotFinalizers(GenericKubernetesResource vs,
      GenericKubernetesResource content) {
    boolean bound = str(vs, "status", "boundVolumeSnapshotContentName") != null;
    List<String> have = SnapshotApi.finalizers(vs);
    boolean addSource = !have.contains(AS_SOURCE_FINALIZER);
    boolean addBound = bound && !have.contains(BOUND_FINALIZER) && content != null
        && "Delete".equals(str(content, "spec", "deletionPolicy"));
    if (!addSource && !addBound) {
      return vs;
    }
    GenericKubernetesResource updated = update(snapshotsApi(vs).withName(vs.getMetadata().getName()),
        r -> snapshotsApi(vs).resource(r), s -> {
          List<String> f = new ArrayList<>(SnapshotApi.finalizers(s));
          boolean changed = false;
          if (!f.contains(AS_SOURCE_FINALIZER)) {
            f.add(AS_SOURCE_FINALIZER);
            changed = true;
          }
          if (addBound && !f.contains(BOUND_FINALIZER)) {
            f.add(BOUND_FINALIZER);
            changed = true;
          }
          if (!changed) {
            return null;
          }
          s.getMetadata().setFinalizers(f);
          return s;
        }, vs);
    return updated == null ? vs : updated;
  }

  /** updateSnapshotStatus, with its Events SnapshotCreated and SnapshotReady. */
  private void updateSnapshotStatus(GenericKubernetesResource vs, GenericKubernetesResource content) {
    Map<String, Object> current = SnapshotApi.map(vs, "status");
    Map<String, Object> status = SnapshotStatus.snapshotFromContent(current, content.getMetadata().getName(),
        SnapshotApi.map(content, "status"));
    if (status == null) {
      return;
    }
    GenericKubernetesResource copy = copy(vs);
    copy.setAdditionalProperty("status", status);
    snapshotsApi(vs).resource(copy).updateStatus();
    if ((current == null || current.get("creationTime") == null) && status.get("creationTime") != null) {
      String handle = str(content, "status", "snapshotHandle");
      events.normal(vs, "SnapshotCreated", "Snapshot", "Snapshot " + SnapshotApi.key(vs) + " was successfully "
          + "created as Cinder " + (SnapshotStore.isBackup(handle) ? "backup " + SnapshotStore.backupId(handle)
              : "snapshot " + handle) + ".");
    }
    if (!SnapshotStatus.ready(current) && SnapshotStatus.ready(status)) {
      events.normal(vs, "SnapshotReady", "Snapshot", "Snapshot " + SnapshotApi.key(vs) + " is ready to use.");
    }
  }

  private void snapshotFailed(SnapshotKey key, GenericKubernetesResource vs, ProvisioningException e) {
    Map<String, Object> status = SnapshotStatus.withError(SnapshotApi.map(vs, "status"), e.getMessage(),
        clock.instant());
    if (status != null) {
      GenericKubernetesResource copy = copy(vs);
      copy.setAdditionalProperty("status", status);
      snapshotsApi(vs).resource(copy).updateStatus();
      events.warning(vs, "SnapshotFailed", "Snapshot", e.getMessage());
    }
    retry(key, e);
  }

  private void retry(Key key, ProvisioningException e) {
    if (e.permanent()) {
      log.warn("{}: {} (not retried until it changes)", key, e.getMessage());
      queue.forget(key);
    } else {
      Duration delay = queue.addRateLimited(key, e.retryAfter().orElse(null));
      log.warn("{}: {}; retrying in {} ms", key, e.getMessage(), delay.toMillis());
    }
  }

  /** processSnapshotWithDeletionTimestamp and checkandRemoveSnapshotFinalizersAndCheckandDeleteContent. */
  private void deleteSnapshot(SnapshotKey key, GenericKubernetesResource vs, GenericKubernetesResource content) {
    List<String> have = SnapshotApi.finalizers(vs);
    if (!have.contains(AS_SOURCE_FINALIZER) && !have.contains(BOUND_FINALIZER)) {
      return;
    }
    if (!pointsBack(content, vs)) {
      content = null;
    }
    if (content != null && beingRestored(vs)) {
      events.warning(vs, "SnapshotDeletePending", "Snapshot", "Snapshot is being used to restore a PVC");
      queue.addRateLimited(key, null);
      return;
    }
    boolean deleteContent = content != null && "Delete".equals(str(content, "spec", "deletionPolicy"));
    if (content != null && SnapshotApi.annotation(content, ANN_BEING_DELETED) == null) {
      update(contentsApi().withName(content.getMetadata().getName()), r -> contentsApi().resource(r), c -> {
        if (SnapshotApi.annotation(c, ANN_BEING_DELETED) != null) {
          return null;
        }
        Map<String, String> a = new LinkedHashMap<>(c.getMetadata().getAnnotations() == null ? Map.of()
            : c.getMetadata().getAnnotations());
        a.put(ANN_BEING_DELETED, "yes");
        c.getMetadata().setAnnotations(a);
        return c;
      }, content);
    }
    if (deleteContent) {
      contentsApi().withName(content.getMetadata().getName()).delete();
    }
    boolean keepBound = deleteContent;
    update(snapshotsApi(vs).withName(vs.getMetadata().getName()), r -> snapshotsApi(vs).resource(r), s -> {
      List<String> f = new ArrayList<>(SnapshotApi.finalizers(s));
      boolean changed = f.remove(AS_SOURCE_FINALIZER);
      if (!keepBound) {
        changed |= f.remove(BOUND_FINALIZER);
      }
      if (!changed) {
        return null;
      }
      s.getMetadata().setFinalizers(f);
      return s;
    }, vs);
    queue.forget(key);
  }

  /** isVolumeBeingCreatedFromSnapshot: a Pending claim names the snapshot as its dataSource. */
  private boolean beingRestored(GenericKubernetesResource vs) {
    for (PersistentVolumeClaim c : allClaims.get()) {
      var ds = c.getSpec().getDataSource();
      if (c.getMetadata().getNamespace().equals(vs.getMetadata().getNamespace()) && ds != null
          && vs.getMetadata().getName().equals(ds.getName()) && SnapshotApi.KIND_SNAPSHOT.equals(ds.getKind())
          && SnapshotApi.GROUP.equals(ds.getApiGroup())
          && (c.getStatus() == null || "Pending".equals(c.getStatus().getPhase())
              || c.getStatus().getPhase() == null)) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ VolumeSnapshotContent

  void syncContent(ContentKey key) {
    GenericKubernetesResource content = content(key.name());
    if (content == null || !oursByDriver(content)) {
      queue.forget(key);
      return;
    }
    try {
      CinderSnapshots cinder = cinder(content);
      if (SnapshotApi.deleting(content)) {
        deleteContent(key, content, cinder);
        return;
      }
      String refUid = str(content, "spec", "volumeSnapshotRef", "uid");
      if (refUid != null && !refUid.isEmpty() && !SnapshotApi.finalizers(content).contains(CONTENT_FINALIZER)) {
        content = update(contentsApi().withName(key.name()), r -> contentsApi().resource(r), c -> {
          if (SnapshotApi.finalizers(c).contains(CONTENT_FINALIZER)) {
            return null;
          }
          List<String> f = new ArrayList<>(SnapshotApi.finalizers(c));
          f.add(CONTENT_FINALIZER);
          c.getMetadata().setFinalizers(f);
          return c;
        }, content);
        if (content == null) {
          return;
        }
      }
      Map<String, Object> status = SnapshotApi.map(content, "status");
      if (SnapshotStatus.ready(status)) {
        queue.forget(key);
        return;
      }
      String volumeHandle = str(content, "spec", "source", "volumeHandle");
      String handle = status == null ? null : (String) status.get("snapshotHandle");
      if (handle == null) {
        handle = str(content, "spec", "source", "snapshotHandle");
      }
      if (SnapshotStore.ofContent(SnapshotApi.annotation(content, SnapshotStore.ANNOTATION), handle)
          == SnapshotStore.BACKUP) {
        syncBackup(cinder, key, content, status, volumeHandle, handle, refUid);
        return;
      }
      CinderSnapshot snap;
      if (volumeHandle != null && handle == null) {
        if (refUid == null || refUid.isEmpty()) {
          return; // a dynamic content names its snapshot's UID from the start
        }
        snap = cinder.findOrCreate(volumeHandle, str(content, "spec", "volumeSnapshotRef", "namespace"),
            str(content, "spec", "volumeSnapshotRef", "name"), refUid, key.name());
      } else {
        String id = handle;
        Optional<CinderSnapshot> found = cinder.get(id);
        if (found.isEmpty() && volumeHandle != null) {
          // A dynamic content not ready yet whose snapshot is gone (one that went to error and was deleted, the
          // handle written back by a write from a stale copy): forget the handle, and the next attempt makes one.
          GenericKubernetesResource fresh = contentsApi().withName(key.name()).get();
          if (fresh != null) {
            writeContentStatus(fresh, without(SnapshotApi.map(fresh, "status"), "snapshotHandle"));
          }
          throw ProvisioningException.retryable("Cinder snapshot " + id + " is gone; making a new one", null);
        }
        snap = found.orElseThrow(() -> ProvisioningException.retryable("Cinder snapshot " + id
            + " does not exist", null));
      }
      if ("error".equals(snap.status())) {
        if (volumeHandle != null) {
          cinder.delete(snap.id()); // the next attempt makes a new one
          writeContentStatus(content, without(status, "snapshotHandle"));
          content = content(key.name()) == null ? content : content(key.name());
        }
        throw ProvisioningException.retryable("Cinder snapshot " + snap.id() + " went to error", null);
      }
      writeContentStatus(content, SnapshotStatus.ofCinder(status, snap));
      if ("available".equals(snap.status())) {
        queue.forget(key);
      } else {
        queue.addNotBefore(key, POLL);
      }
    } catch (ProvisioningException e) {
      contentFailed(key, content, e);
    }
  }

  /**
   * A content whose store is a Cinder backup (class {@code type: backup}), as cinder-csi makes one: a Cinder snapshot
   * of the volume (named and found as for {@code type: snapshot}), a backup of that snapshot, and once the backup is
   * {@code available} the snapshot deleted; only then is the content ready. Every step is found again after a
   * restart: the backup by its name and metadata, the snapshot by its.
   */
  private void syncBackup(CinderSnapshots cinder, ContentKey key, GenericKubernetesResource content,
      Map<String, Object> status, String volumeHandle, String handle, String refUid) throws ProvisioningException {
    CinderBackups backups = new CinderBackups(cinder);
    boolean dynamic = volumeHandle != null;
    CinderBackup backup;
    if (handle != null) {
      String id = SnapshotStore.backupId(handle);
      Optional<CinderBackup> found = id == null ? Optional.empty() : backups.get(id);
      if (found.isEmpty() && dynamic) {
        dropHandle(key);
        throw ProvisioningException.retryable("Cinder backup " + id + " is gone; making a new one", null);
      }
      backup = found.orElseThrow(() -> ProvisioningException.retryable("Cinder backup " + (id == null ? handle : id)
          + " does not exist", null));
    } else {
      if (!dynamic || refUid == null || refUid.isEmpty()) {
        return; // a dynamic content names its snapshot's UID from the start
      }
      List<CinderBackup> found = backups.find(refUid);
      if (found.isEmpty()) {
        backups.requireService();
        CinderSnapshot snap = cinder.findOrCreate(volumeHandle, str(content, "spec", "volumeSnapshotRef",
            "namespace"), str(content, "spec", "volumeSnapshotRef", "name"), refUid, key.name());
        if ("error".equals(snap.status())) {
          cinder.delete(snap.id()); // the next attempt makes a new one
          throw ProvisioningException.retryable("Cinder snapshot " + snap.id() + " (for a backup) went to error",
              null);
        }
        if (!"available".equals(snap.status())) {
          queue.addNotBefore(key, POLL);
          return;
        }
        backup = backups.create(volumeHandle, snap.id(), str(content, "spec", "volumeSnapshotRef", "namespace"),
            str(content, "spec", "volumeSnapshotRef", "name"), refUid, key.name());
      } else {
        backup = found.get(0);
      }
    }
    if ("error".equals(backup.status())) {
      if (dynamic) {
        backups.delete(backup.id()); // the next attempt makes a new one (a Cinder without cinder-backup refuses)
        dropHandle(key);
      }
      throw CinderBackups.wentToError(backup);
    }
    boolean available = "available".equals(backup.status());
    boolean intermediateGone = !available || !dynamic || deleteSnapshotsOf(cinder, refUid);
    writeContentStatus(content, SnapshotStatus.ofBackup(status, backup, available && intermediateGone));
    if (available && intermediateGone) {
      queue.forget(key);
    } else {
      queue.addNotBefore(key, POLL);
    }
  }

  /**
   * Deletes our Cinder snapshots of this VolumeSnapshot (the intermediate ones of a backup); false while one cannot
   * be deleted yet (still {@code creating}, or {@code backing-up}: Cinder refuses to delete it then).
   */
  private static boolean deleteSnapshotsOf(CinderSnapshots cinder, String snapshotUid) throws ProvisioningException {
    boolean gone = true;
    for (CinderSnapshot s : cinder.find(snapshotUid)) {
      if ("creating".equals(s.status()) || "backing-up".equals(s.status())) {
        gone = false;
      } else if (!"deleting".equals(s.status())) {
        cinder.delete(s.id());
      }
    }
    return gone;
  }

  /** Forgets a dynamic content's handle (from the API server's copy), so the next attempt makes a new one. */
  private void dropHandle(ContentKey key) {
    GenericKubernetesResource fresh = contentsApi().withName(key.name()).get();
    if (fresh != null) {
      writeContentStatus(fresh, without(SnapshotApi.map(fresh, "status"), "snapshotHandle"));
    }
  }

  private static Map<String, Object> without(Map<String, Object> status, String field) {
    Map<String, Object> m = status == null ? new LinkedHashMap<>() : new LinkedHashMap<>(status);
    m.remove(field);
    return m;
  }

  private void writeContentStatus(GenericKubernetesResource content, Map<String, Object> status) {
    if (status.equals(SnapshotApi.map(content, "status"))) {
      return;
    }
    GenericKubernetesResource copy = copy(content);
    copy.setAdditionalProperty("status", status);
    contentsApi().resource(copy).updateStatus();
  }

  private void contentFailed(ContentKey key, GenericKubernetesResource content, ProvisioningException e) {
    // From the API server, not the cache: this attempt may have just written the status (a handle dropped), and a
    // write from a stale copy would bring back what it removed.
    GenericKubernetesResource fresh = contentsApi().withName(key.name()).get();
    GenericKubernetesResource latest = fresh == null ? content : fresh;
    Map<String, Object> status = SnapshotStatus.withError(SnapshotApi.map(latest, "status"), e.getMessage(),
        clock.instant());
    if (status != null) {
      writeContentStatus(latest, status);
      events.warning(latest, "SnapshotContentFailed", "Snapshot", e.getMessage());
    }
    retry(key, e);
  }

  /**
   * The sidecar's part of a deletion (its syncContent and shouldDelete): once the snapshot side marked the content
   * (annotation volumesnapshot-being-deleted), or for an unbound pre-provisioned content, the Cinder snapshot goes
   * with deletionPolicy Delete, then the finalizer.
   */
  private void deleteContent(ContentKey key, GenericKubernetesResource content, CinderSnapshots cinder)
      throws ProvisioningException {
    String refUid = str(content, "spec", "volumeSnapshotRef", "uid");
    boolean unboundPreProvisioned = SnapshotApi.at(content, "spec", "source", "snapshotHandle") != null
        && (refUid == null || refUid.isEmpty());
    if (!unboundPreProvisioned && SnapshotApi.annotation(content, ANN_BEING_DELETED) == null) {
      return; // the snapshot side has not let go of it
    }
    String statusHandle = str(content, "status", "snapshotHandle");
    String sourceHandle = str(content, "spec", "source", "snapshotHandle");
    boolean dynamic = str(content, "spec", "source", "volumeHandle") != null && refUid != null && !refUid.isEmpty();
    boolean delete = "Delete".equals(str(content, "spec", "deletionPolicy"));
    if (SnapshotStore.ofContent(SnapshotApi.annotation(content, SnapshotStore.ANNOTATION),
        statusHandle != null ? statusHandle : sourceHandle) == SnapshotStore.BACKUP) {
      if (delete && !deleteBackups(new CinderBackups(cinder), key, statusHandle, sourceHandle,
          dynamic ? refUid : null)) {
        return;
      }
      // The intermediate snapshot is never the store: it goes whatever the policy.
      if (dynamic && !deleteSnapshotsOf(cinder, refUid)) {
        queue.addNotBefore(key, POLL);
        return;
      }
    } else if (delete) {
      List<String> ids = new ArrayList<>();
      Optional.ofNullable(statusHandle).ifPresent(ids::add);
      Optional.ofNullable(sourceHandle).ifPresent(ids::add);
      if (dynamic) {
        // Made before a crash that lost its id: found by name and metadata.
        cinder.find(refUid).forEach(s -> ids.add(s.id()));
      }
      for (String id : ids.stream().distinct().toList()) {
        Optional<CinderSnapshot> s = cinder.get(id);
        if (s.isPresent() && "creating".equals(s.get().status())) {
          queue.addNotBefore(key, POLL); // Cinder refuses to delete it until it is made
          return;
        }
        if (s.isPresent() && !"deleting".equals(s.get().status())) {
          cinder.delete(id);
        }
      }
    }
    update(contentsApi().withName(key.name()), r -> contentsApi().resource(r), c -> {
      List<String> f = new ArrayList<>(SnapshotApi.finalizers(c));
      if (!f.remove(CONTENT_FINALIZER)) {
        return null;
      }
      c.getMetadata().setFinalizers(f);
      return c;
    }, content);
    queue.forget(key);
  }

  /**
   * Deletes the content's Cinder backups: its handle's, and for a dynamic content those found by name and metadata
   * (one made just before a crash). False while one is still being made or restored (Cinder refuses to delete it).
   */
  private boolean deleteBackups(CinderBackups backups, ContentKey key, String statusHandle, String sourceHandle,
      String snapshotUid) throws ProvisioningException {
    List<String> ids = new ArrayList<>();
    Optional.ofNullable(SnapshotStore.backupId(statusHandle)).ifPresent(ids::add);
    Optional.ofNullable(SnapshotStore.backupId(sourceHandle)).ifPresent(ids::add);
    if (snapshotUid != null) {
      backups.find(snapshotUid).forEach(b -> ids.add(b.id()));
    }
    for (String id : ids.stream().distinct().toList()) {
      Optional<CinderBackup> b = backups.get(id);
      if (b.isPresent() && ("creating".equals(b.get().status()) || "restoring".equals(b.get().status()))) {
        queue.addNotBefore(key, POLL);
        return false;
      }
      if (b.isPresent() && !"deleting".equals(b.get().status())) {
        backups.delete(id);
      }
    }
    return true;
  }

  /** The snapshots of the content's cloud ({@link Annotations#CLOUD}, the default cloud when absent). */
  private CinderSnapshots cinder(GenericKubernetesResource content) throws ProvisioningException {
    String cloud = Annotations.cloudOf(content, Annotations.CLOUD);
    CinderSnapshots cinder = clouds.apply(cloud);
    if (cinder == null) {
      throw ProvisioningException.retryable(Clouds.notConfigured(cloud), null);
    }
    return cinder;
  }

  /** The content of a snapshot of {@code pv} records the PV's cloud, when it is a named one. */
  private static Map<String, String> cloudAnnotation(PersistentVolume pv) {
    String cloud = Annotations.cloudOf(pv, Annotations.CLOUD);
    return io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT.equals(cloud) ? Map.of()
        : Map.of(Annotations.CLOUD, cloud);
  }

  // ------------------------------------------------------------------ API access

  private NonNamespaceOperation<GenericKubernetesResource, ?, Resource<GenericKubernetesResource>> contentsApi() {
    return kube.genericKubernetesResources(SnapshotApi.CONTENTS);
  }

  private NonNamespaceOperation<GenericKubernetesResource, ?, Resource<GenericKubernetesResource>> snapshotsApi(
      GenericKubernetesResource vs) {
    return kube.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(vs.getMetadata().getNamespace());
  }

  /** A deep copy: the informer's objects are never changed in place. */
  private GenericKubernetesResource copy(GenericKubernetesResource r) {
    return kube.getKubernetesSerialization().clone(r);
  }

  private GenericKubernetesResource update(Resource<GenericKubernetesResource> resource,
      Function<GenericKubernetesResource, Resource<GenericKubernetesResource>> bind,
      UnaryOperator<GenericKubernetesResource> change, GenericKubernetesResource known) {
    return io.github.standalonecinder.provisioner.kube.Updates.update(resource, bind,
        r -> change.apply(copy(r)), known);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }
}
