package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass;
import io.fabric8.kubernetes.api.model.storage.VolumeAttributesClassBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
    lab = LabCluster.require("LabModifyTest", false, "CINDER_VOLUME_TYPE_2");
  }

  @Test
  void anExportedVolumeIsRetypedByItsClaimsVolumeAttributesClass() throws Exception {
    try (LabCluster cluster = LabCluster.start(lab, dir, "e2e-vac-")) {
      MockApiServer api = cluster.api;
      CinderGateway cinder = cluster.cinder;
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
      await().atMost(Duration.ofMinutes(2)).until(() -> cluster.pv(claim) != null && cluster.claim("db").getStatus() != null
          && "Bound".equals(cluster.claim("db").getStatus().getPhase()));
      String id = cluster.pv(claim).getMetadata().getAnnotations().get("cinderVolumeId");
      assertThat(cinder.getVolume(id).orElseThrow().volumeType()).isEqualTo(lab.get("CINDER_VOLUME_TYPE"));

      var userClaims = api.client.persistentVolumeClaims().inNamespace("default");
      Updates.update(userClaims.withName("db"), userClaims::resource, c ->
          new PersistentVolumeClaimBuilder(c).editSpec().withVolumeAttributesClassName("gold").endSpec().build());
      long t0 = System.nanoTime();
      await().atMost(Duration.ofMinutes(2)).until(() -> "gold".equals(cluster.claim("db").getStatus()
          .getCurrentVolumeAttributesClassName()));
      var v = cinder.getVolume(id).orElseThrow();
      assertThat(v.volumeType()).isEqualTo(lab.get("CINDER_VOLUME_TYPE_2"));
      assertThat(v.status()).as("still exported").isEqualTo("in-use");
      assertThat(cluster.pv(claim).getSpec().getVolumeAttributesClassName()).isEqualTo("gold");
      assertThat(cluster.claim("db").getStatus().getModifyVolumeStatus()).isNull();
      System.out.printf("lab retype: %s -> %s while in-use, claim status after %d ms%n",
          lab.get("CINDER_VOLUME_TYPE"), v.volumeType(), (System.nanoTime() - t0) / 1_000_000);
      api.client.persistentVolumeClaims().inNamespace("default").withName("db").delete();
      await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(id).isEmpty());
    }
  }

}
