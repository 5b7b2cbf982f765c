package io.github.standalonecinder.provisioner.leader;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on a {@code coordination.k8s.io} Lease, as client-go does it: a candidate takes the Lease when
 * it is free, or when it has seen the same record (same resourceVersion) unchanged for the record's lease
 * duration on its own monotonic clock (clock skew between replicas does not matter); the leader renews every
 * retry period with an update conditional on the resourceVersion it read. Each stored renewal is reported to
 * {@link Leadership}, the fence every write checks.
 *
 * <p>A Lease held under our own identity is ours: a container of the same pod restarted (identity = pod name)
 * leads again at once instead of waiting out the lease.
 *
 * <p>Callbacks run on the elector's own thread and must not block.
 */
public final class LeaseElector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaseElector.class);

  /** Where the Lease is and how long it lasts. */
  public record Config(String namespace, String name, String identity, Duration leaseDuration,
      Duration renewDeadline, Duration retryPeriod) {
    public Config {
      Objects.requireNonNull(identity, "identity");
      if (renewDeadline.compareTo(leaseDuration) >= 0 || retryPeriod.compareTo(renewDeadline) >= 0) {
        throw new IllegalArgumentException("need retryPeriod < renewDeadline < leaseDuration, got " + retryPeriod
            + " / " + renewDeadline + " / " + leaseDuration);
      }
    }

    /** client-go's proportions: renew deadline 2/3 and retry period 1/5 of the lease duration. */
    public static Config of(String namespace, String name, String identity, Duration leaseDuration) {
      return new Config(namespace, name, identity, leaseDuration, leaseDuration.multipliedBy(2).dividedBy(3),
          leaseDuration.dividedBy(5));
    }
  }

  /** What the elector tells its owner. */
  public interface Listener {
    void startedLeading();

    /** Another replica holds the Lease now, or it was not renewed within the renew deadline. */
    void stoppedLeading(String why);
  }

  private final KubernetesClient kube;
  private final Config config;
  private final Leadership leadership;
  private final Listener listener;
  private final LongSupplier nanoClock;
  private final Clock wallClock;
  private final ScheduledExecutorService thread;
  private final AtomicBoolean stopped = new AtomicBoolean();
  /** The other holder's record as last seen, and when (monotonic) it was first seen in that version. */
  private String observedVersion;
  private long observedAt;
  private String lastHolder;

  public LeaseElector(KubernetesClient kube, Config config, Leadership leadership, Listener listener) {
    this(kube, config, leadership, listener, System::nanoTime, Clock.systemUTC());
  }

  LeaseElector(KubernetesClient kube, Config config, Leadership leadership, Listener listener,
      LongSupplier nanoClock, Clock wallClock) {
    this.kube = kube;
    this.config = config;
    this.leadership = leadership;
    this.listener = listener;
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lease-elector");
      t.setDaemon(true);
      return t;
    });
  }

  public Config config() {
    return config;
  }

  public void start() {
    log.info("waiting for leadership on Lease {}/{} as {}", config.namespace(), config.name(), config.identity());
    schedule(0);
  }

  private void schedule(long delayMillis) {
    if (!stopped.get()) {
      thread.schedule(this::tickAndReschedule, delayMillis, TimeUnit.MILLISECONDS);
    }
  }

  private void tickAndReschedule() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warn("leader election on Lease {}/{}: {}", config.namespace(), config.name(), e.getMessage());
    }
    long period = config.retryPeriod().toMillis();
    // Candidates spread their attempts; the leader renews on the period.
    schedule(leadership.leading() ? period : period + ThreadLocalRandom.current().nextLong(period / 5 + 1));
  }

  /** One attempt to acquire or renew; package-private so tests can drive it step by step. */
  void tick() {
    if (stopped.get()) {
      return;
    }
    checkDeadline();
    if (stopped.get()) {
      return;
    }
    long started = nanoClock.getAsLong();
    Lease current;
    try {
      current = leases().withName(config.name()).get();
    } catch (KubernetesClientException e) {
      log.warn("cannot read Lease {}/{}: {}", config.namespace(), config.name(), e.getMessage());
      return;
    }
    // When the answer came: whatever version it shows was stored before this, so after the holder sent it.
    long read = nanoClock.getAsLong();
    if (current == null) {
      tryWrite(started, null, true);
      return;
    }
    var spec = current.getSpec();
    String holder = spec == null ? null : spec.getHolderIdentity();
    if (!Objects.equals(holder, lastHolder)) {
      lastHolder = holder;
      if (holder != null && !holder.isEmpty()) {
        log.info("leader is now {}", holder);
      }
    }
    if (config.identity().equals(holder)) {
      tryWrite(started, current, false);
      return;
    }
    if (leadership.leading()) {
      lose("Lease " + config.name() + " is held by " + (holder == null || holder.isEmpty() ? "nobody" : holder));
      return;
    }
    if (holder == null || holder.isEmpty()) {
      tryWrite(started, current, true);
      return;
    }
    String version = current.getMetadata().getResourceVersion();
    if (!Objects.equals(version, observedVersion)) {
      observedVersion = version;
      observedAt = read;
      return;
    }
    long leaseNanos = Duration.ofSeconds(spec.getLeaseDurationSeconds() == null
        ? config.leaseDuration().toSeconds() : spec.getLeaseDurationSeconds()).toNanos();
    if (read - observedAt > leaseNanos) {
      log.info("Lease {}/{} of {} not renewed for {} ms; taking it over", config.namespace(), config.name(), holder,
          Duration.ofNanos(read - observedAt).toMillis());
      tryWrite(started, current, true);
    }
  }

  /** Creates ({@code current} null), renews or takes over the Lease, conditional on the version read. */
  private void tryWrite(long started, Lease current, boolean acquiring) {
    if (nanoClock.getAsLong() - started > config.renewDeadline().toNanos()) {
      // Paused or stalled between the read and this write: what was read may be long out of date.
      log.warn("Lease {}/{} was read more than the renew deadline ago; not writing it", config.namespace(),
          config.name());
      return;
    }
    ZonedDateTime now = ZonedDateTime.now(wallClock);
    int leaseSeconds = (int) Math.max(1, config.leaseDuration().toSeconds());
    // Others start counting a lease duration when they see this write stored, which is after it was sent.
    long sent = nanoClock.getAsLong();
    try {
      if (current == null) {
        leases().resource(new LeaseBuilder().withNewMetadata().withName(config.name())
            .withNamespace(config.namespace()).endMetadata().withNewSpec().withHolderIdentity(config.identity())
            .withLeaseDurationSeconds(leaseSeconds).withAcquireTime(now).withRenewTime(now)
            .withLeaseTransitions(0).endSpec().build()).create();
      } else {
        var spec = current.getSpec();
        boolean takeover = acquiring || !leadership.leading();
        int transitions = spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions();
        leases().resource(new LeaseBuilder(current).editSpec().withHolderIdentity(config.identity())
            .withLeaseDurationSeconds(leaseSeconds)
            .withAcquireTime(takeover ? now : spec.getAcquireTime()).withRenewTime(now)
            .withLeaseTransitions(acquiring && !config.identity().equals(spec.getHolderIdentity())
                ? transitions + 1 : transitions)
            .endSpec().build()).update();
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        log.debug("Lease {}/{} changed while writing it", config.namespace(), config.name());
      } else {
        log.warn("cannot write Lease {}/{}: {}", config.namespace(), config.name(), e.getMessage());
      }
      return;
    }
    renewed(sent);
  }

  private synchronized void renewed(long sent) {
    if (stopped.get()) {
      return; // given up (lost, released or closed) while this write was under way: never lead again
    }
    boolean wasLeading = leadership.leading();
    leadership.renewed(sent);
    if (!wasLeading) {
      log.info("became leader on Lease {}/{} as {}", config.namespace(), config.name(), config.identity());
      listener.startedLeading();
    }
  }

  /** Gives up leadership once the renew deadline has passed; for a watchdog when a renewal hangs. */
  public void checkDeadline() {
    if (leadership.expired()) {
      lose("the Lease was not renewed within the renew deadline of " + config.renewDeadline().toMillis() + " ms");
    }
  }

  private synchronized void lose(String why) {
    if (leadership.leading()) {
      leadership.lost();
      stopped.set(true); // a replica that lost the Lease exits; it never campaigns again
      listener.stoppedLeading(why);
    }
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<Lease,
      io.fabric8.kubernetes.api.model.coordination.v1.LeaseList,
      io.fabric8.kubernetes.client.dsl.Resource<Lease>> leases() {
    return kube.leases().inNamespace(config.namespace());
  }

  /**
   * Stops electing and, if this replica still holds the Lease, hands it back (holder cleared, conditional on the
   * version read), so a standby takes over at once. Call only once this replica's work has stopped.
   */
  public void release() {
    synchronized (this) {
      stopped.set(true);
    }
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!leadership.leading()) {
      return;
    }
    leadership.lost();
    try {
      Lease current = leases().withName(config.name()).get();
      if (current == null || current.getSpec() == null
          || !config.identity().equals(current.getSpec().getHolderIdentity())) {
        return;
      }
      ZonedDateTime now = ZonedDateTime.now(wallClock);
      leases().resource(new LeaseBuilder(current).editSpec().withHolderIdentity(null).withLeaseDurationSeconds(1)
          .withRenewTime(now).endSpec().build()).update();
      log.info("released Lease {}/{}", config.namespace(), config.name());
    } catch (KubernetesClientException e) {
      log.warn("could not release Lease {}/{}: {}", config.namespace(), config.name(), e.getMessage());
    }
  }

  /** Stops electing without touching the Lease. */
  @Override
  public void close() {
    stopped.set(true);
    thread.shutdownNow();
  }
}
