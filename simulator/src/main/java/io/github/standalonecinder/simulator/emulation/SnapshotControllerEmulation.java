package io.github.standalonecinder.simulator.emulation;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The common snapshot-controller of kubernetes-csi/external-snapshotter ({@code pkg/common-controller}), for API
 * servers that have none: the VolumeSnapshot side of the snapshot API, step for step as its source does it, for
 * tests of how our controller meets it. Never use it against a real cluster.
 *
 * <p>Emulated (function names are the upstream ones): {@code syncSnapshot} with {@code checkandRemovePVCFinalizer},
 * {@code checkandAddSnapshotFinalizers}, {@code syncUnreadySnapshot} (pre-provisioned binding through
 * {@code checkandBindSnapshotContent}; dynamic: {@code getDynamicallyProvisionedContentFromStore} then
 * {@code updateSnapshotStatus}, else {@code createSnapshotContent}, which adds the PVC finalizer and fails for a PV
 * without {@code spec.csi}), {@code processSnapshotWithDeletionTimestamp}; {@code syncContent} (content finalizer,
 * status hand-off, {@code setAnnVolumeSnapshotBeingDeleted}). Errors go to the snapshot's status through
 * {@code updateSnapshotErrorStatusWithEvent} (no write and no Event when the same message is already set) and the
 * key is retried with the exponential backoff of its work queue (upstream: 1 s doubling to 5 min; here
 * {@link #retryBase}). Events are kept in memory ({@link #events}), as reason and object. Not emulated: group
 * snapshots, default classes, metrics, secrets.
 */
public final class SnapshotControllerEmulation implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotControllerEmulation.class);
  static final String GROUP = "snapshot.storage.k8s.io";
  static final String CONTENT_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection";
  static final String BOUND_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection";
  static final String AS_SOURCE_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection";
  public static final String PVC_FINALIZER = "snapshot.storage.kubernetes.io/pvc-as-source-protection";
  static final String ANN_BEING_DELETED = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted";

  static final ResourceDefinitionContext SNAPSHOTS = context("VolumeSnapshot", "volumesnapshots", true);
  static final ResourceDefinitionContext CONTENTS = context("VolumeSnapshotContent", "volumesnapshotcontents", false);
  static final ResourceDefinitionContext CLASSES = context("VolumeSnapshotClass", "volumesnapshotclasses", false);

  /** An Event the emulated controller sent. */
  public record Event(String type, String reason, String kind, String namespace, String name, String message) {}

  private final KubernetesClient kube;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "snapshot-controller-emulation");
    t.setDaemon(true);
    return t;
  });
  private final List<Event> events = new CopyOnWriteArrayList<>();
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();
  private final Map<String, Integer> syncs = new ConcurrentHashMap<>();
  private final Map<String, Boolean> pending = new ConcurrentHashMap<>();
  private Duration retryBase = Duration.ofSeconds(1);
  private SharedIndexInformer<GenericKubernetesResource> snapshots;
  private SharedIndexInformer<GenericKubernetesResource> contents;
  private SharedIndexInformer<GenericKubernetesResource> classes;

  public SnapshotControllerEmulation(KubernetesClient kube) {
    this.kube = kube;
  }

  private static ResourceDefinitionContext context(String kind, String plural, boolean namespaced) {
    return new ResourceDefinitionContext.Builder().withGroup(GROUP).withVersion("v1").withKind(kind)
        .withPlural(plural).withNamespaced(namespaced).build();
  }

  /** The first retry delay of a failing key (upstream --retry-interval-start, 1 s); it doubles, up to 5 min. */
  public SnapshotControllerEmulation retryBase(Duration d) {
    this.retryBase = d;
    return this;
  }

  public SnapshotControllerEmulation start() {
    classes = kube.genericKubernetesResources(CLASSES).inform();
    contents = kube.genericKubernetesResources(CONTENTS).inform(handler("content "), 0);
    snapshots = kube.genericKubernetesResources(SNAPSHOTS).inAnyNamespace().inform(handler("snapshot "), 0);
    return this;
  }

  /** Every Event sent so far. */
  public List<Event> events() {
    return List.copyOf(events);
  }

  /** How many syncs of this key ("snapshot ns/name", "content name") ran to the end without an error. */
  public int syncs(String kind, String key) {
    return syncs.getOrDefault(kind + " " + key, 0);
  }

  /** How many syncs of this key failed in a row (0 once one succeeds). */
  public int failures(String kind, String key) {
    return failures.getOrDefault(kind + " " + key, 0);
  }

  @Override
  public void close() {
    for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] {snapshots, contents, classes}) {
      if (i != null) {
        i.stop();
      }
    }
    loop.shutdownNow();
  }

  private ResourceEventHandler<GenericKubernetesResource> handler(String kind) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource o) {
        enqueue(kind + key(o), Duration.ZERO);
      }

      @Override
      public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource o) {
        enqueue(kind + key(o), Duration.ZERO);
      }

      @Override
      public void onDelete(GenericKubernetesResource o, boolean unknown) {
        if (kind.equals("content ")) {
          String ns = str(o, "spec", "volumeSnapshotRef", "namespace");
          String name = str(o, "spec", "volumeSnapshotRef", "name");
          if (ns != null && name != null) {
            enqueue("snapshot " + ns + "/" + name, Duration.ZERO);
          }
        }
      }
    };
  }

  private static String key(GenericKubernetesResource o) {
    return o.getMetadata().getNamespace() == null ? o.getMetadata().getName()
        : o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  private void enqueue(String key, Duration delay) {
    if (pending.putIfAbsent(key, Boolean.TRUE) != null && delay.isZero()) {
      return;
    }
    loop.schedule(() -> {
      pending.remove(key);
      run(key);
    }, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** snapshotWorker / contentWorker: an error re-adds the key rate-limited (AddRateLimited), success Forgets it. */
  private void run(String key) {
    try {
      if (key.startsWith("snapshot ")) {
        GenericKubernetesResource vs = snapshots.getStore().getByKey(key.substring(9));
        if (vs == null) {
          return;
        }
        syncSnapshot(vs);
      } else {
        GenericKubernetesResource c = contents.getStore().getByKey(key.substring(8));
        if (c == null) {
          return;
        }
        syncContent(c);
      }
      failures.remove(key);
      syncs.merge(key, 1, Integer::sum);
    } catch (RuntimeException e) {
      int n = failures.merge(key, 1, Integer::sum);
      long delay = Math.min(retryBase.toMillis() << Math.min(n - 1, 20), Duration.ofMinutes(5).toMillis());
      log.debug("{}: {}; retry {} in {} ms", key, e.getMessage(), n, delay);
      loop.schedule(() -> run(key), delay, TimeUnit.MILLISECONDS);
    }
  }

  // ------------------------------------------------------------------ syncSnapshot

  private void syncSnapshot(GenericKubernetesResource vs) {
    checkandRemovePVCFinalizer(vs);
    if (vs.getMetadata().getDeletionTimestamp() != null) {
      processSnapshotWithDeletionTimestamp(vs);
      return;
    }
    boolean byClaim = str(vs, "spec", "source", "persistentVolumeClaimName") != null;
    boolean byContent = str(vs, "spec", "source", "volumeSnapshotContentName") != null;
    if (byClaim == byContent) {
      fail(vs, "SnapshotValidationError",
          "Exactly one of PersistentVolumeClaimName and VolumeSnapshotContentName should be specified");
    }
    // checkAndUpdateSnapshotClass (syncSnapshotByKey)
    String className = str(vs, "spec", "volumeSnapshotClassName");
    if (className != null && classes.getStore().getByKey(className) == null) {
      fail(vs, "GetSnapshotClassFailed", "Failed to get snapshot class with error volumesnapshotclass.snapshot"
          + ".storage.k8s.io \"" + className + "\" not found", false);
    }
    checkandAddSnapshotFinalizers(vs);
    vs = snapshots.getStore().getByKey(key(vs)) == null ? vs : snapshots.getStore().getByKey(key(vs));
    boolean ready = Boolean.TRUE.equals(at(vs, "status", "readyToUse"));
    String bound = str(vs, "status", "boundVolumeSnapshotContentName");
    if (!ready || bound == null || bound.isEmpty()) {
      syncUnreadySnapshot(vs);
      return;
    }
    GenericKubernetesResource content = contents.getStore().getByKey(bound);
    if (content == null) {
      fail(vs, "SnapshotContentMissing", "VolumeSnapshotContent is missing");
    }
    if (!refSet(vs, content)) {
      fail(vs, "SnapshotMisbound", "VolumeSnapshotContent is not bound to the VolumeSnapshot correctly");
    }
  }

  private void syncUnreadySnapshot(GenericKubernetesResource vs) {
    String contentName = str(vs, "spec", "source", "volumeSnapshotContentName");
    if (contentName != null) {
      GenericKubernetesResource content = preprovisionedContent(vs);
      if (content == null) {
        fail(vs, "SnapshotContentMissing", "VolumeSnapshotContent is missing");
      }
      content = checkandBindSnapshotContent(vs, content);
      updateSnapshotStatus(vs, content);
      return;
    }
    GenericKubernetesResource content = dynamicContent(vs);
    if (content != null) {
      updateSnapshotStatus(vs, content); // bindandUpdateVolumeSnapshot
      return;
    }
    createSnapshotContent(vs); // always fails for a PV without spec.csi: see there
  }

  /** getPreprovisionedContentFromStore. */
  private GenericKubernetesResource preprovisionedContent(GenericKubernetesResource vs) {
    String name = str(vs, "spec", "source", "volumeSnapshotContentName");
    GenericKubernetesResource c = contents.getStore().getByKey(name);
    if (c == null) {
      return null;
    }
    if (at(c, "spec", "source", "snapshotHandle") == null) {
      fail(vs, "SnapshotContentMismatch", "VolumeSnapshotContent is dynamically provisioned while expecting a "
          + "pre-provisioned one");
    }
    String refUid = str(c, "spec", "volumeSnapshotRef", "uid");
    if (!vs.getMetadata().getName().equals(str(c, "spec", "volumeSnapshotRef", "name"))
        || !vs.getMetadata().getNamespace().equals(str(c, "spec", "volumeSnapshotRef", "namespace"))
        || refUid != null && !refUid.isEmpty() && !refUid.equals(vs.getMetadata().getUid())) {
      fail(vs, "SnapshotContentMisbound", "VolumeSnapshotContent [" + name + "] is bound to a different snapshot");
    }
    return c;
  }

  /** getDynamicallyProvisionedContentFromStore: snapcontent-<uid>, with source.volumeHandle, pointing back. */
  private GenericKubernetesResource dynamicContent(GenericKubernetesResource vs) {
    String name = "snapcontent-" + vs.getMetadata().getUid();
    GenericKubernetesResource c = contents.getStore().getByKey(name);
    if (c == null) {
      return null;
    }
    if (at(c, "spec", "source", "volumeHandle") == null) {
      fail(vs, "SnapshotContentMismatch", "VolumeSnapshotContent " + name + " is pre-provisioned while expecting a "
          + "dynamically provisioned one");
    }
    if (!refSet(vs, c)) {
      fail(vs, "SnapshotContentMisbound", "VolumeSnapshotContent [" + name + "] is bound to a different snapshot");
    }
    return c;
  }

  /** createSnapshotContent: ensurePVCFinalizer, getCreateSnapshotInput, then the CSI check. */
  private void createSnapshotContent(GenericKubernetesResource vs) {
    String ns = vs.getMetadata().getNamespace();
    String claimName = str(vs, "spec", "source", "persistentVolumeClaimName");
    PersistentVolumeClaim claim = kube.persistentVolumeClaims().inNamespace(ns).withName(claimName).get();
    String error;
    if (claim == null) {
      error = "cannot get claim from snapshot";
    } else {
      if (claim.getMetadata().getFinalizers() == null || !claim.getMetadata().getFinalizers().contains(PVC_FINALIZER)) {
        if (claim.getMetadata().getDeletionTimestamp() != null) {
          fail(vs, "SnapshotContentCreationFailed", "Failed to create snapshot content with error cannot add "
              + "finalizer on claim because it is being deleted");
        }
        kube.persistentVolumeClaims().inNamespace(ns).withName(claimName).edit(c -> {
          List<String> f = new ArrayList<>(c.getMetadata().getFinalizers() == null ? List.of()
              : c.getMetadata().getFinalizers());
          f.add(PVC_FINALIZER);
          c.getMetadata().setFinalizers(f);
          return c;
        });
      }
      String className = str(vs, "spec", "volumeSnapshotClassName");
      if (className == null) {
        error = "failed to get input parameters to create snapshot " + vs.getMetadata().getName() + ": \"failed to "
            + "take snapshot " + vs.getMetadata().getName() + " without a snapshot class\"";
      } else if (!"Bound".equals(claim.getStatus() == null ? null : claim.getStatus().getPhase())) {
        error = "failed to get input parameters to create snapshot " + vs.getMetadata().getName() + ": \"the PVC "
            + claimName + " is not yet bound to a PV, will not attempt to take a snapshot\"";
      } else {
        PersistentVolume pv = kube.persistentVolumes().withName(claim.getSpec().getVolumeName()).get();
        if (pv == null) {
          error = "failed to get input parameters to create snapshot " + vs.getMetadata().getName() + ": \"failed "
              + "to retrieve PV " + claim.getSpec().getVolumeName() + " from the API server\"";
        } else if (pv.getSpec().getCsi() == null) {
          error = "cannot find CSI PersistentVolumeSource for volume " + pv.getMetadata().getName();
        } else {
          throw new IllegalStateException("the emulation does not create contents for CSI volumes");
        }
      }
    }
    fail(vs, "SnapshotContentCreationFailed", "Failed to create snapshot content with error " + error);
  }

  /** checkandBindSnapshotContent. */
  private GenericKubernetesResource checkandBindSnapshotContent(GenericKubernetesResource vs,
      GenericKubernetesResource content) {
    String refUid = str(content, "spec", "volumeSnapshotRef", "uid");
    if (refUid != null && !refUid.isEmpty() && str(content, "spec", "volumeSnapshotClassName") != null) {
      return content;
    }
    return edit(CONTENTS, null, content.getMetadata().getName(), c -> {
      Map<String, Object> spec = mutable(c, "spec");
      Map<String, Object> ref = new LinkedHashMap<>(castMap(spec.get("volumeSnapshotRef")));
      ref.put("uid", vs.getMetadata().getUid());
      spec.put("volumeSnapshotRef", ref);
      String className = str(vs, "spec", "volumeSnapshotClassName");
      if (className != null) {
        spec.put("volumeSnapshotClassName", className);
      }
      c.setAdditionalProperty("spec", spec);
      return c;
    });
  }

  /** checkandAddSnapshotFinalizers. */
  private void checkandAddSnapshotFinalizers(GenericKubernetesResource vs) {
    GenericKubernetesResource content = str(vs, "spec", "source", "volumeSnapshotContentName") != null
        ? preprovisionedContent(vs) : dynamicContent(vs);
    List<String> have = finalizers(vs);
    boolean addSource = !have.contains(AS_SOURCE_FINALIZER);
    String bound = str(vs, "status", "boundVolumeSnapshotContentName");
    boolean addBound = content != null && !have.contains(BOUND_FINALIZER) && bound != null && !bound.isEmpty()
        && "Delete".equals(str(content, "spec", "deletionPolicy"));
    if (addSource || addBound) {
      edit(SNAPSHOTS, vs.getMetadata().getNamespace(), vs.getMetadata().getName(), s -> {
        List<String> f = new ArrayList<>(finalizers(s));
        if (addSource && !f.contains(AS_SOURCE_FINALIZER)) {
          f.add(AS_SOURCE_FINALIZER);
        }
        if (addBound && !f.contains(BOUND_FINALIZER)) {
          f.add(BOUND_FINALIZER);
        }
        s.getMetadata().setFinalizers(f);
        return s;
      });
    }
  }

  /** updateSnapshotStatus: from the content's status, on a fresh GET; written only when something changed. */
  private void updateSnapshotStatus(GenericKubernetesResource vs, GenericKubernetesResource content) {
    GenericKubernetesResource fresh = kube.genericKubernetesResources(SNAPSHOTS)
        .inNamespace(vs.getMetadata().getNamespace()).withName(vs.getMetadata().getName()).get();
    if (fresh == null) {
      throw new IllegalStateException("error get snapshot " + key(vs) + " from api server");
    }
    Map<String, Object> cs = castMap(content.getAdditionalProperties().get("status"));
    Object creation = cs.get("creationTime");
    Object size = cs.get("restoreSize");
    boolean ready = Boolean.TRUE.equals(cs.get("readyToUse"));
    Object error = cs.get("error");
    Map<String, Object> old = castMap(fresh.getAdditionalProperties().get("status"));
    Map<String, Object> status = new LinkedHashMap<>(old);
    boolean updated = false;
    if (status.get("boundVolumeSnapshotContentName") == null) {
      status.put("boundVolumeSnapshotContentName", content.getMetadata().getName());
      updated = true;
    }
    if (status.get("creationTime") == null && creation instanceof Number n) {
      long ns = n.longValue();
      status.put("creationTime", Instant.ofEpochSecond(ns / 1_000_000_000L, ns % 1_000_000_000L).toString());
      updated = true;
    }
    if (status.get("readyToUse") == null || !Objects.equals(status.get("readyToUse"), ready)) {
      status.put("readyToUse", ready);
      updated = true;
      if (ready) {
        status.remove("error");
      }
    }
    if (size instanceof Number n && (status.get("restoreSize") == null
        || status.get("restoreSize").toString().matches("0+[a-zA-Z]*") && n.longValue() > 0)) {
      status.put("restoreSize", binarySI(n.longValue()));
      updated = true;
    }
    if (error != null || status.get("error") != null) {
      // Upstream compares the two errors' Time pointers, which always differ: any error on either side is copied.
      if (error == null) {
        status.remove("error");
      } else {
        status.put("error", error);
      }
      updated = true;
    }
    if (!updated) {
      return;
    }
    if (old.get("creationTime") == null && status.get("creationTime") != null) {
      event(fresh, "Normal", "SnapshotCreated", "Snapshot " + key(vs) + " was successfully created by the CSI "
          + "driver.");
    }
    if (!Boolean.TRUE.equals(old.get("readyToUse")) && ready) {
      event(fresh, "Normal", "SnapshotReady", "Snapshot " + key(vs) + " is ready to use.");
    }
    fresh.setAdditionalProperty("status", status);
    kube.genericKubernetesResources(SNAPSHOTS).inNamespace(vs.getMetadata().getNamespace()).resource(fresh)
        .updateStatus();
  }

  /** processSnapshotWithDeletionTimestamp and checkandRemoveSnapshotFinalizersAndCheckandDeleteContent. */
  private void processSnapshotWithDeletionTimestamp(GenericKubernetesResource vs) {
    String contentName = str(vs, "status", "boundVolumeSnapshotContentName");
    if ((contentName == null || contentName.isEmpty())
        && str(vs, "spec", "source", "persistentVolumeClaimName") != null) {
      contentName = "snapcontent-" + vs.getMetadata().getUid();
    }
    GenericKubernetesResource content = contentName == null ? null : contents.getStore().getByKey(contentName);
    boolean deleteContent = false;
    if (content != null && refSet(vs, content)) {
      deleteContent = "Delete".equals(str(content, "spec", "deletionPolicy"));
    } else {
      content = null;
    }
    List<String> have = finalizers(vs);
    if (!have.contains(AS_SOURCE_FINALIZER) && !have.contains(BOUND_FINALIZER)) {
      return; // IsSnapshotDeletionCandidate
    }
    if (content != null && beingRestored(vs)) {
      event(vs, "Warning", "SnapshotDeletePending", "Snapshot is being used to restore a PVC");
      throw new IllegalStateException("snapshot " + key(vs) + " is in use (being used to restore a PVC), will "
          + "retry deletion");
    }
    if (content != null) {
      setAnnVolumeSnapshotBeingDeleted(content);
    }
    if (content != null && deleteContent) {
      kube.genericKubernetesResources(CONTENTS).withName(content.getMetadata().getName()).delete();
    }
    boolean removeBound = !(content != null && deleteContent);
    edit(SNAPSHOTS, vs.getMetadata().getNamespace(), vs.getMetadata().getName(), s -> {
      List<String> f = new ArrayList<>(finalizers(s));
      f.remove(AS_SOURCE_FINALIZER);
      if (removeBound) {
        f.remove(BOUND_FINALIZER);
      }
      s.getMetadata().setFinalizers(f);
      return s;
    });
  }

  /** isVolumeBeingCreatedFromSnapshot. */
  private boolean beingRestored(GenericKubernetesResource vs) {
    return kube.persistentVolumeClaims().inNamespace(vs.getMetadata().getNamespace()).list().getItems().stream()
        .anyMatch(c -> c.getSpec().getDataSource() != null
            && vs.getMetadata().getName().equals(c.getSpec().getDataSource().getName())
            && "VolumeSnapshot".equals(c.getSpec().getDataSource().getKind())
            && GROUP.equals(c.getSpec().getDataSource().getApiGroup())
            && "Pending".equals(c.getStatus() == null ? null : c.getStatus().getPhase()));
  }

  /** checkandRemovePVCFinalizer: once no snapshot of the claim is being made (isPVCBeingUsed). */
  private void checkandRemovePVCFinalizer(GenericKubernetesResource vs) {
    String claimName = str(vs, "spec", "source", "persistentVolumeClaimName");
    if (claimName == null) {
      return;
    }
    String ns = vs.getMetadata().getNamespace();
    PersistentVolumeClaim claim = kube.persistentVolumeClaims().inNamespace(ns).withName(claimName).get();
    if (claim == null || claim.getMetadata().getFinalizers() == null
        || !claim.getMetadata().getFinalizers().contains(PVC_FINALIZER)) {
      return;
    }
    boolean inUse = snapshots.getStore().list().stream()
        .filter(s -> ns.equals(s.getMetadata().getNamespace()))
        .filter(s -> claimName.equals(str(s, "spec", "source", "persistentVolumeClaimName")))
        .anyMatch(s -> !Boolean.TRUE.equals(at(s, "status", "readyToUse")));
    if (!inUse) {
      kube.persistentVolumeClaims().inNamespace(ns).withName(claimName).edit(c -> {
        List<String> f = new ArrayList<>(c.getMetadata().getFinalizers());
        f.remove(PVC_FINALIZER);
        c.getMetadata().setFinalizers(f);
        return c;
      });
    }
  }

  // ------------------------------------------------------------------ syncContent

  private void syncContent(GenericKubernetesResource content) {
    boolean hasVolume = at(content, "spec", "source", "volumeHandle") != null;
    boolean hasSnapshot = at(content, "spec", "source", "snapshotHandle") != null;
    if (hasVolume == hasSnapshot) {
      event(content, "Warning", "ContentValidationError", "Exactly one of VolumeHandle and SnapshotHandle should "
          + "be specified");
      throw new IllegalStateException("Exactly one of VolumeHandle and SnapshotHandle should be specified");
    }
    String refUid = str(content, "spec", "volumeSnapshotRef", "uid");
    if (refUid == null || refUid.isEmpty()) {
      return; // pre-bound: syncSnapshot binds it
    }
    if (content.getMetadata().getDeletionTimestamp() == null && !finalizers(content).contains(CONTENT_FINALIZER)) {
      edit(CONTENTS, null, content.getMetadata().getName(), c -> {
        List<String> f = new ArrayList<>(finalizers(c));
        f.add(CONTENT_FINALIZER);
        c.getMetadata().setFinalizers(f);
        return c;
      });
      return;
    }
    String snapshotKey = str(content, "spec", "volumeSnapshotRef", "namespace") + "/"
        + str(content, "spec", "volumeSnapshotRef", "name");
    GenericKubernetesResource vs = snapshots.getStore().getByKey(snapshotKey);
    if (vs != null && !refUid.equals(vs.getMetadata().getUid())) {
      vs = null;
    } else if (vs != null) {
      enqueue("snapshot " + snapshotKey, Duration.ZERO); // needsUpdateSnapshotStatus, approximately: always
    }
    if (vs != null && vs.getMetadata().getDeletionTimestamp() != null
        && (finalizers(vs).contains(AS_SOURCE_FINALIZER) || finalizers(vs).contains(BOUND_FINALIZER))) {
      setAnnVolumeSnapshotBeingDeleted(content);
    }
  }

  private void setAnnVolumeSnapshotBeingDeleted(GenericKubernetesResource content) {
    if (content.getMetadata().getAnnotations() != null
        && content.getMetadata().getAnnotations().containsKey(ANN_BEING_DELETED)) {
      return;
    }
    edit(CONTENTS, null, content.getMetadata().getName(), c -> {
      Map<String, String> a = new LinkedHashMap<>(c.getMetadata().getAnnotations() == null ? Map.of()
          : c.getMetadata().getAnnotations());
      a.put(ANN_BEING_DELETED, "yes");
      c.getMetadata().setAnnotations(a);
      return c;
    });
  }

  // ------------------------------------------------------------------ helpers

  /** updateSnapshotErrorStatusWithEvent (setReadyToFalse), then the error that makes the worker retry. */
  private void fail(GenericKubernetesResource vs, String reason, String message) {
    fail(vs, reason, message, true);
  }

  private void fail(GenericKubernetesResource vs, String reason, String message, boolean setReadyToFalse) {
    Map<String, Object> status = castMap(vs.getAdditionalProperties().get("status"));
    Object oldError = status.get("error");
    if (!(oldError instanceof Map<?, ?> e && message.equals(e.get("message")))) {
      Map<String, Object> next = new LinkedHashMap<>(status);
      next.put("error", Map.of("time", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString(),
          "message", message));
      if (setReadyToFalse) {
        next.put("readyToUse", false);
      }
      GenericKubernetesResource copy = kube.getKubernetesSerialization().clone(vs);
      copy.setAdditionalProperty("status", next);
      event(vs, "Warning", reason, message);
      kube.genericKubernetesResources(SNAPSHOTS).inNamespace(vs.getMetadata().getNamespace()).resource(copy)
          .updateStatus();
    }
    throw new IllegalStateException(message);
  }

  private void event(GenericKubernetesResource o, String type, String reason, String message) {
    events.add(new Event(type, reason, o.getKind(), o.getMetadata().getNamespace(), o.getMetadata().getName(),
        message));
  }

  private GenericKubernetesResource edit(ResourceDefinitionContext ctx, String ns, String name,
      UnaryOperator<GenericKubernetesResource> change) {
    var api = ns == null ? kube.genericKubernetesResources(ctx) : kube.genericKubernetesResources(ctx).inNamespace(ns);
    try {
      return api.withName(name).edit(change);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  static String binarySI(long bytes) {
    String[] units = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
    for (int i = 0; i < units.length; i++) {
      long unit = 1L << (10 * (6 - i));
      if (bytes % unit == 0) {
        return (bytes / unit) + units[i];
      }
    }
    return Long.toString(bytes);
  }

  private static boolean refSet(GenericKubernetesResource vs, GenericKubernetesResource content) {
    return content != null && vs.getMetadata().getName().equals(str(content, "spec", "volumeSnapshotRef", "name"))
        && vs.getMetadata().getNamespace().equals(str(content, "spec", "volumeSnapshotRef", "namespace"))
        && vs.getMetadata().getUid().equals(str(content, "spec", "volumeSnapshotRef", "uid"));
  }

  private static List<String> finalizers(GenericKubernetesResource r) {
    return r.getMetadata().getFinalizers() == null ? List.of() : r.getMetadata().getFinalizers();
  }

  static Object at(GenericKubernetesResource r, String... path) {
    Object o = r.getAdditionalProperties();
    for (String p : path) {
      if (!(o instanceof Map<?, ?> m)) {
        return null;
      }
      o = m.get(p);
    }
    return o;
  }

  static String str(GenericKubernetesResource r, String... path) {
    Object o = at(r, path);
    return o == null ? null : o.toString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static Map<String, Object> mutable(GenericKubernetesResource r, String key) {
    return new LinkedHashMap<>(castMap(r.getAdditionalProperties().get(key)));
  }
}
