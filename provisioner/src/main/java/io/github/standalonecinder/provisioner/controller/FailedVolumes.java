package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A claim's volume that Cinder failed (status {@code error} or another {@code error_*}, or stuck in
 * {@code creating} past the available timeout): never reused. It is deleted (forced when Cinder would refuse a
 * plain delete), Cinder's reason is read from its user messages API, and the claim tries again after a growing
 * delay, {@link #ATTEMPTS} times at most; then it fails as bad input, with Cinder's reason, until the claim or its
 * class changes (no backend has room, the type's backend is down: retrying at once only repeats it).
 */
final class FailedVolumes {
  private static final Logger log = LoggerFactory.getLogger(FailedVolumes.class);
  static final int ATTEMPTS = 3;
  static final Duration FIRST_DELAY = Duration.ofSeconds(5);

  private final CinderGateway cinder;
  private final VolumeRemoval removal;
  private final Duration stuckAfter;
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  FailedVolumes(CinderGateway cinder, VolumeRemoval removal, Duration stuckAfter) {
    this.cinder = cinder;
    this.removal = removal;
    this.stuckAfter = stuckAfter;
  }

  /** Whether a volume in this status is one Cinder failed, never to be reused. */
  static boolean failed(CinderVolume v) {
    return v.status() != null && v.status().toLowerCase().startsWith("error");
  }

  /**
   * Deletes the failed volume of the claim and returns what the claim's attempt ends with: a retry after a
   * growing delay, or, once the claim has failed {@link #ATTEMPTS} times, a permanent failure.
   *
   * @param what what went wrong, for the note: "went to status error", "is stuck in creating after 300 s"
   */
  ProvisioningException replace(String claimUid, CinderVolume v, String what) {
    String reason = reason(v);
    if (removal.removeQuietly(v.id(), stuckAfter, "it " + what)) {
      log.warn("deleted Cinder volume {} that {}{}{}", v.id(), what, reason.isEmpty() ? "" : ": ", reason);
    }
    int n = failures.merge(claimUid, 1, Integer::sum);
    String why = "the Cinder volume " + what + (reason.isEmpty() ? "" : " (Cinder says: " + reason + ")");
    if (n >= ATTEMPTS) {
      failures.remove(claimUid);
      return ProvisioningException.invalid(why + "; gave up after " + n + " volumes; change the claim or its "
          + "class to try again");
    }
    return ProvisioningException.retryable(why + "; making a new one (" + n + " of " + ATTEMPTS + " tries)",
        FIRST_DELAY.multipliedBy(1L << (n - 1)), null);
  }

  /** The claim got its volume: its count starts afresh. */
  void succeeded(String claimUid) {
    failures.remove(claimUid);
  }

  /** Cinder's newest user message about the volume, or empty. */
  private String reason(CinderVolume v) {
    try {
      List<String> messages = cinder.listUserMessages(v.id());
      return messages.isEmpty() ? "" : messages.get(0);
    } catch (CinderException e) {
      log.debug("no user messages about volume {}: {}", v.id(), e.getMessage());
      return "";
    }
  }
}
