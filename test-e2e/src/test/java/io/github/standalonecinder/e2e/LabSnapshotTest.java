package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.e2e.LabCinderE2ETest.Tool;
import io.github.standalonecinder.provisioner.cinder.CinderBackup;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.controller.SnapshotApi;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.emulation.SnapshotCrds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VolumeSnapshots on the real Cinder (issue 18): the jar as a process, against a mock API server with the snapshot
 * CRDs and no snapshot-controller. A block written to an exported volume, a snapshot of it ({@code force}, it is
 * {@code in-use}), another block written after, a claim restored from the snapshot: through the restored volume's
 * own target and CHAP Secret the first block reads back and the later one does not. The same with a class of
 * {@code type: backup} when the lab runs cinder-backup ({@code LAB_BACKUP=1}), and the clear error when it does
 * not. Skipped, saying why, without a lab.
 */
class LabSnapshotTest {
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    Optional<Lab> found = Lab.find();
    if (found.isEmpty()) {
      System.out.println("SKIP LabSnapshotTest: " + Lab.whyMissing());
    }
    Assumptions.assumeTrue(found.isPresent(), Lab.whyMissing());
    lab = found.get();
  }

  private static boolean backupService() {
    return "1".equals(lab.env().get("CINDER_BACKUP_AVAILABLE"));
  }

  @Test
  void aSnapshotOfAnExportedVolumeRestoresItsDataThroughTheRestoredVolumesOwnTarget() throws Exception {
    snapshotAndRestore(false);
  }

  @Test
  void aBackupOfAnExportedVolumeRestoresItsDataThroughTheRestoredVolumesOwnTarget() throws Exception {
    Assumptions.assumeTrue(backupService(), "the lab runs no cinder-backup (up.sh with LAB_BACKUP=1 does)");
    snapshotAndRestore(true);
  }

  @Test
  void withoutCinderBackupATypeBackupSnapshotSaysSoAndCinderIsLeftAlone() throws Exception {
    Assumptions.assumeFalse(backupService(), "the lab runs cinder-backup");
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    String clusterId = "e2e-snap-" + System.nanoTime();
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      SnapshotCrds.install(api.client);
      try (ProvisionerProcess p = provisioner(api, conf, clusterId)) {
        storageClass(api);
        PersistentVolumeClaim source = claim(api, "source", null);
        awaitBound(api, source, p);
        String sourceId = pv(api, source).getMetadata().getAnnotations().get("cinderVolumeId");
        snapshotClass(api, true);
        var snapshots = api.client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace("default");
        GenericKubernetesResource vs = volumeSnapshot(api);
        await().atMost(Duration.ofMinutes(1)).until(() -> SnapshotApi.str(snapshots.withName("source-snap").get(),
            "status", "error", "message") != null);
        String error = SnapshotApi.str(snapshots.withName("source-snap").get(), "status", "error", "message");
        System.out.println("lab backup without cinder-backup: VolumeSnapshot error: " + error);
        assertThat(error).startsWith("Cinder has no backup service (cinder-backup is not running)");
        assertThat(SnapshotApi.at(snapshots.withName("source-snap").get(), "status", "readyToUse")).isEqualTo(false);
        assertThat(api.client.events().v1().events().inAnyNamespace().list().getItems()).anyMatch(e ->
            "SnapshotContentFailed".equals(e.getReason()) && "Warning".equals(e.getType())
                && e.getNote().startsWith("Cinder has no backup service"));
        assertThat(cinder.listSnapshots(Map.of("standalone-cinder.openstack.org/cluster", clusterId)))
            .as("no snapshot made").isEmpty();
        assertThat(cinder.findBackups("backup-" + vs.getMetadata().getUid(), Map.of())).as("no backup made")
            .isEmpty();
        assertThat(cinder.getVolume(sourceId).orElseThrow().status()).as("the volume left alone").isEqualTo("in-use");

        snapshots.withName("source-snap").delete();
        await().atMost(Duration.ofMinutes(1)).until(() -> snapshots.withName("source-snap").get() == null);
        api.client.persistentVolumeClaims().inNamespace("default").withName("source").delete();
        await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(sourceId).isEmpty());
        assertThat(p.isAlive()).isTrue();
      }
    } finally {
      removeLeftovers(cinder, clusterId, List.of());
    }
  }

  private void snapshotAndRestore(boolean backup) throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    String clusterId = "e2e-snap-" + System.nanoTime();
    List<String> backupNames = new ArrayList<>();
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      SnapshotCrds.install(api.client); // before the provisioner starts: it asks discovery once
      try (ProvisionerProcess p = provisioner(api, conf, clusterId)) {
        storageClass(api);
        PersistentVolumeClaim source = claim(api, "source", null);
        awaitBound(api, source, p);
        PersistentVolume sourcePv = pv(api, source);
        String sourceId = sourcePv.getMetadata().getAnnotations().get("cinderVolumeId");
        assertThat(cinder.getVolume(sourceId).orElseThrow().status()).isEqualTo("in-use");
        String sourceLun = lun(api, sourcePv);
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 8192 4096", sourceLun).exit()).isZero();

        snapshotClass(api, backup);
        var snapshots = api.client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace("default");
        GenericKubernetesResource vs = volumeSnapshot(api);
        backupNames.add("backup-" + vs.getMetadata().getUid());
        long asked = System.nanoTime();
        try {
          await().atMost(Duration.ofMinutes(backup ? 5 : 2)).until(() -> Boolean.TRUE.equals(SnapshotApi.at(
              snapshots.withName("source-snap").get(), "status", "readyToUse")));
        } catch (RuntimeException e) {
          throw new AssertionError("snapshot not ready; provisioner output:\n" + p.output(), e);
        }
        long readyMs = (System.nanoTime() - asked) / 1_000_000;
        GenericKubernetesResource content = api.client.genericKubernetesResources(SnapshotApi.CONTENTS)
            .withName(SnapshotApi.contentName(vs.getMetadata().getUid())).get();
        String snapshotId = SnapshotApi.str(content, "status", "snapshotHandle");
        if (backup) {
          assertThat(snapshotId).startsWith("backup:");
          CinderBackup b = cinder.getBackup(snapshotId.substring("backup:".length())).orElseThrow();
          assertThat(b.status()).isEqualTo("available");
          assertThat(b.volumeId()).isEqualTo(sourceId);
          assertThat(b.name()).isEqualTo("backup-" + vs.getMetadata().getUid());
          assertThat(b.metadata()).containsEntry("standalone-cinder.openstack.org/cluster", clusterId);
          assertThat(cinder.listSnapshots(Map.of("standalone-cinder.openstack.org/cluster", clusterId)))
              .as("the intermediate snapshot is deleted").allMatch(s -> "deleting".equals(s.status()));
        } else {
          CinderSnapshot snap = cinder.getSnapshot(snapshotId).orElseThrow();
          assertThat(snap.status()).isEqualTo("available");
          assertThat(snap.volumeId()).isEqualTo(sourceId);
          assertThat(snap.name()).isEqualTo("snapshot-" + vs.getMetadata().getUid());
          assertThat(snap.metadata()).containsEntry("standalone-cinder.openstack.org/cluster", clusterId);
        }
        assertThat(SnapshotApi.str(snapshots.withName("source-snap").get(), "status", "restoreSize"))
            .isEqualTo("1Gi");
        // Written after the snapshot: the restore must not see it.
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "write -P 0x6b 8192 4096", sourceLun).exit()).isZero();

        PersistentVolumeClaim restored = claim(api, "restored", "source-snap");
        long restoreAsked = System.nanoTime();
        awaitBound(api, restored, p, backup ? Duration.ofMinutes(5) : Duration.ofMinutes(2));
        long restoreMs = (System.nanoTime() - restoreAsked) / 1_000_000;
        PersistentVolume restoredPv = pv(api, restored);
        String restoredId = restoredPv.getMetadata().getAnnotations().get("cinderVolumeId");
        CinderVolume restoredVolume = cinder.getVolume(restoredId).orElseThrow();
        assertThat(restoredId).isNotEqualTo(sourceId);
        assertThat(restoredVolume.status()).isEqualTo("in-use");
        assertThat(restoredPv.getSpec().getIscsi().getIqn()).contains(restoredId).doesNotContain(sourceId);
        assertThat(restoredPv.getSpec().getIscsi().getSecretRef().getName())
            .isNotEqualTo(sourcePv.getSpec().getIscsi().getSecretRef().getName());
        String restoredLun = lun(api, restoredPv);
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x5a 8192 4096", restoredLun).exit())
            .as("the block written before the snapshot reads back through the restored volume").isZero();
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x6b 8192 4096", restoredLun).exit())
            .as("the block written after the snapshot does not").isNotZero();
        assertThat(Tool.run("qemu-io", "-f", "raw", "-c", "read -P 0x6b 8192 4096", sourceLun).exit())
            .as("the source has the later block").isZero();
        System.out.printf("lab snapshot: VolumeSnapshot ready in %d ms (Cinder %s of in-use volume %s); "
            + "restored claim Bound in %d ms (volume %s)%n", readyMs, snapshotId, sourceId, restoreMs, restoredId);

        snapshots.withName("source-snap").delete();
        await().atMost(Duration.ofMinutes(2)).until(() -> snapshots.withName("source-snap").get() == null
            && (backup ? cinder.getBackup(snapshotId.substring("backup:".length())).isEmpty()
                : cinder.getSnapshot(snapshotId).isEmpty()));
        for (String name : new String[] {"restored", "source"}) {
          api.client.persistentVolumeClaims().inNamespace("default").withName(name).delete();
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> api.client.persistentVolumes().list().getItems().isEmpty()
            && cinder.getVolume(sourceId).isEmpty() && cinder.getVolume(restoredId).isEmpty());
        assertThat(p.isAlive()).isTrue();
      }
    } finally {
      removeLeftovers(cinder, clusterId, backupNames);
    }
  }

  private ProvisionerProcess provisioner(MockApiServer api, Path conf, String clusterId) throws Exception {
    return ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
        api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
        "kube-system", "--metrics-address", "", "--cluster-id", clusterId,
        "--connector-initiator", "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node");
  }

  private static void storageClass(MockApiServer api) {
    api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
        .withName("lab").endMetadata().withProvisioner("openstack.org/standalone-cinder")
        .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete").build())
        .create();
  }

  private static void snapshotClass(MockApiServer api, boolean backup) {
    api.client.genericKubernetesResources(SnapshotApi.CLASSES).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotClass").withNewMetadata()
        .withName("cinder-snapshots").endMetadata()
        .addToAdditionalProperties("driver", "openstack.org/standalone-cinder")
        .addToAdditionalProperties("parameters", Map.of("type", backup ? "backup" : "snapshot"))
        .addToAdditionalProperties("deletionPolicy", "Delete").build()).create();
  }

  private static GenericKubernetesResource volumeSnapshot(MockApiServer api) {
    return api.client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace("default")
        .resource(new GenericKubernetesResourceBuilder()
            .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshot").withNewMetadata()
            .withName("source-snap").withNamespace("default").endMetadata()
            .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", "cinder-snapshots",
                "source", Map.of("persistentVolumeClaimName", "source"))).build()).create();
  }

  /**
   * The lab outlives the test: backups first (their snapshot cannot go while backed up), snapshots (Cinder keeps a
   * volume that has any), then volumes.
   */
  private static void removeLeftovers(CinderGateway cinder, String clusterId, List<String> backupNames) {
    for (String name : backupNames) {
      for (CinderBackup b : cinder.findBackups(name, Map.of())) {
        try {
          await().atMost(Duration.ofMinutes(5)).until(() -> cinder.getBackup(b.id())
              .map(x -> !"creating".equals(x.status())).orElse(true));
          cinder.deleteBackup(b.id());
          await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getBackup(b.id()).isEmpty());
          System.out.println("removed leftover Cinder backup " + b.id());
        } catch (RuntimeException e) {
          System.out.println("could not remove leftover Cinder backup " + b.id() + ": " + e.getMessage());
        }
      }
    }
    for (CinderSnapshot s : cinder.listSnapshots(Map.of("standalone-cinder.openstack.org/cluster", clusterId))) {
      try {
        cinder.deleteSnapshot(s.id());
        await().atMost(Duration.ofMinutes(1)).until(() -> cinder.getSnapshot(s.id()).isEmpty());
        System.out.println("removed leftover Cinder snapshot " + s.id());
      } catch (RuntimeException e) {
        System.out.println("could not remove leftover Cinder snapshot " + s.id() + ": " + e.getMessage());
      }
    }
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

  private static PersistentVolumeClaim claim(MockApiServer api, String name, String fromSnapshot) {
    PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder().withNewMetadata().withName(name)
        .endMetadata().withNewSpec().withStorageClassName("lab").withVolumeMode("Block")
        .withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage", new Quantity("1Gi"))
        .endResources().endSpec();
    if (fromSnapshot != null) {
      b.editSpec().withDataSource(new TypedLocalObjectReference(SnapshotApi.GROUP, "VolumeSnapshot", fromSnapshot))
          .endSpec();
    }
    return api.client.persistentVolumeClaims().inNamespace("default").resource(b.build()).create();
  }

  private static void awaitBound(MockApiServer api, PersistentVolumeClaim c, ProvisionerProcess p) {
    awaitBound(api, c, p, Duration.ofMinutes(2));
  }

  private static void awaitBound(MockApiServer api, PersistentVolumeClaim c, ProvisionerProcess p, Duration max) {
    try {
      await().atMost(max).until(() -> {
        var latest = api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName())
            .get();
        return latest.getStatus() != null && "Bound".equals(latest.getStatus().getPhase());
      });
    } catch (RuntimeException e) {
      String output;
      try {
        output = p.output();
      } catch (java.io.IOException io) {
        output = "(unreadable: " + io.getMessage() + ")";
      }
      throw new AssertionError(c.getMetadata().getName() + " not bound; provisioner output:\n" + output, e);
    }
  }

  private static PersistentVolume pv(MockApiServer api, PersistentVolumeClaim c) {
    return api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  /** The PV's LUN as kubelet would log in to it: portal, IQN, LUN from the PV, credentials from its Secret. */
  private static String lun(MockApiServer api, PersistentVolume pv) {
    var iscsi = pv.getSpec().getIscsi();
    Secret chap = api.client.secrets().inNamespace(iscsi.getSecretRef().getNamespace())
        .withName(iscsi.getSecretRef().getName()).get();
    String user = decode(chap, "node.session.auth.username");
    String pass = decode(chap, "node.session.auth.password");
    String host = iscsi.getTargetPortal().replaceFirst(":3260$", "");
    return "iscsi://" + user + "%" + pass + "@" + host + "/" + iscsi.getIqn() + "/" + iscsi.getLun();
  }

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }
}
