package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which PVs a Cinder replication failover (or failback) left pointing at the wrong site, and what to do with each:
 * a pure decision over what was read from Kubernetes and Cinder. A PV is affected when its volume replicates
 * ({@code replication_status} neither absent, {@code disabled} nor {@code not-capable}), has settled
 * ({@code enabled} or {@code failed-over}) and is not in the state the PV was mapped in (annotation
 * {@link #MAPPED_FOR}, {@code enabled} when absent: PVs are made on the primary). A re-map under way (its journal
 * on the claim or its mark on the PV) is always resumed.
 */
public final class RemapPlan {
  private RemapPlan() {}

  /** On a PV: the volume's {@code replication_status} when the PV's connection was mapped. */
  public static final String MAPPED_FOR = "standalone-cinder.openstack.org/replication-status";
  /** On a claim, set by an admin: re-map its PV now, even while pods use it ({@code now}). */
  public static final String REMAP_NOW = "standalone-cinder.openstack.org/remap";
  public static final String REMAP_NOW_VALUE = "now";
  /** On a claim while its PV is swapped: the PV to rebuild (JSON, no credentials), the re-map's journal. */
  public static final String JOURNAL = "standalone-cinder.openstack.org/remap-pv";
  /** On the old PV while it is swapped: its own reclaim policy (it is {@code Retain} meanwhile). */
  public static final String RECLAIM_WAS = "standalone-cinder.openstack.org/remap-reclaim-policy";

  private static final Set<String> NOT_REPLICATED = Set.of("disabled", "not-capable");
  private static final Set<String> SETTLED = Set.of("enabled", "failed-over");

  /** What to do with one PV. */
  public enum Action {
    /** Swap it now. */
    REMAP,
    /** Affected, but pods use its claim: swapped once they are gone, or when the admin asks. */
    WAIT_IN_USE,
    /** A swap was interrupted (a crash): finish it. */
    RESUME
  }

  /**
   * One affected PV.
   *
   * @param from the replication state the PV was mapped in; {@code to} the volume's now
   */
  public record Decision(String pvName, String claimNamespace, String claimName, String volumeId, Action action,
      String from, String to, String reason) {}

  /**
   * What was read about one PV of ours: the PV (null when a swap deleted it), its claim (null when gone), its
   * volume (null when Cinder has none), and whether pods that are not finished use the claim.
   */
  public record Candidate(PersistentVolume pv, PersistentVolumeClaim claim, CinderVolume volume, boolean inUse) {}

  /** The decisions, in the candidates' order; unaffected PVs are left out. */
  public static List<Decision> decide(List<Candidate> candidates, boolean includeInUse) {
    List<Decision> out = new ArrayList<>();
    for (Candidate c : candidates) {
      decide(c, includeInUse).ifPresent(out::add);
    }
    return out;
  }

  static Optional<Decision> decide(Candidate c, boolean includeInUse) {
    PersistentVolume pv = c.pv();
    PersistentVolumeClaim claim = c.claim();
    if (claim == null || claim.getMetadata().getDeletionTimestamp() != null) {
      return Optional.empty(); // a released PV follows its reclaim policy; nothing to re-map for anyone
    }
    String volumeId = pv != null ? Annotations.cinderVolumeId(pv) : null;
    String to = c.volume() == null ? null : c.volume().replicationStatus();
    if (journal(claim) != null || (pv != null && annotation(pv, RECLAIM_WAS) != null)) {
      return Optional.of(decision(c, Action.RESUME, to, "a re-map of this PV was interrupted; finishing it"));
    }
    if (pv == null || c.volume() == null || !replicated(to) || !SETTLED.contains(to)) {
      return Optional.empty();
    }
    String from = mappedFor(pv);
    if (from.equals(to)) {
      return Optional.empty();
    }
    String why = "Cinder volume " + volumeId + " is " + to + " (replication); PV " + pv.getMetadata().getName()
        + " was mapped while it was " + from;
    boolean asked = REMAP_NOW_VALUE.equals(annotation(claim, REMAP_NOW));
    Action action = c.inUse() && !includeInUse && !asked ? Action.WAIT_IN_USE : Action.REMAP;
    return Optional.of(decision(c, action, to, why));
  }

  private static Decision decision(Candidate c, Action action, String to, String reason) {
    PersistentVolumeClaim claim = c.claim();
    String pvName = c.pv() != null ? c.pv().getMetadata().getName() : claim.getSpec().getVolumeName();
    String volumeId = c.pv() != null ? Annotations.cinderVolumeId(c.pv()) : c.volume() == null ? null
        : c.volume().id();
    return new Decision(pvName, claim.getMetadata().getNamespace(), claim.getMetadata().getName(), volumeId, action,
        c.pv() == null ? null : mappedFor(c.pv()), to, reason);
  }

  /** Whether Cinder replicates a volume with this {@code replication_status}. */
  static boolean replicated(String replicationStatus) {
    return replicationStatus != null && !NOT_REPLICATED.contains(replicationStatus);
  }

  /** The replication state the PV was mapped in; {@code enabled} (the primary) when it does not say. */
  static String mappedFor(PersistentVolume pv) {
    String v = annotation(pv, MAPPED_FOR);
    return v == null ? "enabled" : v;
  }

  static String journal(PersistentVolumeClaim claim) {
    return annotation(claim, JOURNAL);
  }

  static String annotation(io.fabric8.kubernetes.api.model.HasMetadata o, String key) {
    Map<String, String> a = o.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
