package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the PVs a Cinder replication failover or failback left on the wrong site ({@link RemapPlan}) and rebuilds
 * them ({@link PvRemapper}): once for the {@code remap} command (or only lists them, {@code --dry-run}), or every
 * interval behind {@code run --remap-after-failover}. What it reads: our PVs, their claims, the pods using the
 * claims, and each PV's volume from Cinder.
 */
public final class FailoverRemapper {
  private static final Logger log = LoggerFactory.getLogger(FailoverRemapper.class);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  /** The cloud whose PVs this remapper looks at ({@link Clouds#ofPv}). */
  private final String cloud;
  private final ProvisionerSettings settings;
  private final EventRecorder events;
  private final PvRemapper remapper;

  /** What one pass found and did. */
  public record Result(List<RemapPlan.Decision> decisions, int remapped, int unchanged, int waiting,
      List<String> failures) {}

  /** For the PVs of the default cloud (every PV when there is one cloud), through {@code cinder}. */
  public FailoverRemapper(KubernetesClient kube, CinderGateway cinder, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, EventRecorder events) {
    this(kube, cinder, mappers, settings, events, step -> { }, d -> TimeUnit.MILLISECONDS.sleep(d.toMillis()));
  }

  /** One remapper per cloud, each for that cloud's PVs, through its gateway and with its connector. */
  public static List<FailoverRemapper> forClouds(KubernetesClient kube, Clouds clouds, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, EventRecorder events) {
    return clouds.all().stream().map(c -> new FailoverRemapper(kube, c.gateway(), c.name(), mappers,
        settings.withConnector(c.connector()), events, step -> { }, d -> TimeUnit.MILLISECONDS.sleep(d.toMillis())))
        .toList();
  }

  FailoverRemapper(KubernetesClient kube, CinderGateway cinder, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, EventRecorder events, PvRemapper.StepHook hook, ClaimProvisioner.Sleeper sleeper) {
    this(kube, cinder, io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT, mappers, settings, events,
        hook, sleeper);
  }

  private FailoverRemapper(KubernetesClient kube, CinderGateway cinder, String cloud, VolumeMapperRegistry mappers,
      ProvisionerSettings settings, EventRecorder events, PvRemapper.StepHook hook, ClaimProvisioner.Sleeper sleeper) {
    this.kube = kube;
    this.cinder = cinder;
    this.cloud = cloud;
    this.settings = settings;
    this.events = events;
    this.remapper = new PvRemapper(kube, cinder, new CinderExporter(cinder, settings.connector(),
        settings.attachMode()), mappers, settings, events, sleeper, hook);
  }

  /** The affected PVs and what would be done with each; writes nothing. */
  public List<RemapPlan.Decision> plan(boolean includeInUse) {
    return RemapPlan.decide(candidates(new ArrayList<>()), includeInUse);
  }

  /**
   * One pass: re-maps what {@link #plan} says to, and puts a {@code VolumeRemapPending} Event on each claim whose
   * PV waits for its pods. A PV that fails is reported (Event {@code VolumeRemapFailed}) and the others go on.
   */
  public Result run(boolean includeInUse) throws InterruptedException {
    List<String> failures = new ArrayList<>();
    List<RemapPlan.Decision> decisions = RemapPlan.decide(candidates(failures), includeInUse);
    int remapped = 0;
    int unchanged = 0;
    int waiting = 0;
    for (RemapPlan.Decision d : decisions) {
      PersistentVolumeClaim claim = kube.persistentVolumeClaims().inNamespace(d.claimNamespace())
          .withName(d.claimName()).get();
      if (d.action() == RemapPlan.Action.WAIT_IN_USE) {
        waiting++;
        if (claim != null) {
          events.warning(claim, "VolumeRemapPending", "Remap", d.reason() + ": it still names the old "
              + "connection. It is rebuilt once no pod uses this claim; to rebuild it now, annotate the claim "
              + RemapPlan.REMAP_NOW + "=" + RemapPlan.REMAP_NOW_VALUE + " and restart its pods afterwards");
        }
        continue;
      }
      try {
        switch (remapper.remap(d)) {
          case REMAPPED -> remapped++;
          case UNCHANGED -> unchanged++;
          case NOTHING_TO_DO -> { }
        }
      } catch (ProvisioningException | KubernetesClientException e) {
        failures.add(d.pvName() + ": " + e.getMessage());
        log.warn("re-mapping PV {} failed: {}", d.pvName(), e.getMessage());
        if (claim != null) {
          events.warning(claim, "VolumeRemapFailed", "Remap", "rebuilding PV " + d.pvName() + " for its volume's "
              + "new connection failed: " + e.getMessage() + "; it is tried again (the volume is kept)");
        }
      }
    }
    return new Result(decisions, remapped, unchanged, waiting, failures);
  }

  /**
   * Runs a pass every {@code period} on a thread of its own while {@code active} (the replica leads); close to stop.
   */
  public AutoCloseable every(Duration period, boolean includeInUse, BooleanSupplier active) {
    ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "failover-remapper");
      t.setDaemon(true);
      return t;
    });
    loop.scheduleWithFixedDelay(() -> {
      if (!active.getAsBoolean()) {
        return;
      }
      try {
        Result r = run(includeInUse);
        if (!r.decisions().isEmpty()) {
          log.info("failover re-map: {} affected PVs, {} re-mapped, {} unchanged, {} waiting for their pods, {} "
              + "failed", r.decisions().size(), r.remapped(), r.unchanged(), r.waiting(), r.failures().size());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn("failover re-map pass failed: {}", e.toString()); // the schedule goes on
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return loop::shutdownNow;
  }

  /** Our bound PVs and the claims with a re-map journal, with what Cinder and the pods say of each. */
  private List<RemapPlan.Candidate> candidates(List<String> failures) {
    Map<String, PersistentVolumeClaim> claims = new HashMap<>();
    for (PersistentVolumeClaim c : kube.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
      claims.put(c.getMetadata().getNamespace() + "/" + c.getMetadata().getName(), c);
    }
    Set<String> inUse = claimsInUse();
    List<RemapPlan.Candidate> out = new ArrayList<>();
    Set<String> pvNames = new HashSet<>();
    for (PersistentVolume pv : kube.persistentVolumes().list().getItems()) {
      pvNames.add(pv.getMetadata().getName());
      var ref = pv.getSpec().getClaimRef();
      if (ref == null || !VolumeDeleter.isOurs(pv, settings) || !cloud.equals(Clouds.ofPv(pv))) {
        continue;
      }
      String key = ref.getNamespace() + "/" + ref.getName();
      PersistentVolumeClaim claim = claims.get(key);
      if (claim == null || !Objects.equals(claim.getMetadata().getUid(), ref.getUid())) {
        continue;
      }
      String volumeId = Annotations.cinderVolumeId(pv);
      CinderVolume volume;
      try {
        volume = cinder.getVolume(volumeId).orElse(null);
      } catch (CinderException e) {
        failures.add(pv.getMetadata().getName() + ": cannot read Cinder volume " + volumeId + ": " + e.getMessage());
        continue;
      }
      out.add(new RemapPlan.Candidate(pv, claim, volume, inUse.contains(key)));
    }
    for (var e : claims.entrySet()) {
      PersistentVolumeClaim c = e.getValue();
      if (RemapPlan.journal(c) != null && !pvNames.contains(c.getSpec().getVolumeName())
          && cloud.equals(Annotations.cloudOf(journalPv(c), Annotations.CLOUD))) {
        out.add(new RemapPlan.Candidate(null, c, null, inUse.contains(e.getKey())));
      }
    }
    return out;
  }

  /** The PV a claim's re-map journal holds (its annotations name its cloud). */
  private PersistentVolume journalPv(PersistentVolumeClaim claim) {
    return kube.getKubernetesSerialization().unmarshal(RemapPlan.journal(claim), PersistentVolume.class);
  }

  /** Claims ({@code namespace/name}) that pods not yet finished use. */
  private Set<String> claimsInUse() {
    Set<String> out = new HashSet<>();
    for (Pod p : kube.pods().inAnyNamespace().list().getItems()) {
      String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase) || p.getSpec() == null
          || p.getSpec().getVolumes() == null) {
        continue;
      }
      for (Volume v : p.getSpec().getVolumes()) {
        if (v.getPersistentVolumeClaim() != null) {
          out.add(p.getMetadata().getNamespace() + "/" + v.getPersistentVolumeClaim().getClaimName());
        }
      }
    }
    return out;
  }
}
