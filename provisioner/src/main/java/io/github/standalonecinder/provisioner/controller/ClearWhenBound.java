package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When a claim whose PV this process saved drops our intent. The binder (kube-controller-manager) writes the claim
 * twice once the PV appears: its {@code volumeName}, then its status. A clear written beside those writes meets a
 * 409 and a read afresh (10–20 % of a burst's claims); written from the copy that shows {@code Bound}, it does not.
 * Until then the claim keeps our finalizer, and a deletion meanwhile finds the PV and only clears it.
 */
final class ClearWhenBound {
  /** How long a cleared claim's passes with a copy from before the clear are passed over. */
  static final Duration CACHE_CATCH_UP = Duration.ofSeconds(60);

  enum Step {
    /** Nothing to do now: the binder's next write, or the cache showing our clear, brings the claim back. */
    WAIT,
    /** Clear the intent, nothing else (this process saved the PV and deleted its duplicates). */
    CLEAR,
    /** Not saved by this process (a retry, a restart, another replica): look its volumes up again, then clear. */
    FINISH
  }

  /** Where this process is with a claim whose PV it saved. */
  enum State {
    /** Saved, its duplicates deleted, the intent not cleared yet. */
    SAVED,
    /** The intent cleared here: a copy that still holds it is from before that. */
    CLEARED
  }

  private record Mark(State state, Instant at) {}

  /** By claim UID. */
  private final Map<String, Mark> marks = new ConcurrentHashMap<>();

  /** The claim's PV is saved and its duplicates deleted. */
  void saved(String uid) {
    marks.put(uid, new Mark(State.SAVED, Instant.now()));
  }

  /** Its intent is cleared; copies from before that are passed over for a while. */
  void cleared(String uid) {
    Instant now = Instant.now();
    marks.values().removeIf(m -> m.state() == State.CLEARED && m.at().plus(CACHE_CATCH_UP).isBefore(now));
    marks.put(uid, new Mark(State.CLEARED, now));
  }

  /** Deleted, or its intent cleared by another path. */
  void forget(String uid) {
    marks.remove(uid);
  }

  /** What a pass over a claim holding our intent, with its PV saved, does now. */
  Step step(PersistentVolumeClaim claim) {
    Mark m = marks.get(claim.getMetadata().getUid());
    return step(m == null ? null : m.state(), claim);
  }

  /** @param state null when this process did not save the claim's PV (or has forgotten it) */
  static Step step(State state, PersistentVolumeClaim claim) {
    if (state == null) {
      return Step.FINISH;
    }
    if (state == State.CLEARED) {
      return Step.WAIT;
    }
    String phase = claim.getStatus() == null ? null : claim.getStatus().getPhase();
    boolean bound = ClaimPlanner.isBound(claim) && phase != null && !"Pending".equals(phase);
    return bound ? Step.CLEAR : Step.WAIT;
  }
}
