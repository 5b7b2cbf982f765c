package io.github.standalonecinder.simulator.emulation;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part of kube-controller-manager's PV controller a provisioner depends on, for API servers that have none
 * (the Fabric8 CRUD mock in tests, the demo and benchmarks): it annotates claims of external classes with
 * {@code volume.kubernetes.io/storage-provisioner}, binds a PV to the claim its claimRef names, and marks a PV
 * {@code Released} once its claim is gone. Never use it against a real cluster.
 *
 * <p>The Fabric8 mock server can drop watch events: when a watching client dies mid-send (kill -9), the server's
 * event loop blocks for 30 s and sends to other watchers time out and are lost. Tests that kill processes turn on
 * {@link #relistEvery}, which lists claims and PVs from the API server and settles what the watches missed.
 */
public final class PersistentVolumeBinder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PersistentVolumeBinder.class);
  private static final String STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";

  private final KubernetesClient kube;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pv-binder");
    t.setDaemon(true);
    return t;
  });
  private SharedIndexInformer<PersistentVolume> volumes;
  private SharedIndexInformer<PersistentVolumeClaim> claims;
  private SharedIndexInformer<StorageClass> classes;
  private Duration relist;
  /** The latest object of each key waiting for the loop: a burst of events for one object is one sync. */
  private final Map<String, Runnable> pending = new ConcurrentHashMap<>();

  public PersistentVolumeBinder(KubernetesClient kube) {
    this.kube = kube;
  }

  /** Also settles, every {@code period}, what a full list from the API server shows unsettled. */
  public PersistentVolumeBinder relistEvery(Duration period) {
    this.relist = period;
    return this;
  }

  public PersistentVolumeBinder start() {
    classes = kube.storage().v1().storageClasses().inform();
    volumes = kube.persistentVolumes().inform(handler(this::syncVolume), 2_000);
    claims = kube.persistentVolumeClaims().inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(PersistentVolumeClaim c) {
        submit("claim " + c.getMetadata().getUid(), () -> syncClaim(c));
      }

      @Override
      public void onUpdate(PersistentVolumeClaim o, PersistentVolumeClaim c) {
        submit("claim " + c.getMetadata().getUid(), () -> syncClaim(c));
      }

      @Override
      public void onDelete(PersistentVolumeClaim c, boolean unknown) {
        submit("deleted claim " + c.getMetadata().getUid(), () -> volumes.getStore().list().stream()
            .filter(pv -> pv.getSpec().getClaimRef() != null
                && Objects.equals(pv.getSpec().getClaimRef().getUid(), c.getMetadata().getUid()))
            .forEach(PersistentVolumeBinder.this::syncVolume));
      }
    }, 2_000);
    if (relist != null) {
      loop.scheduleWithFixedDelay(() -> {
        try {
          settleFromList();
        } catch (RuntimeException e) {
          // A thrown task would cancel the schedule: keep relisting.
          log.warn("binder relist failed: {}", e.toString());
        }
      }, relist.toMillis(), relist.toMillis(), TimeUnit.MILLISECONDS);
    }
    return this;
  }

  private void settleFromList() {
    Map<String, PersistentVolumeClaim> claimsByUid = kube.persistentVolumeClaims().inAnyNamespace().list()
        .getItems().stream().collect(Collectors.toMap(c -> c.getMetadata().getUid(), Function.identity()));
    for (PersistentVolumeClaim c : claimsByUid.values()) {
      guard(() -> syncClaim(c));
    }
    for (PersistentVolume pv : kube.persistentVolumes().list().getItems()) {
      var ref = pv.getSpec().getClaimRef();
      PersistentVolumeClaim claim = ref == null ? null : claimsByUid.get(ref.getUid());
      boolean settled = pv.getStatus() != null && "Bound".equals(pv.getStatus().getPhase()) && claim != null
          && claim.getStatus() != null && "Bound".equals(claim.getStatus().getPhase());
      if (!settled) {
        guard(() -> syncVolume(pv));
      }
    }
  }

  private ResourceEventHandler<PersistentVolume> handler(java.util.function.Consumer<PersistentVolume> sync) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(PersistentVolume pv) {
        submit("pv " + pv.getMetadata().getName(), () -> sync.accept(pv));
      }

      @Override
      public void onUpdate(PersistentVolume o, PersistentVolume pv) {
        submit("pv " + pv.getMetadata().getName(), () -> sync.accept(pv));
      }

      @Override
      public void onDelete(PersistentVolume pv, boolean unknown) {}
    };
  }

  private void submit(String key, Runnable sync) {
    if (pending.put(key, sync) == null) {
      loop.execute(() -> {
        Runnable latest = pending.remove(key);
        if (latest != null) {
          guard(latest);
        }
      });
    }
  }

  private void syncClaim(PersistentVolumeClaim c) {
    if (c.getMetadata().getDeletionTimestamp() != null) {
      // Mimic pvc-protection: the claim object goes once nothing but us holds it.
      return;
    }
    String className = c.getSpec().getStorageClassName();
    if (className == null || c.getSpec().getVolumeName() != null) {
      return;
    }
    StorageClass sc = classes.getStore().getByKey(className);
    if (sc == null || (c.getMetadata().getAnnotations() != null
        && c.getMetadata().getAnnotations().containsKey(STORAGE_PROVISIONER))) {
      return;
    }
    var claims = kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace());
    Updates.update(claims.withName(c.getMetadata().getName()), claims::resource,
        x -> new PersistentVolumeClaimBuilder(x).editMetadata()
            .addToAnnotations(STORAGE_PROVISIONER, sc.getProvisioner()).endMetadata().build());
  }

  private void syncVolume(PersistentVolume pv) {
    var ref = pv.getSpec().getClaimRef();
    String phase = pv.getStatus() == null ? null : pv.getStatus().getPhase();
    if (ref == null || "Released".equals(phase) || "Failed".equals(phase)
        || pv.getMetadata().getDeletionTimestamp() != null || settledInCache(pv)) {
      return;
    }
    PersistentVolumeClaim claim = kube.persistentVolumeClaims().inNamespace(ref.getNamespace())
        .withName(ref.getName()).get();
    boolean claimGone = claim == null || !Objects.equals(claim.getMetadata().getUid(), ref.getUid())
        || claim.getMetadata().getDeletionTimestamp() != null && "Bound".equals(phase);
    if (claimGone) {
      // As kube-controller-manager does: a PV whose claim no longer exists is Released, bound before or not.
      setPhase(pv, "Released");
      return;
    }
    if (claim.getSpec().getVolumeName() == null) {
      var claims = kube.persistentVolumeClaims().inNamespace(ref.getNamespace());
      Updates.update(claims.withName(ref.getName()), claims::resource,
          x -> new PersistentVolumeClaimBuilder(x).editSpec().withVolumeName(pv.getMetadata().getName())
              .endSpec().editMetadata().addToAnnotations("pv.kubernetes.io/bind-completed", "yes").endMetadata()
              .build());
    }
    PersistentVolumeClaim latest = kube.persistentVolumeClaims().inNamespace(ref.getNamespace())
        .withName(ref.getName()).get();
    if (latest != null && (latest.getStatus() == null || !"Bound".equals(latest.getStatus().getPhase()))) {
      latest.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder()
          .withPhase("Bound").withAccessModes(pv.getSpec().getAccessModes())
          .withCapacity(pv.getSpec().getCapacity()).build());
      kube.persistentVolumeClaims().inNamespace(ref.getNamespace()).resource(latest).updateStatus();
    }
    if (!"Bound".equals(phase)) {
      setPhase(pv, "Bound");
    }
  }

  /**
   * A Bound PV whose claim the cache shows bound to it: nothing to do, and no request to find that out (every
   * resync hands the binder all PVs again; at thousands of them, requests per PV would never catch up).
   */
  private boolean settledInCache(PersistentVolume pv) {
    var ref = pv.getSpec().getClaimRef();
    if (pv.getStatus() == null || !"Bound".equals(pv.getStatus().getPhase())) {
      return false;
    }
    PersistentVolumeClaim c = claims.getStore().getByKey(ref.getNamespace() + "/" + ref.getName());
    return c != null && Objects.equals(c.getMetadata().getUid(), ref.getUid())
        && c.getMetadata().getDeletionTimestamp() == null
        && Objects.equals(c.getSpec().getVolumeName(), pv.getMetadata().getName())
        && c.getStatus() != null && "Bound".equals(c.getStatus().getPhase());
  }

  private void setPhase(PersistentVolume pv, String phase) {
    PersistentVolume latest = kube.persistentVolumes().withName(pv.getMetadata().getName()).get();
    if (latest == null) {
      return;
    }
    latest = new PersistentVolumeBuilder(latest).withNewStatus().withPhase(phase).endStatus().build();
    kube.persistentVolumes().resource(latest).updateStatus();
    log.debug("PV {} is {}", pv.getMetadata().getName(), phase);
  }

  private static void guard(Runnable r) {
    try {
      r.run();
    } catch (KubernetesClientException e) {
      // A conflict or a vanished object: the next event or resync brings it back.
      log.debug("binder step skipped: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    for (SharedIndexInformer<?> i : new SharedIndexInformer<?>[] {volumes, claims, classes}) {
      if (i != null) {
        i.stop();
      }
    }
    loop.shutdownNow();
  }
}
