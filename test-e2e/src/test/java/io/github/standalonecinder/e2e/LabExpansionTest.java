package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.e2e.LabCinderE2ETest.Tool;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expansion on the real Cinder (issue 19): a 1 GiB Block claim, exported, grows to 2 GiB; through the PV's own
 * target and CHAP Secret the LUN then reads 2 GiB, the data written before the resize reads back, and a block past
 * the old end can be written and read. Runs on the lab (either auth mode); skipped, saying why, otherwise.
 */
class LabExpansionTest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    lab = LabCluster.require("LabExpansionTest", false);
  }

  @Test
  void anExportedBlockClaimGrowsAndItsTargetShowsTheNewSize() throws Exception {
    try (LabCluster cluster = LabCluster.start(lab, dir, "e2e-grow-")) {
      MockApiServer api = cluster.api;
      CinderGateway cinder = cluster.cinder;
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("growable").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete")
          .withAllowVolumeExpansion(true).build()).create();
      PersistentVolumeClaim claim = api.client.persistentVolumeClaims().inNamespace("default").resource(
          new PersistentVolumeClaimBuilder().withNewMetadata().withName("grow").endMetadata().withNewSpec()
              .withStorageClassName("growable").withAccessModes("ReadWriteOnce").withVolumeMode("Block")
              .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build())
          .create();
      await().atMost(Duration.ofMinutes(2)).until(() -> cluster.pv(claim) != null && capacity(api, claim) != null);
      String lun = cluster.lun(cluster.pv(claim));
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x3c 8192 4096", lun).exit()).isZero();
      assertThat(length(lun)).as("1 GiB before").isEqualTo(1L << 30);

      var userClaims = api.client.persistentVolumeClaims().inNamespace("default");
      Updates.update(userClaims.withName("grow"), userClaims::resource, c ->
          new PersistentVolumeClaimBuilder(c).editSpec().editResources().addToRequests("storage", new Quantity("2Gi"))
              .endResources().endSpec().build());
      long t0 = System.nanoTime();
      await().atMost(Duration.ofMinutes(2)).until(() -> "2Gi".equals(capacity(api, claim)));
      String id = cluster.pv(claim).getMetadata().getAnnotations().get("cinderVolumeId");
      assertThat(cinder.getVolume(id).orElseThrow().sizeGiB()).isEqualTo(2);
      assertThat(cinder.getVolume(id).orElseThrow().status()).as("still exported").isEqualTo("in-use");
      assertThat(cluster.pv(claim).getSpec().getCapacity().get("storage").toString()).isEqualTo("2Gi");
      // A new login through the PV's own target and CHAP Secret, as a node attaching it again would.
      assertThat(length(lun)).as("2 GiB through the target").isEqualTo(2L << 30);
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x3c 8192 4096", lun).exit())
          .as("the data written before").isZero();
      long pastOldEnd = (1L << 30) + (64L << 20);
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x4d " + pastOldEnd + " 4096", lun).exit())
          .isZero();
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x4d " + pastOldEnd + " 4096", lun).exit())
          .as("a block past the old end").isZero();
      System.out.printf("lab expansion: 1 -> 2 GiB while in-use, claim status 2Gi after %d ms; the LUN reads %d "
          + "bytes through the PV's target%n", (System.nanoTime() - t0) / 1_000_000, length(lun));

      api.client.persistentVolumeClaims().inNamespace("default").withName("grow").delete();
      await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(id).isEmpty());
    }
  }

  private static String capacity(MockApiServer api, PersistentVolumeClaim c) {
    var latest = api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).get();
    return latest.getStatus() == null || latest.getStatus().getCapacity() == null ? null
        : latest.getStatus().getCapacity().get("storage").toString();
  }

  /** The LUN's size in bytes as a fresh iSCSI login reports it (qemu-io's "length"). */
  private static long length(String lun) throws Exception {
    Tool t = Tool.run("qemu-io", "-f", "raw", "-c", "length", lun);
    assertThat(t.exit()).as(t.output()).isZero();
    String out = t.output().trim();
    String[] parts = out.split("\\s+");
    double n = Double.parseDouble(parts[0]);
    String unit = parts.length > 1 ? parts[1] : "";
    return (long) (n * switch (unit) {
      case "GiB" -> 1L << 30;
      case "MiB" -> 1L << 20;
      case "KiB" -> 1L << 10;
      default -> 1L;
    });
  }
}
