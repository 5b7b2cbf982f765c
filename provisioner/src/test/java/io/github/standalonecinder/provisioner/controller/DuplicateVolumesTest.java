package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several Cinder volumes for one claim (two replicas at once, or a create retried after a timeout): the volume a
 * saved PV names is the keeper and is never deleted; no volume is deleted before a PV is saved; once it is, the
 * others go. Against the CRUD mock API server and the Cinder simulator.
 */
@EnableKubernetesMockClient(crud = true)
class DuplicateVolumesTest {
  static KubernetesClient client;

  private CinderSimulator sim;
  private CinderGateway cinder;
  private final ExecutorService intentWriter = Executors.newSingleThreadExecutor();
  private ClaimProvisioner provisioner;
  private final ProvisionerSettings settings = ProvisionerSettings.defaults(ControllerHarness.NAMESPACE,
      ControllerHarness.CONNECTOR);

  @BeforeEach
  void setUp() throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start();
    cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(), Map.of("OS_CINDER_ENDPOINT",
        sim.endpoint())), GatewayOptions.defaults());
    client.persistentVolumeClaims().inAnyNamespace().delete();
    client.persistentVolumes().delete();
    provisioner = new ClaimProvisioner(client, cinder, new CinderExporter(cinder, settings.connector(),
        settings.attachMode()), VolumeMapperRegistry.defaults(), new SecretStore(client), settings, d -> { },
        intentWriter);
  }

  @AfterEach
  void tearDown() {
    intentWriter.shutdownNow();
    sim.close();
  }

  @Test
  void withoutAPvTheOldestIsUsedAndTheOthersGoOnlyOnceThePvIsSaved() throws Exception {
    PersistentVolumeClaim claim = claim("twins");
    CinderVolume older = volumeFor(claim);
    CinderVolume newer = volumeFor(claim);

    var exported = provisioner.export(claim, plan(claim)).orElseThrow();
    assertThat(exported.volumeId()).isEqualTo(older.id());
    assertThat(liveIds()).as("nothing deleted before a PV names one").contains(older.id(), newer.id());

    PersistentVolume pv = provisioner.save(exported);
    provisioner.deleteDuplicates(exported, pv);
    assertThat(Annotations.cinderVolumeId(pv)).isEqualTo(older.id());
    assertThat(liveIds()).containsExactly(older.id());
  }

  @Test
  void aPvSavedAlreadyNamesTheKeeperEvenIfItIsNotTheOldest() throws Exception {
    PersistentVolumeClaim claim = claim("saved-elsewhere");
    CinderVolume older = volumeFor(claim);
    CinderVolume newer = volumeFor(claim);
    client.persistentVolumes().resource(pvNaming(claim, newer.id())).create();

    var exported = provisioner.export(claim, plan(claim)).orElseThrow();
    assertThat(exported.saved()).isTrue();
    assertThat(exported.volumeId()).isEqualTo(newer.id());
    assertThat(sim.volume(older.id()).status()).as("the PV's volume is not exported again").isEqualTo("available");

    provisioner.deleteDuplicates(exported, provisioner.save(exported));
    assertThat(liveIds()).containsExactly(newer.id());
  }

  @Test
  void aPvSavedByAnotherReplicaMeanwhileWinsAndOurVolumeGoes() throws Exception {
    PersistentVolumeClaim claim = claim("raced");
    var exported = provisioner.export(claim, plan(claim)).orElseThrow();
    CinderVolume theirs = volumeFor(claim);
    // The other replica saves its PV between our export and our save: our create meets a 409.
    client.persistentVolumes().resource(pvNaming(claim, theirs.id())).create();

    PersistentVolume pv = provisioner.save(exported);
    provisioner.deleteDuplicates(exported, pv);
    assertThat(Annotations.cinderVolumeId(pv)).isEqualTo(theirs.id());
    assertThat(liveIds()).containsExactly(theirs.id());
    assertThat(client.persistentVolumes().withName(plan(claim).pvName()).get().getMetadata().getAnnotations())
        .containsEntry(Annotations.CINDER_VOLUME_ID, theirs.id());
  }

  @Test
  void aCreateCarriedOutLateIsFoundByTheFreshLookUpThatFinishesTheClaim() throws Exception {
    PersistentVolumeClaim claim = claim("late");
    var exported = provisioner.export(claim, plan(claim)).orElseThrow();
    PersistentVolume pv = provisioner.save(exported);
    provisioner.deleteDuplicates(exported, pv);
    // A create that had timed out on our side lands now; the claim still holds our intent (a retry or a restart).
    CinderVolume late = volumeFor(claim);
    PersistentVolumeClaim held = client.persistentVolumeClaims().inNamespace("ns").withName("late").get();
    assertThat(ClaimIntent.holds(held)).isTrue();

    provisioner.finish(held, pv);
    assertThat(liveIds()).containsExactly(exported.volumeId()).doesNotContain(late.id());
    assertThat(ClaimIntent.holds(client.persistentVolumeClaims().inNamespace("ns").withName("late")
        .get())).isFalse();
  }

  @Test
  void aDuplicateThatCannotGoYetKeepsTheIntentAndIsRetried() throws Exception {
    PersistentVolumeClaim claim = claim("stubborn");
    CinderVolume older = volumeFor(claim);
    CinderVolume newer = volumeFor(claim);
    var exported = provisioner.export(claim, plan(claim)).orElseThrow();
    PersistentVolume pv = provisioner.save(exported);
    sim.faults().failNext(1, "DELETE", "/volumes/" + newer.id() + "$", 500);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> provisioner.deleteDuplicates(exported, pv))
        .isInstanceOf(ProvisioningException.class).hasMessageContaining(newer.id());
    assertThat(liveIds()).contains(newer.id());

    provisioner.finish(client.persistentVolumeClaims().inNamespace("ns").withName("stubborn").get(), pv);
    assertThat(liveIds()).containsExactly(older.id());
  }

  private List<String> liveIds() {
    return sim.volumes().stream().filter(v -> !"deleting".equals(v.status())).map(SimVolume::id).toList();
  }

  private PersistentVolumeClaim claim(String name) {
    return client.persistentVolumeClaims().inNamespace("ns").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).withNamespace("ns").endMetadata()
        .withNewSpec().withStorageClassName("sc").endSpec().build()).create();
  }

  /** A volume of the claim's name and our cluster tag, as another replica (or a retried create) makes it. */
  private CinderVolume volumeFor(PersistentVolumeClaim claim) throws InterruptedException {
    Thread.sleep(20); // distinct created_at
    return cinder.createVolume(new VolumeCreateRequest(plan(claim).volumeName(), 1, null, null, null,
        Map.of(Annotations.META_CLUSTER, settings.clusterId(), Annotations.META_CLAIM_UID,
            claim.getMetadata().getUid()), null, null));
  }

  private static PersistentVolume pvNaming(PersistentVolumeClaim claim, String volumeId) {
    return new PersistentVolumeBuilder().withNewMetadata().withName("pvc-" + claim.getMetadata().getUid())
        .addToAnnotations(Annotations.CINDER_VOLUME_ID, volumeId).endMetadata()
        .withNewSpec().withNewClaimRef().withNamespace("ns").withName(claim.getMetadata().getName())
        .withUid(claim.getMetadata().getUid()).endClaimRef().addToCapacity("storage",
            new io.fabric8.kubernetes.api.model.Quantity("1Gi")).withAccessModes("ReadWriteOnce")
        .withNewIscsi().withTargetPortal("10.0.0.1:3260").withIqn("iqn.2010-10.org.openstack:x").withLun(0)
        .endIscsi().endSpec().build();
  }

  private static ProvisionPlan plan(PersistentVolumeClaim claim) {
    return new ProvisionPlan("pvc-" + claim.getMetadata().getUid(), "pvc-" + claim.getMetadata().getUid(), 1, null,
        null, Map.of(), ControllerHarness.NAMESPACE, null, List.of("ReadWriteOnce"), "Filesystem", false, "Delete", null,
        "sc", Map.of(), null, null, null, null);
  }
}
