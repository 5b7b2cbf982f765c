package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClassBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VolumeAttributesClass on the real Cinder (issue 19): a bound, exported claim asks for a class whose {@code type}
 * is the lab's second type; the provisioner retypes the volume in place, it stays in use, and the claim's status
 * and the PV name the new class. Runs on the lab (either auth mode); skipped, saying why, otherwise.
 */
class LabModifyTest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    Optional<Lab> found = Lab.find();
    String why = found.isEmpty() ? Lab.whyMissing() : !hasSecondType(found.get())
        ? "the lab has one volume type on its iSCSI backend (rerun up.sh)" : null;
    if (why != null) {
      System.out.println("SKIP LabModifyTest: " + why);
    }
    Assumptions.assumeTrue(why == null, why);
    lab = found.get();
  }

  private static boolean hasSecondType(Lab lab) {
    try {
      return !lab.get("CINDER_VOLUME_TYPE_2").isBlank();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  @Test
  void anExportedVolumeIsRetypedByItsClaimsVolumeAttributesClass() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
            "kube-system", "--metrics-address", "", "--cluster-id", "e2e-vac-" + System.nanoTime(),
            "--connector-initiator", "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node")) {
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("std").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete").build())
          .create();
      api.client.resources(VolumeAttributesClass.class).resource(new VolumeAttributesClassBuilder()
          .withNewMetadata().withName("gold").endMetadata().withDriverName("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE_2"))).build()).create();
      PersistentVolumeClaim claim = api.client.persistentVolumeClaims().inNamespace("default").resource(
          new PersistentVolumeClaimBuilder().withNewMetadata().withName("db").endMetadata().withNewSpec()
              .withStorageClassName("std").withAccessModes("ReadWriteOnce").withNewResources()
              .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
      await().atMost(Duration.ofMinutes(2)).until(() -> pv(api, claim) != null && latest(api).getStatus() != null
          && "Bound".equals(latest(api).getStatus().getPhase()));
      String id = pv(api, claim).getMetadata().getAnnotations().get("cinderVolumeId");
      assertThat(cinder.getVolume(id).orElseThrow().volumeType()).isEqualTo(lab.get("CINDER_VOLUME_TYPE"));

      api.client.persistentVolumeClaims().inNamespace("default").withName("db").edit(c ->
          new PersistentVolumeClaimBuilder(c).editSpec().withVolumeAttributesClassName("gold").endSpec().build());
      long t0 = System.nanoTime();
      await().atMost(Duration.ofMinutes(2)).until(() -> "gold".equals(latest(api).getStatus()
          .getCurrentVolumeAttributesClassName()));
      var v = cinder.getVolume(id).orElseThrow();
      assertThat(v.volumeType()).isEqualTo(lab.get("CINDER_VOLUME_TYPE_2"));
      assertThat(v.status()).as("still exported").isEqualTo("in-use");
      assertThat(pv(api, claim).getSpec().getVolumeAttributesClassName()).isEqualTo("gold");
      assertThat(latest(api).getStatus().getModifyVolumeStatus()).isNull();
      System.out.printf("lab retype: %s -> %s while in-use, claim status after %d ms%n",
          lab.get("CINDER_VOLUME_TYPE"), v.volumeType(), (System.nanoTime() - t0) / 1_000_000);
      api.client.persistentVolumeClaims().inNamespace("default").withName("db").delete();
      await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(id).isEmpty());
    }
  }

  private static PersistentVolumeClaim latest(MockApiServer api) {
    return api.client.persistentVolumeClaims().inNamespace("default").withName("db").get();
  }

  private static PersistentVolume pv(MockApiServer api, PersistentVolumeClaim c) {
    return api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }
}
