package io.github.standalonecinder.cmd;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.controller.Annotations;
import io.github.standalonecinder.provisioner.controller.Clouds;
import io.github.standalonecinder.provisioner.controller.ProvisionController;
import io.github.standalonecinder.provisioner.controller.Topology;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings;
import io.github.standalonecinder.provisioner.kube.CompactSerialization;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.emulation.SnapshotCrds;
import io.github.standalonecinder.simulator.SimSnapshot;
import io.github.standalonecinder.provisioner.controller.SnapshotApi;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the provisioner's whole job with no cluster and no cloud: an embedded Kubernetes API "
        + "(the Fabric8 CRUD mock server) and an embedded Cinder simulator.",
        "Applies the examples' StorageClass and claims, waits until they are Bound, prints the PVs, Secrets and "
            + "Cinder volumes made, snapshots a claim and restores the snapshot into a new claim, grows the claims to "
            + "2Gi, deletes it all and shows the volumes gone."})
final class DemoCommand implements Runnable {
  /** The shipped examples the demo applies, in order. */
  static final List<String> EXAMPLES = List.of("storageclass-iscsi.yaml", "claim-filesystem.yaml",
      "claim-block.yaml");
  /** Then: a snapshot of the claim "data", and a claim restored from it. */
  static final List<String> SNAPSHOT_EXAMPLES = List.of("volumesnapshotclass.yaml", "volumesnapshot.yaml");
  static final String RESTORE_EXAMPLE = "claim-restore.yaml";
  /** A class and a claim of a second cloud, served by a second simulator behind its Keystone. */
  static final List<String> SECOND_CLOUD_EXAMPLES = List.of("storageclass-second-cloud.yaml",
      "claim-second-cloud.yaml");
  static final String SECOND_CLOUD = "region-two";

  @Option(names = "--create-delay", defaultValue = "1s", converter = DurationConverter.class,
      description = "How long the simulated Cinder takes from creating to available. Default: ${DEFAULT-VALUE}.")
  Duration createDelay;

  @Option(names = "--timeout", defaultValue = "60s", converter = DurationConverter.class,
      description = "Give up when a phase takes longer. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  private final PrintStream out = System.out;
  /** Held so the setting is not collected: the mock server logs every request through java.util.logging. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  @Override
  public void run() {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    KubernetesMockServer apiServer = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    apiServer.init(InetAddress.getLoopbackAddress(), 0);
    Config mockConfig;
    try (KubernetesClient plain = apiServer.createClient()) {
      mockConfig = plain.getConfiguration();
    }
    // With the serialization `run` uses: it knows our kinds by name, which the examples are read by.
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(mockConfig)
        .withKubernetesSerialization(CompactSerialization.create()).build();
        CinderSimulator cinderSim = CinderSimulator.builder()
            .backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of())
            .createDelay(createDelay)
            .start();
        CinderSimulator secondSim = CinderSimulator.builder()
            .auth(SimulatorAuth.KEYSTONE).users(Map.of("demo", "demo-password")).projectName("demo")
            .backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of())
            .createDelay(createDelay)
            .start()) {
      step("Embedded Kubernetes API at " + kube.getMasterUrl() + ", Cinder simulator at " + cinderSim.endpoint()
          + " (the default cloud, noauth) and a second one behind its Keystone at " + secondSim.keystoneUrl()
          + " (cloud " + SECOND_CLOUD + ")");
      CinderGateway cinder = CloudOptions.connectNoauth(cinderSim.endpoint(), "admin", cinderSim.projectId());
      CinderGateway second = CloudOptions.connect(config(Map.of("OS_AUTH_URL", secondSim.keystoneUrl(),
          "OS_USERNAME", "demo", "OS_PASSWORD", "demo-password", "OS_USER_DOMAIN_NAME", "Default",
          "OS_PROJECT_NAME", "demo", "OS_PROJECT_DOMAIN_NAME", "Default")), GatewayOptions.defaults());
      ProvisionerSettings settings = ProvisionerSettings.defaults("kube-system", new Connector("demo-node",
          "127.0.0.1", "iqn.2004-10.org.example:demo-node", List.of(), List.of(), false, "x86_64", "linux2"));
      SnapshotCrds.install(kube); // as a cluster with the snapshot CRDs; no snapshot-controller runs here
      try (PersistentVolumeBinder binder = new PersistentVolumeBinder(kube).start();
          ProvisionController controller = new ProvisionController(kube, Clouds.of(List.of(
              new Clouds.Cloud("default", cinder, settings.connector()),
              new Clouds.Cloud(SECOND_CLOUD, second, SECOND_CONNECTOR))), VolumeMapperRegistry.defaults(),
              settings, Topology.OFF, new ControllerMetrics(new SimpleMeterRegistry()), "demo")) {
        controller.start();
        List<PersistentVolumeClaim> claims = apply(kube, EXAMPLES);
        claims.addAll(apply(kube, SECOND_CLOUD_EXAMPLES));
        if (claims.isEmpty()) {
          throw new UserError("the bundled examples held no PersistentVolumeClaim");
        }
        awaitOrFail("claims Bound", () -> claims.stream().allMatch(c -> isBound(kube, c)));
        step("All " + claims.size() + " claims are Bound. PersistentVolumes made:");
        for (PersistentVolumeClaim c : claims) {
          PersistentVolumeClaim latest = reload(kube, c);
          PersistentVolume pv = kube.persistentVolumes().withName(latest.getSpec().getVolumeName()).get();
          pv.getMetadata().setManagedFields(null);
          out.println(Serialization.asYaml(pv));
        }
        step("Secrets made (values redacted):");
        for (Secret s : kube.secrets().inNamespace(settings.namespace()).list().getItems()) {
          out.printf("  %s/%s  type=%s  keys=%s%n", s.getMetadata().getNamespace(), s.getMetadata().getName(),
              s.getType(), new TreeMap<>(s.getData()).keySet());
        }
        step("Cinder volumes (default cloud):");
        printVolumes(cinderSim.volumes());
        step("Cinder volumes (cloud " + SECOND_CLOUD + ", its PV annotated " + Annotations.CLOUD + "="
            + SECOND_CLOUD + ", exported to " + SECOND_CONNECTOR.initiator() + "):");
        printVolumes(secondSim.volumes());

        apply(kube, SNAPSHOT_EXAMPLES);
        var snapshots = kube.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace("default");
        awaitOrFail("VolumeSnapshot ready", () -> snapshots.withName("data-snapshot").get() != null
            && Boolean.TRUE.equals(SnapshotApi.at(snapshots.withName("data-snapshot").get(), "status",
                "readyToUse")));
        GenericKubernetesResource snapshot = snapshots.withName("data-snapshot").get();
        step("VolumeSnapshot default/data-snapshot is ready: " + SnapshotApi.map(snapshot, "status"));
        GenericKubernetesResource content = kube.genericKubernetesResources(SnapshotApi.CONTENTS)
            .withName(SnapshotApi.str(snapshot, "status", "boundVolumeSnapshotContentName")).get();
        step("Its VolumeSnapshotContent " + content.getMetadata().getName() + ": " + SnapshotApi.map(content,
            "status"));
        for (SimSnapshot s : cinderSim.snapshots()) {
          out.printf("  Cinder snapshot %s  %s  %s  of volume %s%n", s.id(), s.name(), s.status(), s.volumeId());
        }
        PersistentVolumeClaim restored = apply(kube, List.of(RESTORE_EXAMPLE)).get(0);
        claims.add(restored);
        awaitOrFail("restored claim Bound", () -> isBound(kube, restored));
        String restoredVolume = kube.persistentVolumes().withName(reload(kube, restored).getSpec().getVolumeName())
            .get().getMetadata().getAnnotations().get("cinderVolumeId");
        step("Claim default/data-restored is Bound to Cinder volume " + restoredVolume + ", made from snapshot "
            + cinderSim.volume(restoredVolume).snapshotId());

        step("Deleting the VolumeSnapshot (deletionPolicy Delete), then the claims");
        snapshots.withName("data-snapshot").delete();
        awaitOrFail("snapshot deleted", () -> cinderSim.snapshots().isEmpty()
            && snapshots.withName("data-snapshot").get() == null);

        grow(kube, claims);
        step("Cinder volumes after the resize:");
        printVolumes(cinderSim.volumes());
        printVolumes(secondSim.volumes());

        step("Deleting the claims");
        for (PersistentVolumeClaim c : claims) {
          kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace())
              .withName(c.getMetadata().getName()).delete();
        }
        awaitOrFail("volumes deleted", () -> cinderSim.volumes().isEmpty() && secondSim.volumes().isEmpty()
            && kube.persistentVolumes().list().getItems().isEmpty());
        step("Cinder volumes after delete:");
        printVolumes(cinderSim.volumes());
        printVolumes(secondSim.volumes());
        out.printf("  PersistentVolumes: %d, Secrets in %s: %d%n", kube.persistentVolumes().list().getItems().size(),
            settings.namespace(), kube.secrets().inNamespace(settings.namespace()).list().getItems().size());
        step("Demo finished: provisioned and deleted " + claims.size() + " volumes in 2 clouds, one restored from a "
            + "snapshot.");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("demo interrupted");
    } finally {
      apiServer.destroy();
    }
  }

  /**
   * Every claim asks for 2Gi: the volumes grow while exported; the Block claim is then done, the Filesystem claim
   * says how its file system is grown (kubelet does not on iSCSI).
   */
  private void grow(KubernetesClient kube, List<PersistentVolumeClaim> claims) throws InterruptedException {
    step("Growing every claim to 2Gi (the class allows volume expansion)");
    for (PersistentVolumeClaim c : claims) {
      // As `kubectl patch --type merge`: no resourceVersion, so the controller's own write right after the claim
      // bound (its intent record cleared) cannot make this one fail with a 409.
      kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace()).withName(c.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON_MERGE),
              "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}");
    }
    awaitOrFail("volumes grown", () -> claims.stream().allMatch(c -> {
      PersistentVolumeClaim latest = reload(kube, c);
      boolean block = "Block".equals(latest.getSpec().getVolumeMode());
      return block ? "2Gi".equals(String.valueOf(latest.getStatus().getCapacity().get("storage")))
          : latest.getStatus().getConditions() != null && latest.getStatus().getConditions().stream()
              .anyMatch(k -> "FileSystemResizePending".equals(k.getType()));
    }));
    for (PersistentVolumeClaim c : claims) {
      PersistentVolumeClaim latest = reload(kube, c);
      PersistentVolume pv = kube.persistentVolumes().withName(latest.getSpec().getVolumeName()).get();
      String mode = latest.getSpec().getVolumeMode() == null ? "Filesystem" : latest.getSpec().getVolumeMode();
      out.printf("  %s (%s): PV %s, claim status capacity %s%n", latest.getMetadata().getName(), mode,
          pv.getSpec().getCapacity().get("storage"),
          latest.getStatus().getCapacity().get("storage"));
      if (latest.getStatus().getConditions() != null) {
        latest.getStatus().getConditions().forEach(k -> out.printf("    condition %s: %s%n", k.getType(),
            k.getMessage()));
      }
    }
  }

  private static final Connector SECOND_CONNECTOR = new Connector("demo-node", "127.0.0.1",
      "iqn.2004-10.org.example:demo-node-storage-two", List.of(), List.of(), false, "x86_64", "linux2");

  private static CloudConfig config(Map<String, String> env) {
    try {
      return CloudConfig.load(Optional.empty(), env);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }

  private List<PersistentVolumeClaim> apply(KubernetesClient kube, List<String> examples) {
    List<PersistentVolumeClaim> claims = new ArrayList<>();
    for (String name : examples) {
      try (InputStream in = DemoCommand.class.getResourceAsStream("/examples/" + name)) {
        if (in == null) {
          throw new UserError("example " + name + " is missing from the jar");
        }
        for (HasMetadata o : kube.load(in).items()) {
          step("kubectl apply -f examples/" + name + "   # " + o.getKind() + " " + o.getMetadata().getName());
          if (o instanceof StorageClass sc) {
            kube.storage().v1().storageClasses().resource(sc).create();
          } else if (o instanceof PersistentVolumeClaim c) {
            claims.add(kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace()).resource(c)
                .create());
          } else if (o instanceof GenericKubernetesResource g && "VolumeSnapshotClass".equals(g.getKind())) {
            kube.genericKubernetesResources(SnapshotApi.CLASSES).resource(g).create();
          } else if (o instanceof GenericKubernetesResource g && "VolumeSnapshot".equals(g.getKind())) {
            kube.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(g.getMetadata().getNamespace())
                .resource(g).create();
          } else {
            throw new UserError("example " + name + " holds a " + o.getKind() + ", which the demo does not apply");
          }
        }
      } catch (IOException e) {
        throw new UserError("cannot read example " + name + ": " + e.getMessage());
      }
    }
    return claims;
  }

  private static PersistentVolumeClaim reload(KubernetesClient kube, PersistentVolumeClaim c) {
    return kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace())
        .withName(c.getMetadata().getName()).get();
  }

  private static boolean isBound(KubernetesClient kube, PersistentVolumeClaim c) {
    PersistentVolumeClaim latest = reload(kube, c);
    return latest != null && latest.getStatus() != null && "Bound".equals(latest.getStatus().getPhase());
  }

  private void printVolumes(List<SimVolume> volumes) {
    if (volumes.isEmpty()) {
      out.println("  (none)");
    }
    for (SimVolume v : volumes) {
      out.printf("  %s  %-44s %-9s %d GiB  type=%s%n", v.id(), v.name(), v.status(), v.size(), v.volumeType());
    }
  }

  private void awaitOrFail(String what, BooleanSupplier done) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!done.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new UserError("demo: " + what + " did not happen within " + timeout.toSeconds() + "s");
      }
      Thread.sleep(100);
    }
  }

  private void step(String message) {
    out.println("==> " + message);
  }
}
