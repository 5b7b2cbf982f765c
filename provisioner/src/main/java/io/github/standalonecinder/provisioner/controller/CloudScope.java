package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.AdaptiveCinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Everything of one cloud that talks to its Cinder: the planner, the provisioner, the deleter, the day-two steps,
 * the orphan sweeper and the snapshots, with the cloud's own connector and its own {@link SharedBackoff} (a rate
 * limit in one cloud slows that cloud's work only). {@link ProvisionController} routes each claim and PV to one.
 */
final class CloudScope implements AutoCloseable {
  final String name;
  final CinderExporter exporter;
  final ClaimPlanner planner;
  final ClaimProvisioner provisioner;
  final VolumeDeleter deleter;
  final VolumeExpander expander;
  final VolumeModifier modifier;
  final OrphanSweeper sweeper;
  final CinderSnapshots snapshots;

  CloudScope(Clouds.Cloud cloud, KubernetesClient kube, VolumeMapperRegistry mappers, ProvisionerSettings base,
      Topology topology, ControllerMetrics metrics, EventRecorder events, Executor sideThreads,
      ProvisionController caches, ClaimPlanner.RestoreSources restoreSources) {
    this.name = cloud.name();
    ProvisionerSettings settings = base.withConnector(cloud.connector());
    // a rate limit slows every worker of this cloud; the creates and deletes under way follow what it sustains
    AdaptiveCinderGateway pacing = new AdaptiveCinderGateway(base.workers());
    CinderGateway cinder = pacing.around(SharedBackoff.wrap(cloud.gateway()));
    metrics.cinderOperations(name, pacing::permits, pacing::inFlight);
    this.exporter = new CinderExporter(cinder, settings.connector(), settings.attachMode());
    SecretStore secretStore = new SecretStore(kube);
    ClaimProvisioner.Sleeper sleeper = d -> TimeUnit.MILLISECONDS.sleep(d.toMillis());
    this.snapshots = new CinderSnapshots(cinder, settings);
    this.planner = new ClaimPlanner(settings, mappers, cinder, caches::cachedPv, caches::cachedClaim, topology,
        caches::cachedNode, restoreSources, name);
    this.provisioner = new ClaimProvisioner(kube, cinder, exporter, mappers, secretStore, settings, sleeper,
        sideThreads, topology, metrics::volumeStuck);
    this.provisioner.namedByPv(caches::namedByPv);
    this.deleter = new VolumeDeleter(kube, cinder, exporter, mappers, secretStore, settings, sleeper);
    this.expander = new VolumeExpander(kube, cinder, events);
    this.modifier = new VolumeModifier(kube, cinder, events, settings.provisionerName());
    this.sweeper = new OrphanSweeper(kube, cinder, exporter, secretStore, settings, metrics.registry(),
        caches::cachedClaims, caches::cachedPvs, Clock.systemUTC(), name);
  }

  @Override
  public void close() {
    sweeper.close();
  }
}
