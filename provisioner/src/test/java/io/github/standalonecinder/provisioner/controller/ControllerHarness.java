package io.github.standalonecinder.provisioner.controller;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.kube.Updates;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The real controller against the Fabric8 CRUD mock API server and the Cinder simulator, with a stand-in for
 * kube-controller-manager's PV binder. One per test; {@link #close()} stops everything it started.
 */
final class ControllerHarness implements AutoCloseable {
  static final String NAMESPACE = "kube-system";
  static final Connector CONNECTOR = new Connector("node-pool", "10.1.2.3", "iqn.2004-10.com.example:k8s",
      List.of("10000090fa0d6754"), List.of(), false, "x86_64", "linux2");

  /** The User-Agent of the controller's requests, which tells them from the test's and the binder's. */
  static final String CONTROLLER_AGENT = "controller-under-test";

  final KubernetesClient kube;
  private final KubernetesClient controllerKube;
  final CinderSimulator sim;
  final CinderGateway cinder;
  final ProvisionerSettings settings;
  private final Topology topology;
  private final PersistentVolumeBinder binder;
  ProvisionController controller;
  /** The meters of the controller started last. */
  SimpleMeterRegistry registry;

  ControllerHarness(KubernetesClient kube, CinderSimulator sim, CinderGateway cinder,
      UnaryOperator<ProvisionerSettings> tweak) throws InterruptedException {
    this(kube, sim, cinder, tweak, Topology.OFF);
  }

  ControllerHarness(KubernetesClient kube, CinderSimulator sim, CinderGateway cinder,
      UnaryOperator<ProvisionerSettings> tweak, Topology topology) throws InterruptedException {
    this.topology = topology;
    this.kube = kube;
    this.controllerKube = new KubernetesClientBuilder().withConfig(new ConfigBuilder(kube.getConfiguration())
        .withUserAgent(CONTROLLER_AGENT).build()).build();
    this.sim = sim;
    this.cinder = cinder;
    this.settings = tweak.apply(ProvisionerSettings.defaults(NAMESPACE, CONNECTOR)
        .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
        .withAvailableTimeout(Duration.ofSeconds(5)));
    this.binder = new PersistentVolumeBinder(kube).start();
    startController(cinder);
  }

  void startController(CinderGateway gateway) throws InterruptedException {
    registry = new SimpleMeterRegistry();
    controller = new ProvisionController(controllerKube, gateway, VolumeMapperRegistry.defaults(), settings,
        topology, new ControllerMetrics(registry), "test");
    controller.start();
  }

  /** A controller serving several clouds ({@link Clouds}); stop the one running first. */
  void startController(Clouds clouds) throws InterruptedException {
    registry = new SimpleMeterRegistry();
    controller = new ProvisionController(controllerKube, clouds, VolumeMapperRegistry.defaults(), settings,
        topology, new ControllerMetrics(registry), "test");
    controller.start();
  }

  void stopController() {
    controller.close();
  }

  StorageClass storageClass(String name, Map<String, String> params, String reclaim, String bindingMode) {
    return kube.storage().v1().storageClasses().resource(new StorageClassBuilder()
        .withNewMetadata().withName(name).endMetadata()
        .withProvisioner(settings.provisionerName())
        .withParameters(params)
        .withReclaimPolicy(reclaim)
        .withVolumeBindingMode(bindingMode)
        .build()).createOr(existing -> existing.update());
  }

  PersistentVolumeClaim claim(String ns, String name, String storageClass, String size,
      UnaryOperator<PersistentVolumeClaimBuilder> tweak) {
    PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
        .withNewSpec()
          .withStorageClassName(storageClass)
          .withAccessModes("ReadWriteOnce")
          .withNewResources().addToRequests("storage", new Quantity(size)).endResources()
        .endSpec();
    return kube.persistentVolumeClaims().inNamespace(ns).resource(tweak.apply(b).build()).create();
  }

  PersistentVolumeClaim awaitBound(PersistentVolumeClaim claim) {
    await().atMost(Duration.ofSeconds(40)).until(() -> {
      PersistentVolumeClaim c = get(claim);
      return c != null && c.getStatus() != null && "Bound".equals(c.getStatus().getPhase());
    });
    return get(claim);
  }

  PersistentVolumeClaim get(PersistentVolumeClaim claim) {
    return kube.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace())
        .withName(claim.getMetadata().getName()).get();
  }

  /**
   * Changes the claim as a user would: on the latest copy, again when the binder or the controller wrote it in
   * between (a plain edit would fail with 409 then).
   */
  void editClaim(String namespace, String name, UnaryOperator<PersistentVolumeClaim> change) {
    var claims = kube.persistentVolumeClaims().inNamespace(namespace);
    Updates.update(claims.withName(name), claims::resource, change);
  }

  PersistentVolume pvOf(PersistentVolumeClaim claim) {
    return kube.persistentVolumes().withName("pvc-" + claim.getMetadata().getUid()).get();
  }

  List<Event> events(PersistentVolumeClaim claim, String reason) {
    return kube.events().v1().events().inNamespace(claim.getMetadata().getNamespace()).list().getItems().stream()
        .filter(e -> e.getRegarding() != null && claim.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  Event awaitEvent(PersistentVolumeClaim claim, String reason) {
    await().atMost(Duration.ofSeconds(20)).until(() -> !events(claim, reason).isEmpty());
    return events(claim, reason).get(0);
  }

  void deleteClaim(PersistentVolumeClaim claim) {
    kube.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace())
        .withName(claim.getMetadata().getName()).delete();
  }

  @Override
  public void close() {
    controller.close();
    controllerKube.close();
    binder.close();
    wipe();
  }

  /** The mock API server lives as long as the test class: leave nothing for the next test's controller. */
  private void wipe() {
    for (PersistentVolumeClaim c : kube.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
      var r = kube.persistentVolumeClaims().inNamespace(c.getMetadata().getNamespace())
          .withName(c.getMetadata().getName());
      r.edit(x -> {
        x.getMetadata().setFinalizers(List.of());
        return x;
      });
      r.delete();
    }
    for (PersistentVolume pv : kube.persistentVolumes().list().getItems()) {
      var r = kube.persistentVolumes().withName(pv.getMetadata().getName());
      r.edit(x -> {
        x.getMetadata().setFinalizers(List.of());
        return x;
      });
      r.delete();
    }
    kube.storage().v1().storageClasses().delete();
    kube.secrets().inAnyNamespace().delete();
    kube.events().v1().events().inAnyNamespace().delete();
  }
}
