package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.e2e.LabCinderE2ETest.Tool;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderAttachment;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adoption on the real Cinder (issue 19): a volume made outside Kubernetes, with data written to it through its
 * own export, is adopted by a claim; the data reads back through the new PV's target and CHAP Secret, and deleting
 * the claim (reclaim Retain) leaves the volume in Cinder. Runs on the lab (either auth mode); skipped otherwise.
 */
class LabAdoptionTest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    lab = LabCluster.require("LabAdoptionTest", false);
  }

  @Test
  void anAdoptedVolumeKeepsItsDataAndOutlivesItsClaim() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    String id = cinder.createVolume(new VolumeCreateRequest("legacy-" + System.nanoTime(), 1,
        lab.get("CINDER_VOLUME_TYPE"), null, null, Map.of("owner", "legacy-app"), null, null)).id();
    try {
      await().atMost(Duration.ofMinutes(1)).until(() -> cinder.getVolume(id).orElseThrow().hasStatus("available"));
      // Its former user writes through an export of its own, then lets it go.
      Connector legacy = new Connector("legacy-host", "127.0.0.1", "iqn.2004-10.com.example:legacy", List.of(),
          List.of(), false, null, null);
      CinderAttachment a = cinder.createAttachment(id, legacy, "legacy-host");
      cinder.completeAttachment(a.id());
      var d = a.connectionInfo().data();
      String before = "iscsi://" + d.get("auth_username") + "%" + d.get("auth_password") + "@"
          + String.valueOf(d.get("target_portal")).replaceFirst(":3260$", "") + "/" + d.get("target_iqn") + "/"
          + d.get("target_lun");
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x6b 16384 4096", before).exit()).isZero();
      cinder.deleteAttachment(a.id());
      await().atMost(Duration.ofMinutes(1)).until(() -> cinder.getVolume(id).orElseThrow().hasStatus("available"));

      try (LabCluster cluster = LabCluster.start(lab, dir, "e2e-adopt-")) {
        MockApiServer api = cluster.api;
        api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
            .withName("adopting").endMetadata().withProvisioner("openstack.org/standalone-cinder")
            .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"), "adopt-namespaces", "default"))
            .withReclaimPolicy("Delete").build()).create();
        PersistentVolumeClaim claim = api.client.persistentVolumeClaims().inNamespace("default").resource(
            new PersistentVolumeClaimBuilder().withNewMetadata().withName("legacy")
                .addToAnnotations("standalone-cinder.openstack.org/adopt-volume-id", id).endMetadata().withNewSpec()
                .withStorageClassName("adopting").withAccessModes("ReadWriteOnce").withVolumeMode("Block")
                .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build())
            .create();
        await().atMost(Duration.ofMinutes(2)).until(() -> cluster.pv(claim) != null);
        PersistentVolume pv = cluster.pv(claim);
        assertThat(pv.getMetadata().getAnnotations()).containsEntry("cinderVolumeId", id);
        assertThat(pv.getSpec().getPersistentVolumeReclaimPolicy()).isEqualTo("Retain");
        String lun = cluster.lun(pv);
        // (Cinder's LVM driver keeps one CHAP pair per volume: the same credentials, now from our Secret.)
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x6b 16384 4096", lun).exit())
            .as("the data written before adoption, through the PV's own target and Secret").isZero();
        System.out.println("lab adoption: volume " + id + " adopted; data written before reads back through "
            + pv.getSpec().getIscsi().getIqn());

        api.client.persistentVolumeClaims().inNamespace("default").withName("legacy").delete();
        Thread.sleep(3_000);
        assertThat(cinder.getVolume(id)).as("Retain: the volume outlives its claim").isPresent();
      }
    } finally {
      for (var att : cinder.listAttachments(id)) {
        cinder.deleteAttachment(att.id());
      }
      await().atMost(Duration.ofMinutes(1)).until(() -> cinder.getVolume(id).map(v -> !v.hasStatus("in-use")
          && !v.hasStatus("detaching")).orElse(true));
      cinder.deleteVolume(id);
    }
  }

}
