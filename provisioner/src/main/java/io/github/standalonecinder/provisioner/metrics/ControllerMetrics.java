package io.github.standalonecinder.provisioner.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The provisioner library's metric names, so existing dashboards keep working:
 * {@code controller_persistentvolumeclaim_provision_{total,failed_total,duration_seconds}} and
 * {@code controller_persistentvolume_delete_{total,failed_total,duration_seconds}}, labelled by class.
 *
 * <p>Durations are histograms, as the library's are, so {@code histogram_quantile} works on their {@code _bucket}
 * series: the library's buckets (Prometheus' default, 5 ms to 10 s) and, since a Cinder volume can take minutes,
 * 30 s, 1 min, 2 min and 5 min.
 */
public final class ControllerMetrics {
  /** Prometheus' default buckets (the library's), then longer ones for slow backends. */
  static final Duration[] DURATION_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
      120, 300);

  private final MeterRegistry registry;
  private final Counter eventsDropped;
  private final Counter volumesStuck;

  public ControllerMetrics(MeterRegistry registry) {
    this.registry = registry;
    // Registered up front, so a dashboard sees 0 rather than nothing.
    this.eventsDropped = Counter.builder("controller_events_dropped")
        .description("Events dropped: too many waiting to be written").register(registry);
    // Up front too: a counter first seen at 1 shows no increase to Prometheus, and an alert on it would miss it.
    this.volumesStuck = Counter.builder("standalone_cinder_volumes_stuck")
        .description("Claims' volumes not available past --available-timeout").register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void provisioned(String storageClass, Duration took) {
    succeeded("controller_persistentvolumeclaim_provision", "Claims provisioned", storageClass, took);
  }

  public void provisionFailed(String storageClass) {
    failed("controller_persistentvolumeclaim_provision", "Failed provisioning attempts", storageClass);
  }

  public void deleted(String storageClass, Duration took) {
    succeeded("controller_persistentvolume_delete", "Volumes deleted", storageClass, took);
  }

  public void deleteFailed(String storageClass) {
    failed("controller_persistentvolume_delete", "Failed deletion attempts", storageClass);
  }

  /** {@code controller_events_dropped_total}: Events not written because too many were waiting. */
  public void eventDropped() {
    eventsDropped.increment();
  }

  /**
   * {@code standalone_cinder_volumes_stuck_total}: a claim's volume found not yet {@code available} past
   * {@code --available-timeout} (it is then waited for again, or replaced when stuck in {@code creating}; the log
   * line and the claim's Event say which status).
   */
  public void volumeStuck() {
    volumesStuck.increment();
  }

  /** {@code standalone_cinder_work_queue_depth}: keys (claims, volumes) waiting for a worker. */
  public void workQueueDepth(IntSupplier depth) {
    Gauge.builder("standalone_cinder_work_queue_depth", depth::getAsInt)
        .description("Claims and volumes waiting for a worker").register(registry);
  }

  /**
   * {@code standalone_cinder_cinder_operations_limit{cloud}}: how many volume creates and deletes the adaptive limit
   * lets be under way in the cloud's Cinder now (between 1 and {@code --workers}); and
   * {@code standalone_cinder_cinder_operations_in_flight{cloud}}: how many are (places taken).
   */
  public void cinderOperations(String cloud, IntSupplier limit, IntSupplier inFlight) {
    Gauge.builder("standalone_cinder_cinder_operations_limit", limit::getAsInt).tag("cloud", cloud)
        .description("Volume creates and deletes allowed under way at once in this cloud's Cinder")
        .register(registry);
    Gauge.builder("standalone_cinder_cinder_operations_in_flight", inFlight::getAsInt).tag("cloud", cloud)
        .description("Volume creates and deletes under way in this cloud's Cinder").register(registry);
  }

  /**
   * {@code standalone_cinder_claims_failing}: claims whose latest provisioning attempt failed and that have no PV
   * yet (retried with backoff, or bad input held until the claim or its class changes); and
   * {@code standalone_cinder_claims_failing_oldest_seconds}: how long ago the oldest of them was first taken up
   * (0 when there is none). {@code failingSince} gives, for each such claim, when its provisioning began.
   */
  public void failingClaims(Supplier<Collection<Instant>> failingSince, Clock clock) {
    Gauge.builder("standalone_cinder_claims_failing", () -> failingSince.get().size())
        .description("Claims whose latest provisioning attempt failed, not provisioned yet").register(registry);
    Gauge.builder("standalone_cinder_claims_failing_oldest_seconds", () -> failingSince.get().stream()
            .min(Instant::compareTo).map(t -> Duration.between(t, clock.instant()).toMillis() / 1000.0).orElse(0.0))
        .description("How long ago the oldest failing claim was first taken up, in seconds").register(registry);
  }

  /**
   * {@code standalone_cinder_leader}: 1 while this replica holds the leader Lease and works (always, with leader
   * election off), 0 on a standby. {@code sum} over the replicas is 1 when all is well.
   */
  public static void leader(MeterRegistry registry, BooleanSupplier leading) {
    Gauge.builder("standalone_cinder_leader", () -> leading.getAsBoolean() ? 1 : 0)
        .description("1 while this replica leads (or runs without leader election), 0 on a standby")
        .register(registry);
  }

  private void succeeded(String name, String description, String storageClass, Duration took) {
    Counter.builder(name).tag("class", storageClass).description(description).register(registry).increment();
    Timer.builder(name + "_duration").tag("class", storageClass).description(description + ": time taken")
        .serviceLevelObjectives(DURATION_BUCKETS).register(registry).record(took);
  }

  private void failed(String name, String description, String storageClass) {
    Counter.builder(name + "_failed").tag("class", storageClass).description(description).register(registry)
        .increment();
  }

  /** Durations of {@code values} seconds. */
  public static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
    }
    return out;
  }
}
