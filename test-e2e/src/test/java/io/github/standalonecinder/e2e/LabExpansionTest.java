package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.e2e.LabCinderE2ETest.Tool;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
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
    Optional<Lab> found = Lab.find();
    if (found.isEmpty()) {
      System.out.println("SKIP LabExpansionTest: " + Lab.whyMissing());
    }
    Assumptions.assumeTrue(found.isPresent(), Lab::whyMissing);
    lab = found.get();
  }

  @Test
  void anExportedBlockClaimGrowsAndItsTargetShowsTheNewSize() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
            "kube-system", "--metrics-address", "", "--cluster-id", "e2e-grow-" + System.nanoTime(),
            "--connector-initiator", "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node")) {
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("growable").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete")
          .withAllowVolumeExpansion(true).build()).create();
      PersistentVolumeClaim claim = api.client.persistentVolumeClaims().inNamespace("default").resource(
          new PersistentVolumeClaimBuilder().withNewMetadata().withName("grow").endMetadata().withNewSpec()
              .withStorageClassName("growable").withAccessModes("ReadWriteOnce").withVolumeMode("Block")
              .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build())
          .create();
      await().atMost(Duration.ofMinutes(2)).until(() -> pv(api, claim) != null && capacity(api, claim) != null);
      String lun = lun(api, pv(api, claim));
      assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x3c 8192 4096", lun).exit()).isZero();
      assertThat(length(lun)).as("1 GiB before").isEqualTo(1L << 30);

      api.client.persistentVolumeClaims().inNamespace("default").withName("grow").edit(c ->
          new PersistentVolumeClaimBuilder(c).editSpec().editResources().addToRequests("storage", new Quantity("2Gi"))
              .endResources().endSpec().build());
      long t0 = System.nanoTime();
      await().atMost(Duration.ofMinutes(2)).until(() -> "2Gi".equals(capacity(api, claim)));
      String id = pv(api, claim).getMetadata().getAnnotations().get("cinderVolumeId");
      assertThat(cinder.getVolume(id).orElseThrow().sizeGiB()).isEqualTo(2);
      assertThat(cinder.getVolume(id).orElseThrow().status()).as("still exported").isEqualTo("in-use");
      assertThat(pv(api, claim).getSpec().getCapacity().get("storage").toString()).isEqualTo("2Gi");
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

  private static PersistentVolume pv(MockApiServer api, PersistentVolumeClaim c) {
    return api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  private static String capacity(MockApiServer api, PersistentVolumeClaim c) {
    var latest = api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).get();
    return latest.getStatus() == null || latest.getStatus().getCapacity() == null ? null
        : latest.getStatus().getCapacity().get("storage").toString();
  }

  private static String lun(MockApiServer api, PersistentVolume pv) {
    var iscsi = pv.getSpec().getIscsi();
    Secret chap = api.client.secrets().inNamespace(iscsi.getSecretRef().getNamespace())
        .withName(iscsi.getSecretRef().getName()).get();
    String user = decode(chap, "node.session.auth.username");
    String pass = decode(chap, "node.session.auth.password");
    return "iscsi://" + user + "%" + pass + "@" + iscsi.getTargetPortal().replaceFirst(":3260$", "") + "/"
        + iscsi.getIqn() + "/" + iscsi.getLun();
  }

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
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
