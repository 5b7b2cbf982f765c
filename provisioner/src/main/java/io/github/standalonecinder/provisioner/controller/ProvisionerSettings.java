package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.mappers.Connector;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * How the controller behaves; built by the CLI from flags and environment.
 *
 * @param provisionerName   the StorageClass {@code provisioner} we serve
 * @param identity          written to {@code standaloneCinderProvisionerIdentity}; PVs with another identity are
 *                          not ours to delete (several instances may share a provisioner name)
 * @param namespace         the provisioner's own namespace: Secrets go here unless a class asks otherwise
 * @param clusterIds        the Cinder metadata tags ({@code standalone-cinder.openstack.org/cluster}) this cluster's
 *                          volumes carry: the first is this cluster's own id, given to new volumes, and the only
 *                          one whose volumes the {@link OrphanSweeper} may delete; the others are older tags
 *                          (the legacy default {@code kubernetes} when the id is derived): volumes carrying them are
 *                          found by name as this cluster's and reported by the sweeper, never deleted by it. Empty:
 *                          not known yet, to be derived by {@link ClusterIdentity#resolve}
 * @param volumeNamePrefix  Cinder volume name = prefix + claim UID
 * @param workers           claims and volumes in their Cinder work at once (as many more claims may be saving
 *                          their PVs)
 * @param connector         sent to Cinder when exporting a volume
 * @param attachMode        which Cinder attach API to use
 * @param availableTimeout  how long a new volume may take to become {@code available}
 * @param resyncPeriod      informer resync: pending claims and released PVs are looked at again this often
 * @param baseBackoff       first retry delay of a failing claim or volume
 * @param maxBackoff        retry delay cap
 * @param maxSizeGiB        larger requests are refused before Cinder is called
 * @param orphanSweepInterval how often the {@link OrphanSweeper} looks for Cinder volumes of this cluster that no
 *                          claim and no PV owns; zero turns it off
 * @param orphanGracePeriod a volume younger than this is never an orphan (it may be being provisioned right now)
 * @param orphanMode        what the sweeper does with an orphan: delete it, or only report it
 */
public record ProvisionerSettings(
    String provisionerName,
    String identity,
    String namespace,
    List<String> clusterIds,
    String volumeNamePrefix,
    int workers,
    Connector connector,
    AttachMode attachMode,
    Duration availableTimeout,
    Duration resyncPeriod,
    Duration baseBackoff,
    Duration maxBackoff,
    int maxSizeGiB,
    Duration orphanSweepInterval,
    Duration orphanGracePeriod,
    OrphanMode orphanMode) {

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

  /** What the {@link OrphanSweeper} does with a volume no claim and no PV owns. */
  public enum OrphanMode {
    /** Log it and count it in {@code standalone_cinder_orphan_volumes}; an admin decides. */
    REPORT,
    /** Take back its export, delete it and the Secrets made for its PV. */
    DELETE
  }

  public static final Duration DEFAULT_ORPHAN_SWEEP_INTERVAL = Duration.ofMinutes(10);
  public static final Duration DEFAULT_ORPHAN_GRACE_PERIOD = Duration.ofHours(1);

  /** Without orphan sweeper settings: sweeps every 10 minutes, reporting orphans older than an hour. */
  public ProvisionerSettings(String provisionerName, String identity, String namespace, List<String> clusterIds,
      String volumeNamePrefix, int workers, Connector connector, AttachMode attachMode, Duration availableTimeout,
      Duration resyncPeriod, Duration baseBackoff, Duration maxBackoff, int maxSizeGiB) {
    this(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers, connector, attachMode,
        availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB, DEFAULT_ORPHAN_SWEEP_INTERVAL,
        DEFAULT_ORPHAN_GRACE_PERIOD, OrphanMode.REPORT);
  }

  public ProvisionerSettings {
    Objects.requireNonNull(provisionerName, "provisionerName");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(connector, "connector");
    identity = identity == null || identity.isBlank() ? provisionerName : identity;
    clusterIds = clusterIds == null ? List.of() : List.copyOf(new LinkedHashSet<>(clusterIds));
    if (clusterIds.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("a cluster id must not be blank");
    }
    orphanSweepInterval = orphanSweepInterval == null ? Duration.ZERO : orphanSweepInterval;
    orphanGracePeriod = orphanGracePeriod == null ? DEFAULT_ORPHAN_GRACE_PERIOD : orphanGracePeriod;
    orphanMode = orphanMode == null ? OrphanMode.REPORT : orphanMode;
    if (orphanSweepInterval.isNegative() || orphanGracePeriod.isNegative()) {
      throw new IllegalArgumentException("orphan sweep interval and grace period must not be negative");
    }
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1, got " + workers);
    }
  }

  /** This cluster's own id: the tag new volumes get. */
  public String clusterId() {
    if (clusterIds.isEmpty()) {
      throw new IllegalStateException("the cluster id is not resolved yet (ClusterIdentity.resolve)");
    }
    return clusterIds.get(0);
  }

  public static ProvisionerSettings defaults(String namespace, Connector connector) {
    return new ProvisionerSettings(DEFAULT_PROVISIONER_NAME, null, namespace, List.of("kubernetes"), "pvc-", 4,
        connector, AttachMode.AUTO, Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofSeconds(1),
        Duration.ofMinutes(5), 65536);
  }

  public ProvisionerSettings withClusterIds(List<String> ids) {
    return new ProvisionerSettings(provisionerName, identity, namespace, ids, volumeNamePrefix, workers, connector,
        attachMode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }

  public ProvisionerSettings withWorkers(int n) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, n, connector,
        attachMode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }

  public ProvisionerSettings withBackoff(Duration base, Duration max) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers,
        connector, attachMode, availableTimeout, resyncPeriod, base, max, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }

  public ProvisionerSettings withAvailableTimeout(Duration timeout) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers,
        connector, attachMode, timeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }

  public ProvisionerSettings withAttachMode(AttachMode mode) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers,
        connector, mode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }

  public ProvisionerSettings withOrphanSweeper(Duration interval, Duration gracePeriod, OrphanMode mode) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers,
        connector, attachMode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB, interval,
        gracePeriod, mode);
  }

  /** These settings for a cloud whose exports name {@code c}: its connector, and the PVs' initiatorName. */
  public ProvisionerSettings withConnector(Connector c) {
    return new ProvisionerSettings(provisionerName, identity, namespace, clusterIds, volumeNamePrefix, workers,
        c, attachMode, availableTimeout, resyncPeriod, baseBackoff, maxBackoff, maxSizeGiB,
        orphanSweepInterval, orphanGracePeriod, orphanMode);
  }
}
