package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioner jar as a process against the Fabric8 CRUD mock API server and a real Cinder (the lab of
 * {@code test-e2e/lab/}), down to the data path: the PV's portal, IQN and LUN with the CHAP Secret's credentials
 * log in to the real iSCSI target, and a block written there reads back. Skipped, with the reason printed, when
 * no lab is up.
 */
class LabCinderE2ETest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    Optional<Lab> found = Lab.find();
    if (found.isEmpty()) {
      System.out.println("SKIP LabCinderE2ETest: " + Lab.whyMissing());
    }
    Assumptions.assumeTrue(found.isPresent(), Lab.whyMissing());
    lab = found.get();
  }

  private Path conf(String text) throws IOException {
    Path p = dir.resolve("cloud.conf");
    Files.writeString(p, text);
    return p;
  }

  @Test
  void checkPrintsTheRealVersionDocument() throws Exception {
    List<String> confs = new ArrayList<>(List.of(lab.cloudConf(false)));
    if (lab.keystone()) {
      confs.add(lab.applicationCredentialConf());
    } else {
      confs.add(lab.cloudConf(true));
    }
    for (String text : confs) {
      var result = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(90), "check", "--cloud-config",
          conf(text).toString());
      assertThat(result.exitCode()).as(result.output()).isZero();
      assertThat(result.output()).contains("API version: v3, microversions 3.0 to " + lab.get("CINDER_MAX_MICROVERSION"))
          .contains("  " + lab.get("CINDER_VOLUME_TYPE") + "  id=")
          .contains("  " + lab.get("CINDER_MULTIATTACH_VOLUME_TYPE") + "  id=").contains("multiattach")
          .contains("  nova");
      assertThat(result.output()).doesNotContain(lab.keystone() ? lab.get("OS_PASSWORD") : "password =");
    }
  }

  @Test
  void claimsBindAndThePvLogsInToTheRealTarget() throws Exception {
    Path conf = conf(lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    String clusterId = "e2e-" + System.nanoTime();
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
            "kube-system", "--metrics-address", "", "--cluster-id", clusterId,
            "--connector-initiator", "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node")) {
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("lab").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"), "fsType", "ext4"))
          .withReclaimPolicy("Delete").build()).create();
      List<PersistentVolumeClaim> claims = List.of(claim(api, "fs", null), claim(api, "raw", "Block"));
      try {
        await().atMost(Duration.ofSeconds(120)).until(() -> claims.stream().allMatch(c -> bound(api, c)));
      } catch (RuntimeException e) {
        throw new AssertionError("claims not bound; provisioner output:\n" + p.output(), e);
      }

      byte pattern = 0x5a;
      for (PersistentVolumeClaim c : claims) {
        PersistentVolume pv = api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
        String volumeId = pv.getMetadata().getAnnotations().get("cinderVolumeId");
        CinderVolume volume = cinder.getVolume(volumeId).orElseThrow();
        assertThat(volume.name()).isEqualTo("pvc-" + c.getMetadata().getUid());
        assertThat(volume.status()).isEqualTo("in-use");
        assertThat(volume.volumeType()).isEqualTo(lab.get("CINDER_VOLUME_TYPE"));
        assertThat(volume.metadata()).containsEntry("standalone-cinder.openstack.org/pvc-name",
            c.getMetadata().getName()).containsEntry("standalone-cinder.openstack.org/pv-name",
            pv.getMetadata().getName());

        var iscsi = pv.getSpec().getIscsi();
        assertThat(iscsi.getTargetPortal()).isEqualTo(lab.get("ISCSI_PORTAL"));
        assertThat(iscsi.getIqn()).contains(volumeId);
        assertThat(iscsi.getInitiatorName()).isEqualTo("iqn.2004-10.com.example:e2e-node");
        assertThat(iscsi.getChapAuthSession()).isTrue();
        Secret chap = api.client.secrets().inNamespace(iscsi.getSecretRef().getNamespace())
            .withName(iscsi.getSecretRef().getName()).get();
        String user = decode(chap, "node.session.auth.username");
        String pass = decode(chap, "node.session.auth.password");

        // Exactly what kubelet would use: portal, IQN, LUN from the PV; credentials from the Secret.
        String host = iscsi.getTargetPortal().replaceFirst(":3260$", "");
        String target = "iscsi://" + user + "%" + pass + "@" + host + "/" + iscsi.getIqn();
        String lun = target + "/" + iscsi.getLun();
        // iscsi-inq logs in to this one target (iscsi-ls -s would try every target the portal lists).
        Tool inquiry = Tool.run("iscsi-inq", lun);
        assertThat(inquiry.exit()).as(inquiry.output()).isZero();
        String p1 = String.format("0x%02x", pattern);
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P " + p1 + " 8192 4096", lun).exit()).isZero();
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P " + p1 + " 8192 4096", lun).exit())
            .as("the block written reads back").isZero();
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x01 8192 4096", lun).exit())
            .as("a different pattern does not").isNotZero();
        assertThat(Tool.run("iscsi-inq", "iscsi://" + user + "%wrong" + pass + "@" + host + "/" + iscsi.getIqn()
            + "/" + iscsi.getLun()).exit()).as("a wrong CHAP password is refused").isNotZero();
        pattern++;
      }
      assertThat(api.client.persistentVolumes().withName("pvc-" + claims.get(1).getMetadata().getUid()).get()
          .getSpec().getVolumeMode()).isEqualTo("Block");

      List<String> ids = claims.stream().map(c -> api.client.persistentVolumes()
          .withName("pvc-" + c.getMetadata().getUid()).get().getMetadata().getAnnotations().get("cinderVolumeId"))
          .toList();
      for (var c : claims) {
        api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).delete();
      }
      await().atMost(Duration.ofSeconds(120)).until(() -> api.client.persistentVolumes().list().getItems().isEmpty()
          && ids.stream().allMatch(id -> cinder.getVolume(id).isEmpty()));
      assertThat(api.client.secrets().inNamespace("kube-system").list().getItems()).isEmpty();
      assertThat(p.isAlive()).isTrue();
    } finally {
      removeLeftovers(cinder, clusterId);
    }
  }

  /** The lab outlives the test: a failed run must not leave volumes (and iSCSI targets) for the next one. */
  private static void removeLeftovers(CinderGateway cinder, String clusterId) {
    for (CinderVolume v : cinder.listVolumes(Map.of("standalone-cinder.openstack.org/cluster", clusterId))) {
      try {
        cinder.listAttachments(v.id()).forEach(a -> cinder.deleteAttachment(a.id()));
        cinder.deleteVolume(v.id());
        System.out.println("removed leftover Cinder volume " + v.id());
      } catch (RuntimeException e) {
        System.out.println("could not remove leftover Cinder volume " + v.id() + ": " + e.getMessage());
      }
    }
  }

  @Test
  void rbdConnectionInfoOfTheRealCinderMapsToAPv() throws Exception {
    Assumptions.assumeTrue("1".equals(lab.env().get("CINDER_RBD_AVAILABLE")),
        "the lab has no Ceph/RBD backend (start it with LAB_CEPH=1): " + lab.env().get("CINDER_RBD_AVAILABLE"));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf(lab.cloudConf(true))), Map.of()),
        GatewayOptions.defaults());
    var connector = new io.github.standalonecinder.mappers.Connector("e2e-node", "127.0.0.1",
        "iqn.2004-10.com.example:e2e-node", List.of(), List.of(), false, "x86_64", "linux2");
    String id = cinder.createVolume(new io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest(
        "rbd-e2e-" + System.nanoTime(), 1, lab.get("CINDER_RBD_VOLUME_TYPE"), null, null, Map.of(), null, null)).id();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> cinder.getVolume(id).orElseThrow().hasStatus("available"));
      var attachment = cinder.createAttachment(id, connector, "e2e-node");
      var info = attachment.connectionInfo();
      assertThat(info.driverVolumeType()).isEqualTo("rbd");
      var mapper = io.github.standalonecinder.mappers.VolumeMapperRegistry.defaults().forConnection(info);
      var inTree = mapper.map(info, new io.github.standalonecinder.mappers.MappingRequest("pvc-rbd-e2e", "default",
          "c", "rbd", "kube-system", Map.of("cephx-secret-name", "ceph-client"), connector, false, null));
      var rbd = inTree.source().getRbd();
      String[] poolImage = String.valueOf(info.data().get("name")).split("/", 2);
      assertThat(rbd.getPool()).isEqualTo(poolImage[0]);
      assertThat(rbd.getImage()).isEqualTo(poolImage[1]).contains(id);
      assertThat(rbd.getUser()).isEqualTo(info.data().get("auth_username"));
      assertThat(rbd.getMonitors()).isNotEmpty().allMatch(m -> m.matches(".+:\\d+"));
      assertThat(rbd.getSecretRef().getName()).isEqualTo("ceph-client");
      var csi = mapper.map(info, new io.github.standalonecinder.mappers.MappingRequest("pvc-rbd-e2e", "default", "c",
          "rbd", "kube-system", Map.of("rbd-mode", "csi", "csi-cluster-id", "lab-ceph", "cephx-secret-name",
              "ceph-client"), connector, false, null)).source().getCsi();
      assertThat(csi.getDriver()).isEqualTo("rbd.csi.ceph.com");
      assertThat(csi.getVolumeAttributes()).containsEntry("pool", poolImage[0]).containsEntry("clusterID", "lab-ceph");
      cinder.deleteAttachment(attachment.id());
    } finally {
      cinder.listAttachments(id).forEach(a -> cinder.deleteAttachment(a.id()));
      await().atMost(Duration.ofSeconds(60)).until(() -> cinder.getVolume(id).orElseThrow().hasStatus("available"));
      cinder.deleteVolume(id);
    }
  }

  private static PersistentVolumeClaim claim(MockApiServer api, String name, String volumeMode) {
    return api.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).endMetadata().withNewSpec().withStorageClassName("lab")
        .withVolumeMode(volumeMode).withAccessModes("ReadWriteOnce").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
  }

  private static boolean bound(MockApiServer api, PersistentVolumeClaim c) {
    var latest = api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).get();
    return latest.getStatus() != null && "Bound".equals(latest.getStatus().getPhase());
  }

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  /** A command's exit code and output. */
  record Tool(int exit, String output) {
    static Tool run(String... cmd) throws IOException, InterruptedException {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Tool(-1, out + "\n(timed out)");
      }
      return new Tool(p.exitValue(), out);
    }
  }
}
