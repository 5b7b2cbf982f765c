package io.github.standalonecinder.cmd;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.OkHttpConnector;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.CloudSet;
import io.github.standalonecinder.provisioner.controller.Clouds;
import io.github.standalonecinder.provisioner.metrics.CloudStates;
import io.github.standalonecinder.provisioner.controller.ClusterIdentity;
import io.github.standalonecinder.provisioner.controller.EventRecorder;
import io.github.standalonecinder.provisioner.controller.FailoverRemapper;
import io.github.standalonecinder.provisioner.controller.ProvisionerEvents;
import io.github.standalonecinder.provisioner.controller.ProvisionController;
import io.github.standalonecinder.provisioner.kube.CompactSerialization;
import io.github.standalonecinder.provisioner.leader.Fence;
import io.github.standalonecinder.provisioner.leader.FencingInterceptor;
import io.github.standalonecinder.provisioner.leader.LeaseElector;
import io.github.standalonecinder.provisioner.leader.Leadership;
import io.github.standalonecinder.provisioner.leader.Replica;
import io.github.standalonecinder.provisioner.kube.RequestRateLimiter;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings;
import io.github.standalonecinder.provisioner.controller.Topology;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import io.github.standalonecinder.provisioner.metrics.StatusServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run the provisioner: watch claims of our StorageClasses and provision them from Cinder.")
final class RunCommand implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @Option(names = "--provisioner-name", defaultValue = "${env:PROVISIONER_NAME:-openstack.org/standalone-cinder}",
      description = "The StorageClass provisioner served (env PROVISIONER_NAME). Default: ${DEFAULT-VALUE}.")
  String provisionerName;

  @Option(names = "--identity", defaultValue = "${env:PROVISIONER_IDENTITY}",
      description = "Identity written on PVs; only PVs with this identity are deleted "
          + "(env PROVISIONER_IDENTITY). Default: the provisioner name, as the Go original.")
  String identity;

  @Option(names = "--kubeconfig", defaultValue = "${env:KUBECONFIG}",
      description = "kubeconfig file (env KUBECONFIG). Default: in-cluster configuration.")
  Path kubeconfig;

  @Mixin
  CloudOptions cloud;

  @Option(names = "--namespace", defaultValue = "${env:POD_NAMESPACE:-kube-system}",
      description = "The provisioner's namespace: Secrets and the leader Lease go here (env POD_NAMESPACE). "
          + "Default: ${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--workers", defaultValue = "${env:WORKERS:-64}",
      description = "The most claims and volumes in their Cinder work at once: how many are follows what each "
          + "cloud's Cinder sustains, from 16 up to this; a claim past it saves its PV beside them (env WORKERS). "
          + "Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(names = "--kube-api-qps", defaultValue = "150", description = "Kubernetes API requests per second, "
      + "after a burst. Default: ${DEFAULT-VALUE}.")
  double kubeApiQps;

  @Option(names = "--kube-api-burst", defaultValue = "300",
      description = "Kubernetes API requests sent at once before the QPS limit applies; also the most in flight. "
          + "Default: ${DEFAULT-VALUE}.")
  int kubeApiBurst;

  @Option(names = "--leader-elect", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Run only while holding the Lease named after the provisioner. Default: ${DEFAULT-VALUE}.")
  boolean leaderElect;

  @Option(names = "--leader-election-lease-duration", defaultValue = "15s", converter = DurationConverter.class,
      description = "Default: ${DEFAULT-VALUE}.")
  Duration leaseDuration;

  @Option(names = "--informer-failure-timeout", defaultValue = "1m", converter = DurationConverter.class,
      description = "How long the watch or LIST of claims, PVs or classes may keep failing before the process "
          + "exits (and hands its Lease to a standby). Default: ${DEFAULT-VALUE}.")
  Duration informerFailureTimeout;

  @Option(names = "--metrics-address", defaultValue = "${env:METRICS_ADDRESS:-:8080}",
      description = "Serve /metrics, /healthz and /readyz here; empty to disable (env METRICS_ADDRESS). "
          + "Default: ${DEFAULT-VALUE}.")
  String metricsAddress;

  @Option(names = "--volume-name-prefix", defaultValue = "pvc-",
      description = "Cinder volume name = prefix + claim UID. Default: ${DEFAULT-VALUE}.")
  String volumeNamePrefix;

  @Option(names = "--cluster-id", defaultValue = "${env:CLUSTER_ID}",
      description = "Tag on every Cinder volume, telling this cluster's volumes from others' (env CLUSTER_ID). "
          + "Default: the UID of the kube-system namespace (volumes tagged \"kubernetes\", the old default, are "
          + "then found too, and never deleted by the orphan sweeper).")
  String clusterId;

  @Option(names = "--attach-mode", defaultValue = "auto",
      description = "How volumes are exported: auto (attachments API when Cinder has microversion 3.44), "
          + "attachments, or legacy (os-reserve/os-initialize_connection/os-attach). Default: ${DEFAULT-VALUE}.")
  String attachMode;

  @Option(names = "--available-timeout", defaultValue = "5m", converter = DurationConverter.class,
      description = "How long a new volume may take to become available. Default: ${DEFAULT-VALUE}.")
  Duration availableTimeout;

  @Option(names = "--resync-period", defaultValue = "5m", converter = DurationConverter.class,
      description = "How often pending claims and released PVs are looked at again. Default: ${DEFAULT-VALUE}.")
  Duration resyncPeriod;

  @Option(names = "--max-size-gib", defaultValue = "65536",
      description = "Larger claims are refused. Default: ${DEFAULT-VALUE}.")
  int maxSizeGiB;

  @Option(names = "--orphan-sweep-interval", defaultValue = "10m", converter = DurationConverter.class,
      description = "How often to look for Cinder volumes of this cluster that no claim and no PV owns; 0s turns "
          + "the sweeper off. Default: ${DEFAULT-VALUE}.")
  Duration orphanSweepInterval;

  @Option(names = "--orphan-grace-period", defaultValue = "1h", converter = DurationConverter.class,
      description = "Volumes younger than this are never orphans. Default: ${DEFAULT-VALUE}.")
  Duration orphanGracePeriod;

  @Option(names = "--orphan-mode", defaultValue = "report",
      description = "report (log and metric standalone_cinder_orphan_volumes) or delete. Default: ${DEFAULT-VALUE}.")
  String orphanMode;

  @Option(names = "--cloud-config-reload-interval", defaultValue = "10s", converter = DurationConverter.class,
      description = "How often the cloud configuration files (cloud.conf, clouds.yaml, secure.yaml, the client "
          + "certificate and key) are read again; a valid change (rotated credentials) is used from the next Cinder call on, an invalid one is refused "
          + "with one log line, standalone_cinder_config_reloads_total{result=\"refused\"} and a Warning Event "
          + "CloudConfigRefused on the provisioner's Pod (POD_NAME) or Lease. 0s: never. "
          + "Default: ${DEFAULT-VALUE}.")
  Duration cloudConfigReloadInterval;

  @Mixin
  ConnectorOptions connector;

  @Option(names = "--remap-after-failover", defaultValue = "${env:REMAP_AFTER_FAILOVER:-false}",
      description = "Every --remap-interval, rebuild the PVs a Cinder replication failover or failback moved to "
          + "the other site, as the remap command does (env REMAP_AFTER_FAILOVER). Default: ${DEFAULT-VALUE}.")
  boolean remapAfterFailover;

  @Option(names = "--remap-interval", defaultValue = "1m", converter = DurationConverter.class,
      description = "How often --remap-after-failover looks. Default: ${DEFAULT-VALUE}.")
  Duration remapInterval;

  @Mixin
  TopologyOptions topology;

  ProvisionerSettings settings() {
    if (workers < 1 || workers > 1000) {
      throw UserError.input("--workers must be between 1 and 1000, got " + workers);
    }
    if (provisionerName == null || !provisionerName.matches("[a-zA-Z0-9]([-a-zA-Z0-9._/]*[a-zA-Z0-9])?")) {
      throw UserError.input("--provisioner-name \"" + provisionerName + "\" is not a valid provisioner name");
    }
    if (kubeApiQps <= 0 || kubeApiBurst < 1) {
      throw UserError.input("--kube-api-qps must be positive and --kube-api-burst at least 1");
    }
    if (leaseDuration.compareTo(Duration.ofSeconds(2)) < 0) {
      throw UserError.input("--leader-election-lease-duration must be at least 2s, got " + leaseDuration.toMillis()
          + "ms");
    }
    if (informerFailureTimeout.isNegative() || informerFailureTimeout.isZero()) {
      throw UserError.input("--informer-failure-timeout must be positive");
    }
    if (maxSizeGiB < 1) {
      throw UserError.input("--max-size-gib must be positive, got " + maxSizeGiB);
    }
    ProvisionerSettings.AttachMode mode = attachMode(attachMode);
    ProvisionerSettings.OrphanMode orphans;
    try {
      orphans = ProvisionerSettings.OrphanMode.valueOf(orphanMode.toUpperCase());
    } catch (IllegalArgumentException e) {
      throw UserError.input("--orphan-mode must be report or delete, got \"" + orphanMode + "\"");
    }
    if (orphanSweepInterval.isNegative() || orphanGracePeriod.isNegative()) {
      throw UserError.input("--orphan-sweep-interval and --orphan-grace-period must not be negative");
    }
    ClusterIdentity.refusal(clusterId, orphans).ifPresent(why -> { throw UserError.input(why); });
    positive("--available-timeout", availableTimeout);
    if (cloudConfigReloadInterval.isNegative()) {
      throw UserError.input("--cloud-config-reload-interval must not be negative");
    }
    positive("--resync-period", resyncPeriod);
    if (metricsAddress != null && !metricsAddress.isBlank()) {
      try {
        StatusServer.parseAddress(metricsAddress);
      } catch (IllegalArgumentException e) {
        throw UserError.input("--metrics-address \"" + metricsAddress + "\" is not an address such as :8080 or "
            + "127.0.0.1:8080 (" + e.getMessage() + ")");
      }
    }
    cloud.validateFlags();
    return new ProvisionerSettings(provisionerName, identity, namespace, ClusterIdentity.requested(clusterId),
        volumeNamePrefix, workers, connector.toConnector(), mode, availableTimeout, resyncPeriod,
        Duration.ofSeconds(1), Duration.ofMinutes(5), maxSizeGiB, orphanSweepInterval, orphanGracePeriod, orphans);
  }

  /** {@code --attach-mode}'s value, or one line saying what it may be. */
  static ProvisionerSettings.AttachMode attachMode(String value) {
    try {
      return ProvisionerSettings.AttachMode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw UserError.input("--attach-mode must be auto, attachments or legacy, got \"" + value + "\"");
    }
  }

  static void positive(String flag, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw UserError.input(flag + " must be positive, got " + d.toMillis() + "ms");
    }
  }

  private Config kubeConfig() {
    return kubeConfig(kubeconfig);
  }

  /** The kubeconfig file's configuration, or the in-cluster one without a file; a bad file is a UserError. */
  static Config kubeConfig(Path kubeconfig) {
    if (kubeconfig != null) {
      String text = CloudOptions.readable("--kubeconfig", kubeconfig);
      try {
        return Config.fromKubeconfig(null, text, kubeconfig.toString());
      } catch (RuntimeException e) {
        throw UserError.input("--kubeconfig " + kubeconfig + " is not a usable kubeconfig ("
            + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
      }
    }
    return Config.autoConfigure(null);
  }

  /** The controller's client: rate-limited, and every write checked against the fence. */
  private KubernetesClient kubernetes(Config base, Fence fence) {
    Config config = new ConfigBuilder(base).withMaxConcurrentRequests(kubeApiBurst).build();
    RequestRateLimiter limiter = new RequestRateLimiter(kubeApiQps, kubeApiBurst);
    return new KubernetesClientBuilder().withConfig(config)
        .withKubernetesSerialization(CompactSerialization.create())
        .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("qps", limiter)
            .addOrReplaceInterceptor(FencingInterceptor.NAME, new FencingInterceptor(fence))).build();
  }

  /**
   * The elector's own client (as client-go's controllers do): its renewals never wait behind the controller's
   * requests or rate limit, and a request that hangs gives up well within the renew deadline.
   */
  private static KubernetesClient electionClient(Config base, LeaseElector.Config lease) {
    int timeoutMillis = (int) Math.max(500, lease.renewDeadline().toMillis() / 2);
    Config config = new ConfigBuilder(base).withRequestTimeout(timeoutMillis).withConnectionTimeout(timeoutMillis)
        .withRequestRetryBackoffLimit(0).build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }


  /** The settings with this cluster's id: --cluster-id, or derived from the kube-system namespace's UID. */
  private static ProvisionerSettings withClusterId(ProvisionerSettings flags, KubernetesClient kube) {
    try {
      return ClusterIdentity.resolve(flags, kube);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }

  @Override
  public void run() {
    ProvisionerSettings flags = settings();
    positive("--remap-interval", remapInterval);
    Topology zones = topology.toTopology();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // jvm_threads_*: a thread count that grows with the request rate is a bug operators should be able to see.
    new JvmThreadMetrics().bindTo(registry);
    String identity = electionIdentity();
    LeaseElector.Config lease = LeaseElector.Config.of(flags.namespace(),
        flags.provisionerName().replaceAll("[^a-zA-Z0-9.-]", "-").toLowerCase(), identity, leaseDuration);
    // With election, every write to Cinder or Kubernetes passes this fence: none leaves a replica whose Lease is
    // not renewed within the renew deadline, even before it notices (a paused process, a slow API server).
    Leadership leadership = new Leadership(lease.renewDeadline());
    Fence fence = leaderElect ? leadership : Fence.OPEN;
    // Checked twice for Cinder: before each mutating gateway call, and again right before its request is sent.
    OkHttpConnector.setWriteGuard(what -> fence.check("Cinder " + what));
    // Every local input is checked before the first request to Cinder, Keystone or Kubernetes.
    Config kubeConfig = kubeConfig();
    CloudSet clouds = cloud.loadAll();
    // Rotated credentials: the files are read again every interval and a valid change replaces the gateway; a
    // refused one is also an Event on our Pod (or Lease). Its own client: a standby, fenced off, reports it too.
    ProvisionerEvents ownEvents = new ProvisionerEvents(new EventRecorder(new KubernetesClientBuilder()
        .withConfig(kubeConfig).build(), flags.provisionerName(), identity, Clock.systemUTC()),
        ProvisionerEvents.target(System.getenv(), flags.namespace(), leaderElect
            ? Optional.of(new ProvisionerEvents.LeaseName(lease.namespace(), lease.name())) : Optional.empty()));
    CloudStates cloudStates = new CloudStates(registry);
    Clouds cinder = CloudConnections.connect(clouds, cloud, flags.connector(), registry, cloudConfigReloadInterval,
        ownEvents, fence, cloudStates);
    KubernetesClient kube = kubernetes(kubeConfig, fence);
    ProvisionerSettings settings = withClusterId(flags, kube);
    ProvisionController controller = new ProvisionController(kube, cinder, VolumeMapperRegistry.defaults(),
        settings, zones, new ControllerMetrics(registry), identity).informerGiveUpAfter(informerFailureTimeout);
    Replica.Exit halt = status -> Runtime.getRuntime().halt(status);
    Replica replica = leaderElect
        ? Replica.elected(controller, leadership,
            listener -> new LeaseElector(electionClient(kubeConfig, lease), lease, leadership, listener), halt)
        : Replica.alone(controller, halt);
    if (remapAfterFailover) { // only the leading replica re-maps; its writes pass the fence like the controller's
      EventRecorder remapEvents = new EventRecorder(kube, settings.provisionerName(), identity, Clock.systemUTC());
      for (FailoverRemapper remapper : FailoverRemapper.forClouds(kube, cinder, VolumeMapperRegistry.defaults(),
          settings, remapEvents)) {
        remapper.every(remapInterval, false, replica::leading);
      }
    }
    // standalone_cinder_leader: summed over the replicas, 1 when one of them works; the alert on "none" reads it.
    ControllerMetrics.leader(registry, replica::leading);
    StatusServer status = null;
    if (metricsAddress != null && !metricsAddress.isBlank()) {
      try {
        status = new StatusServer(StatusServer.parseAddress(metricsAddress), registry, replica::ready,
            replica::failure, cloudStates::lines);
      } catch (IOException | IllegalArgumentException e) {
        throw new UserError("--metrics-address " + metricsAddress + ": " + e.getMessage());
      }
    }
    // One hook, so the order is fixed: the controller stops, then the Lease is handed back.
    StatusServer statusServer = status;
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      replica.close();
      if (statusServer != null) {
        statusServer.close();
      }
      stop.countDown();
    }, "shutdown"));
    replica.start();
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The pod name when there is one (the chart sets POD_NAME): a restarted container of the same pod then finds the
   * Lease under its own name and leads again at once. Elsewhere the host name and a random suffix, so two
   * processes on one machine are never taken for one.
   */
  private static String electionIdentity() {
    String pod = System.getenv("POD_NAME");
    if (pod != null && !pod.isBlank()) {
      return pod;
    }
    return hostName() + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "standalone-cinder";
    }
  }
}
