package io.github.standalonecinder.simulator;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Fault injection for a {@link CinderSimulator}; obtained with {@link CinderSimulator#faults()}. Thread-safe; call
 * {@link #reset()} between tests.
 *
 * <p><b>Request matching.</b> {@code method} is an HTTP method or {@code null}/{@code "*"} for any. {@code pathRegex}
 * is searched ({@link java.util.regex.Matcher#find()}) in the request's <em>match target</em>: the raw request path,
 * followed for action requests by a space and the action name, e.g.
 * {@code "/v3/demo-project/volumes/3f6c.../action os-initialize_connection"}. So {@code "/volumes$"} matches only
 * volume creation/listing, {@code "os-reserve"} only reserve actions, {@code "/identity/"} Keystone calls.
 * {@code times} is the number of matching requests affected ({@link Integer#MAX_VALUE} = until reset). Rules are
 * checked in the order they were added; the first matching delay rule and the first matching fail rule both apply.
 *
 * <p>Every applied fault increments {@link #injectedCount()}: each failed or delayed request, each volume whose
 * fate was forced, each status forced with {@link #setVolumeStatus}, each switch to unreachable.
 */
public final class SimulatorFaults {
  private final CinderSimulator simulator;
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final List<VolumeFate> fates = new CopyOnWriteArrayList<>();
  private final AtomicLong injected = new AtomicLong();
  private volatile boolean unreachable;
  private volatile boolean chapPerExport;
  private volatile String iscsiTargetPrefix;

  SimulatorFaults(CinderSimulator simulator) {
    this.simulator = simulator;
  }

  /** The next {@code times} matching requests are answered with {@code status} and a Cinder fault body. */
  public SimulatorFaults failNext(int times, String method, String pathRegex, int status) {
    return failNext(times, method, pathRegex, status, null, null);
  }

  /** As {@link #failNext(int, String, String, int)} with an explicit (JSON) response body. */
  public SimulatorFaults failNext(int times, String method, String pathRegex, int status, String body) {
    return failNext(times, method, pathRegex, status, body, null);
  }

  /**
   * The next {@code times} matching requests are answered with {@code status}.
   *
   * @param body JSON body to answer, or null for Cinder's fault body ({@code {"overLimit": {"code": 413, "message":
   *     ..., "retryAfter": "N"}}} for 413, {@code itemNotFound}, {@code computeFault}, ... otherwise)
   * @param retryAfterSeconds when not null, a {@code Retry-After} header (and {@code retryAfter} in a default 413
   *     body)
   */
  public SimulatorFaults failNext(
      int times, String method, String pathRegex, int status, String body, Integer retryAfterSeconds) {
    rules.add(new Rule(times, method, pathRegex, status, body, retryAfterSeconds, null));
    return this;
  }

  /** The next {@code times} matching requests are answered only after {@code delay} (on top of api latency). */
  public SimulatorFaults delayNext(int times, String method, String pathRegex, Duration delay) {
    rules.add(new Rule(times, method, pathRegex, 0, null, null, Objects.requireNonNull(delay)));
    return this;
  }

  /**
   * Forces the fate of volumes created from now on whose name matches {@code nameRegex} (whole-name match):
   * {@code .endIn("error")} or {@code .stayIn("creating")}.
   */
  public VolumeFate volumesNamed(String nameRegex) {
    return new VolumeFate(Pattern.compile(nameRegex));
  }

  /** Forces an existing volume into {@code status} (e.g. "error"), as if the backend had failed it. */
  public void setVolumeStatus(String volumeId, String status) {
    simulator.state().forceStatus(volumeId, status);
    injected.incrementAndGet();
  }

  /**
   * CHAP credentials issued anew with every export, as some drivers do (the default: one pair per volume, as
   * Cinder's LVM driver stores in {@code provider_auth}).
   */
  public SimulatorFaults chapPerExport(boolean on) {
    this.chapPerExport = on;
    return this;
  }

  boolean chapPerExport() {
    return chapPerExport;
  }

  /**
   * The iSCSI target name prefix, as Cinder's {@code target_prefix} option sets it (default
   * {@code iqn.2010-10.org.openstack:}); null restores the default. One without the {@code :} makes IQNs Kubernetes
   * refuses.
   */
  public SimulatorFaults iscsiTargetPrefix(String prefix) {
    this.iscsiTargetPrefix = prefix;
    return this;
  }

  String iscsiTargetPrefix() {
    return iscsiTargetPrefix;
  }

  /** Forces an existing snapshot into {@code status} (e.g. "error"), as if the backend had failed it. */
  public void setSnapshotStatus(String snapshotId, String status) {
    CinderState.Snap s = simulator.state().snap(snapshotId);
    synchronized (s) {
      s.status = status;
    }
    injected.incrementAndGet();
  }

  /**
   * Fails an existing backup as cinder-backup would: {@code error} with {@code failReason}; a snapshot it was made
   * from is put back to {@code available}, as the backup manager does.
   */
  public void failBackup(String backupId, String failReason) {
    BackupState.Backup b = simulator.state().backups.backups.get(backupId);
    if (b == null) {
      throw new IllegalArgumentException("no backup " + backupId);
    }
    synchronized (b) {
      b.status = "error";
      b.failReason = failReason;
    }
    CinderState.Snap s = b.snapshotId == null ? null : simulator.state().snapshots.get(b.snapshotId);
    if (s != null) {
      synchronized (s) {
        s.status = "available";
      }
    }
    injected.incrementAndGet();
  }

  /** Shorthand for {@code setVolumeStatus(volumeId, "error")}. */
  public void failVolume(String volumeId) {
    setVolumeStatus(volumeId, "error");
  }

  /**
   * {@code true}: the simulator stops listening (clients get "connection refused"), state is kept.
   * {@code false}: it listens again on the same port.
   */
  public void unreachable(boolean value) {
    synchronized (this) {
      if (value == unreachable) {
        return;
      }
      if (value) {
        simulator.stopListening();
        injected.incrementAndGet();
      } else {
        simulator.startListening();
      }
      unreachable = value;
    }
  }

  public boolean isUnreachable() {
    return unreachable;
  }

  /** Number of faults applied since start or the last {@link #reset()}. */
  public long injectedCount() {
    return injected.get();
  }

  /** Removes all rules and fates, zeroes the counter and makes the simulator reachable again. */
  public void reset() {
    rules.clear();
    fates.clear();
    unreachable(false);
    chapPerExport = false;
    iscsiTargetPrefix = null;
    injected.set(0);
  }

  // ---- used by the simulator

  /** The delay to apply to this request, or null; counts it. */
  Duration delayFor(String method, String target) {
    for (Rule r : rules) {
      if (r.delay != null && r.take(method, target)) {
        injected.incrementAndGet();
        return r.delay;
      }
    }
    return null;
  }

  /** The failure to answer this request with, or null; counts it. */
  ApiException failureFor(String method, String target) {
    for (Rule r : rules) {
      if (r.delay == null && r.take(method, target)) {
        injected.incrementAndGet();
        ApiException e = new ApiException(r.status, "Simulated fault injected for " + method + " request");
        if (r.retryAfterSeconds != null) {
          e.header("Retry-After", String.valueOf(r.retryAfterSeconds));
        }
        if (r.body != null) {
          e.body(new RawJson(r.body));
        }
        return e;
      }
    }
    return null;
  }

  /** The forced final status for a new volume with this name, or null; counts it. */
  VolumeFate fateFor(String name) {
    if (name == null) {
      return null;
    }
    for (VolumeFate f : fates) {
      if (f.status != null && f.pattern.matcher(name).matches() && (!f.once || f.used.add(name))) {
        injected.incrementAndGet();
        return f;
      }
    }
    return null;
  }

  /** A body given verbatim. */
  record RawJson(String json) {}

  private static final class Rule {
    final AtomicInteger remaining;
    final String method;
    final Pattern pattern;
    final int status;
    final String body;
    final Integer retryAfterSeconds;
    final Duration delay;

    Rule(int times, String method, String regex, int status, String body, Integer retryAfter, Duration delay) {
      if (times <= 0) {
        throw new IllegalArgumentException("times must be positive");
      }
      this.remaining = new AtomicInteger(times);
      this.method = method == null || "*".equals(method) ? null : method.toUpperCase(java.util.Locale.ROOT);
      this.pattern = Pattern.compile(regex == null ? "" : regex);
      this.status = status;
      this.body = body;
      this.retryAfterSeconds = retryAfter;
      this.delay = delay;
    }

    boolean take(String reqMethod, String target) {
      if (method != null && !method.equals(reqMethod)) {
        return false;
      }
      if (!pattern.matcher(target).find()) {
        return false;
      }
      if (remaining.get() == Integer.MAX_VALUE) {
        return true;
      }
      return remaining.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }
  }

  /** Builder step of {@link #volumesNamed(String)}. */
  public final class VolumeFate {
    final Pattern pattern;
    volatile String status;
    volatile boolean stay;
    volatile boolean once;
    final java.util.Set<String> used = java.util.concurrent.ConcurrentHashMap.newKeySet();

    VolumeFate(Pattern pattern) {
      this.pattern = pattern;
    }

    /** Creation ends in {@code status} (e.g. "error") instead of "available", after the create delay. */
    public SimulatorFaults endIn(String finalStatus) {
      this.status = Objects.requireNonNull(finalStatus);
      fates.add(this);
      return SimulatorFaults.this;
    }

    /** As {@link #endIn}, but only for the first volume of each name: a claim's next try succeeds. */
    public SimulatorFaults endInOnce(String finalStatus) {
      this.once = true;
      return endIn(finalStatus);
    }

    /** The volume is created in {@code status} (normally "creating") and never leaves it by itself. */
    public SimulatorFaults stayIn(String foreverStatus) {
      this.status = Objects.requireNonNull(foreverStatus);
      this.stay = true;
      fates.add(this);
      return SimulatorFaults.this;
    }
  }
}
