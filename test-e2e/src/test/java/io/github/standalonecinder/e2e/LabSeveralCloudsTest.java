package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab's real Cinder through its two APIs at once, as two clouds of one provisioner: the default cloud is the
 * second, noauth cinder-api that keystone mode runs, the cloud "keystone" the Keystone-protected one, with its own
 * connector. A claim of each binds in its own cloud, data written through each PV's own target and CHAP Secret
 * reads back, and each volume is deleted through the cloud its PV records, after the classes are gone. Skipped,
 * saying why, without a keystone-mode lab.
 */
class LabSeveralCloudsTest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    lab = LabCluster.require("LabSeveralCloudsTest", false, "CINDER_NOAUTH_SECOND_ENDPOINT");
  }

  @Test
  void theNoauthApiAndTheKeystoneApiAreTwoCloudsOfOneProvisioner() throws Exception {
    String keystoneSection = lab.cloudConf(true).replaceFirst("^\\[Global]", "[Global \"keystone\"]");
    String conf = "[Global]\ncinder-endpoint = " + lab.get("CINDER_NOAUTH_SECOND_ENDPOINT") + "\ntenant-id = "
        + lab.get("CINDER_PROJECT_ID") + "\n\n" + keystoneSection
        + "connector-initiator = iqn.2004-10.com.example:e2e-node-b\nconnector-host = e2e-node-b\n";
    try (LabCluster cluster = LabCluster.startWith(lab, dir, conf, "e2e-clouds-")) {
      Path keystoneOnly = dir.resolve("keystone.conf");
      Files.writeString(keystoneOnly, lab.cloudConf(true));
      CinderGateway viaKeystone = CinderGateways.connect(CloudConfig.load(Optional.of(keystoneOnly), Map.of()),
          GatewayOptions.defaults());
      MockApiServer api = cluster.api;
      String type = lab.get("CINDER_VOLUME_TYPE");
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("noauth").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", type)).withReclaimPolicy("Delete").build()).create();
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("keystone").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", type, "cloud", "keystone")).withReclaimPolicy("Delete").build()).create();
      PersistentVolumeClaim a = claim(api, "via-noauth", "noauth");
      PersistentVolumeClaim b = claim(api, "via-keystone", "keystone");
      await().atMost(Duration.ofMinutes(2)).until(() -> cluster.pv(a) != null && cluster.pv(b) != null);
      PersistentVolume pvA = cluster.pv(a);
      PersistentVolume pvB = cluster.pv(b);
      assertThat(pvA.getMetadata().getAnnotations()).doesNotContainKey("standalone-cinder.openstack.org/cloud");
      assertThat(pvB.getMetadata().getAnnotations()).containsEntry("standalone-cinder.openstack.org/cloud",
          "keystone");
      assertThat(pvA.getSpec().getIscsi().getInitiatorName()).isEqualTo("iqn.2004-10.com.example:e2e-node");
      assertThat(pvB.getSpec().getIscsi().getInitiatorName()).isEqualTo("iqn.2004-10.com.example:e2e-node-b");
      String idB = pvB.getMetadata().getAnnotations().get("cinderVolumeId");
      assertThat(viaKeystone.getVolume(idB).orElseThrow().attachments()).singleElement()
          .satisfies(att -> assertThat(att.hostName()).isEqualTo("e2e-node-b"));

      for (PersistentVolume pv : new PersistentVolume[] {pvA, pvB}) {
        String lun = cluster.lun(pv);
        assertThat(LabCinderE2ETest.Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 4096 4096", lun).exit()).isZero();
        assertThat(LabCinderE2ETest.Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x5a 4096 4096", lun).exit())
            .as("data read back through " + pv.getMetadata().getName() + "'s own target and CHAP Secret").isZero();
      }

      api.client.storage().v1().storageClasses().delete();
      api.client.persistentVolumeClaims().inNamespace("default").delete();
      String idA = pvA.getMetadata().getAnnotations().get("cinderVolumeId");
      await().atMost(Duration.ofMinutes(2)).until(() -> cluster.cinder.getVolume(idA).isEmpty()
          && viaKeystone.getVolume(idB).isEmpty());
      assertThat(cluster.provisioner.isAlive()).isTrue();
    }
  }

  private static PersistentVolumeClaim claim(MockApiServer api, String name, String storageClass) {
    return api.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).endMetadata().withNewSpec().withStorageClassName(storageClass)
        .withAccessModes("ReadWriteOnce").withVolumeMode("Block").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
  }
}
