package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.mappers.Connector;
import java.time.Duration;
import java.util.Objects;

/**
 * How the controller behaves; built by the CLI from flags and environment.
 *
 * @param provisionerName   the StorageClass {@code provisioner} we serve
 * @param identity          written to {@code standaloneCinderProvisionerIdentity}; PVs with another identity are
 *                          not ours to delete (several instances may share a provisioner name)
 * @param namespace         the provisioner's own namespace: Secrets go here unless a class asks otherwise
 * @param clusterId         Cinder metadata tag telling this cluster's volumes from others' on a shared Cinder
 * @param volumeNamePrefix  Cinder volume name = prefix + claim UID
 * @param workers           claims and volumes processed in parallel
 * @param connector         sent to Cinder when exporting a volume
 * @param attachMode        which Cinder attach API to use
 * @param availableTimeout  how long a new volume may take to become {@code available}
 * @param resyncPeriod      informer resync: pending claims and released PVs are looked at again this often
 * @param baseBackoff       first retry delay of a failing claim or volume
 * @param maxBackoff        retry delay cap
 * @param maxSizeGiB        larger requests are refused before Cinder is called
 */
public record ProvisionerSettings(
    String provisionerName,
    String identity,
    String namespace,
    String clusterId,
    String volumeNamePrefix,
    int workers,
    Connector connector,
    AttachMode attachMode,
    Duration availableTimeout,
    Duration resyncPeriod,
    Duration baseBackoff,
    Duration maxBackoff,
    int maxSizeGiB) {

  public static final String DEFAULT_PROVISIONER_NAME = "openstack.org/standalone-cinder";

  /** Which Cinder API exports a volume. */
  public enum AttachMode {
    /** Attachments API when the server offers microversion 3.44, else the legacy actions. */
    AUTO,
    /** {@code POST /attachments} + {@code os-complete}. */
    ATTACHMENTS,
    /** {@code os-reserve} + {@code os-initialize_connection} + {@code os-attach}. */
    LEGACY
  }

  public ProvisionerSettings {
    Objects.requireNonNull(provisionerName, "provisionerName");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(connector, "connector");
    identity = identity == null || identity.isBlank() ? provisionerName : identity;
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1, got " + workers);
    }
  }

  public static ProvisionerSettings defaults(String namespace, Connector connector) {
    return new ProvisionerSettings(DEFAULT_PROVISIONER_NAME, null, namespace, "kubernetes", "pvc-", 4, connector,
        AttachMode.AUTO, Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofMinutes(5),
        65536);
  }

  public ProvisionerSettings withWorkers(int n) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterId, volumeNamePrefix, n, connector,
        attachMode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB);
  }

  public ProvisionerSettings withBackoff(Duration base, Duration max) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterId, volumeNamePrefix, workers,
        connector, attachMode, availableTimeout, resyncPeriod, base, max, maxSizeGiB);
  }

  public ProvisionerSettings withAvailableTimeout(Duration timeout) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterId, volumeNamePrefix, workers,
        connector, attachMode, timeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB);
  }

  public ProvisionerSettings withAttachMode(AttachMode mode) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterId, volumeNamePrefix, workers,
        connector, mode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB);
  }
}
