package io.github.standalonecinder.provisioner.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The provisioner library's metric names, so existing dashboards keep working:
 * {@code controller_persistentvolumeclaim_provision_{total,failed_total,duration_seconds}} and
 * {@code controller_persistentvolume_delete_{total,failed_total,duration_seconds}}, labelled by class.
 */
public final class ControllerMetrics {
  private final MeterRegistry registry;

  public ControllerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void provisioned(String storageClass, Duration took) {
    Counter.builder("controller_persistentvolumeclaim_provision").tag("class", storageClass)
        .description("Claims provisioned").register(registry).increment();
    Timer.builder("controller_persistentvolumeclaim_provision_duration").tag("class", storageClass)
        .description("Time to provision a claim").register(registry).record(took);
  }

  public void provisionFailed(String storageClass) {
    Counter.builder("controller_persistentvolumeclaim_provision_failed").tag("class", storageClass)
        .description("Failed provisioning attempts").register(registry).increment();
  }

  public void deleted(String storageClass, Duration took) {
    Counter.builder("controller_persistentvolume_delete").tag("class", storageClass)
        .description("Volumes deleted").register(registry).increment();
    Timer.builder("controller_persistentvolume_delete_duration").tag("class", storageClass)
        .description("Time to delete a volume").register(registry).record(took);
  }

  public void deleteFailed(String storageClass) {
    Counter.builder("controller_persistentvolume_delete_failed").tag("class", storageClass)
        .description("Failed deletion attempts").register(registry).increment();
  }
}
