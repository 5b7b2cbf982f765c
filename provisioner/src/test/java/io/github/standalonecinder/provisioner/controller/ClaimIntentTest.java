package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Recording the intent is where a claim read from a stale informer cache must be caught: once the finalizer is on,
 * a deletion is seen and cleaned up; before it, a claim that is already gone would get a volume nobody owns.
 */
@EnableKubernetesMockClient(crud = true)
class ClaimIntentTest {
  static KubernetesClient client;

  private final CinderGateway cinder = mock(CinderGateway.class);
  /** The intent is written on a thread of its own, as in the controller. */
  private final ExecutorService intentWriter = Executors.newSingleThreadExecutor();
  private ClaimProvisioner provisioner;

  @BeforeEach
  void setUp() {
    client.persistentVolumeClaims().inAnyNamespace().delete();
    ProvisionerSettings settings = ProvisionerSettings.defaults(ControllerHarness.NAMESPACE,
        ControllerHarness.CONNECTOR);
    provisioner = new ClaimProvisioner(client, cinder, mock(CinderExporter.class), VolumeMapperRegistry.defaults(),
        new SecretStore(client), settings, d -> {}, intentWriter);
  }

  @AfterEach
  void tearDown() {
    intentWriter.shutdownNow();
  }

  private static ProvisionPlan plan(PersistentVolumeClaim claim) {
    return new ProvisionPlan("pvc-" + claim.getMetadata().getUid(), "pvc-" + claim.getMetadata().getUid(), 1, null,
        null, Map.of(), ControllerHarness.NAMESPACE, null, List.of("ReadWriteOnce"), "Filesystem", false, "Delete", null,
        "sc", Map.of(), null, null, null, null);
  }

  @Test
  void cinderCreatesNothingBeforeTheIntentIsSaved() {
    PersistentVolumeClaim claim = create("ordered", List.of());
    AtomicReference<PersistentVolumeClaim> atCreate = new AtomicReference<>();
    // The lookup answers at once; the create looks at the claim as the API server has it, then fails.
    when(cinder.createVolume(any())).thenAnswer(inv -> {
      atCreate.set(client.persistentVolumeClaims().inNamespace("ns").withName("ordered").get());
      throw new CinderException(CinderException.Kind.SERVER_ERROR, 500, "stop here");
    });

    assertThatThrownBy(() -> provisioner.export(claim, plan(claim))).isInstanceOf(ProvisioningException.class);

    verify(cinder).findVolumes(any(), any());
    assertThat(atCreate.get().getMetadata().getFinalizers()).contains(Annotations.CLAIM_FINALIZER);
    assertThat(atCreate.get().getMetadata().getAnnotations())
        .containsEntry(Annotations.CLAIM_PROVISIONING, plan(claim).pvName());
  }

  @Test
  void aClaimFoundGoneWhileCinderWasAskedGetsNoVolume() throws Exception {
    PersistentVolumeClaim cached = create("vanished", List.of());
    client.persistentVolumeClaims().inNamespace("ns").withName("vanished").delete();

    assertThat(provisioner.export(cached, plan(cached))).isEmpty();
    verify(cinder, never()).createVolume(any());
  }

  private PersistentVolumeClaim create(String name, List<String> finalizers) {
    return client.persistentVolumeClaims().inNamespace("ns").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).withNamespace("ns").withFinalizers(finalizers).endMetadata()
        .withNewSpec().withStorageClassName("sc").endSpec().build()).create();
  }

  @Test
  void aLiveClaimGetsTheFinalizerAndThePvName() {
    PersistentVolumeClaim claim = create("live", List.of());

    PersistentVolumeClaim held = provisioner.recordIntent(claim, "pvc-x").orElseThrow();

    assertThat(held.getMetadata().getFinalizers()).contains(Annotations.CLAIM_FINALIZER);
    assertThat(held.getMetadata().getAnnotations()).containsEntry(Annotations.CLAIM_PROVISIONING, "pvc-x");
    assertThat(client.persistentVolumeClaims().inNamespace("ns").withName("live").get().getMetadata()
        .getFinalizers()).contains(Annotations.CLAIM_FINALIZER);
  }

  @Test
  void aClaimDeletedSinceTheCacheSawItIsNotHeld() {
    PersistentVolumeClaim cached = create("gone", List.of());
    client.persistentVolumeClaims().inNamespace("ns").withName("gone").delete();

    assertThat(provisioner.recordIntent(cached, "pvc-x")).isEmpty();
    verifyNoInteractions(cinder);
  }

  @Test
  void aClaimReplacedByAnotherOfTheSameNameIsNotHeld() {
    PersistentVolumeClaim cached = create("reused", List.of());
    client.persistentVolumeClaims().inNamespace("ns").withName("reused").delete();
    PersistentVolumeClaim replacement = create("reused", List.of());

    assertThat(provisioner.recordIntent(cached, "pvc-x")).isEmpty();
    assertThat(client.persistentVolumeClaims().inNamespace("ns").withName("reused").get().getMetadata()
        .getFinalizers()).as("the new claim is not touched on the old one's behalf").isEmpty();
    assertThat(replacement.getMetadata().getUid()).isNotEqualTo(cached.getMetadata().getUid());
  }

  @Test
  void aClaimBeingDeletedGetsNoFinalizer() {
    // Another finalizer (kubernetes.io/pvc-protection on a real cluster) keeps it, terminating.
    PersistentVolumeClaim cached = create("terminating", List.of("example.com/hold"));
    client.persistentVolumeClaims().inNamespace("ns").withName("terminating").delete();
    assertThat(client.persistentVolumeClaims().inNamespace("ns").withName("terminating").get().getMetadata()
        .getDeletionTimestamp()).isNotNull();

    assertThat(provisioner.recordIntent(cached, "pvc-x")).isEmpty();
    assertThat(client.persistentVolumeClaims().inNamespace("ns").withName("terminating").get().getMetadata()
        .getFinalizers()).containsExactly("example.com/hold");
  }
}
