package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topology on the real Cinder (issue 17): the lab has two iSCSI backends in two availability zones ({@code nova}
 * and {@code lab-zone-2}, Cinder's {@code backend_availability_zone}). A WaitForFirstConsumer claim per zone, each on
 * a node of that zone: each volume is made in its node's AZ (one through the identity, one through a zone map) and
 * each PV is pinned to the nodes that reach it. Runs on the noauth lab; skipped, saying why, otherwise.
 */
class LabTopologyTest {
  private static final String LABEL = "topology.kubernetes.io/zone";
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findLab() {
    lab = LabCluster.require("LabTopologyTest", true, "CINDER_AVAILABILITY_ZONE_2");
  }

  @Test
  void eachClaimsVolumeIsMadeInItsNodesAzAndItsPvIsPinnedThere() throws Exception {
    String az1 = lab.get("CINDER_AVAILABILITY_ZONE");
    String az2 = lab.get("CINDER_AVAILABILITY_ZONE_2");
    try (LabCluster cluster = LabCluster.start(lab, dir, "e2e-topology-", "--topology", "zones", "--topology-zone",
        az2 + "=rack-2,rack-3")) {
      MockApiServer api = cluster.api;
      CinderGateway cinder = cluster.cinder;
      api.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").addToLabels(LABEL, az1)
          .endMetadata().build()).create();
      api.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-b")
          .addToLabels(LABEL, "rack-2").endMetadata().build()).create();
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("zoned").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete")
          .withVolumeBindingMode("WaitForFirstConsumer").build()).create();
      PersistentVolumeClaim a = claim(api, "on-a", "node-a");
      PersistentVolumeClaim b = claim(api, "on-b", "node-b");
      for (PersistentVolumeClaim c : List.of(a, b)) {
        await().atMost(Duration.ofMinutes(2)).until(() -> cluster.pv(c) != null);
      }
      assertThat(volume(cinder, cluster.pv(a)).availabilityZone()).isEqualTo(az1);
      assertThat(pinnedTo(cluster.pv(a))).containsExactly(az1);
      assertThat(volume(cinder, cluster.pv(b)).availabilityZone()).isEqualTo(az2);
      assertThat(pinnedTo(cluster.pv(b))).containsExactly("rack-2", "rack-3");
      System.out.printf("lab topology: claim on node-a (zone %s) -> volume in %s; claim on node-b (zone rack-2) "
          + "-> volume in %s, PV pinned to %s%n", az1, volume(cinder, cluster.pv(a)).availabilityZone(),
          volume(cinder, cluster.pv(b)).availabilityZone(), pinnedTo(cluster.pv(b)));

      for (PersistentVolumeClaim c : List.of(a, b)) {
        String id = cluster.pv(c).getMetadata().getAnnotations().get("cinderVolumeId");
        api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).delete();
        await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(id).map(v -> v.hasStatus("deleting"))
            .orElse(true));
      }
    }
  }

  private static PersistentVolumeClaim claim(MockApiServer api, String name, String node) {
    return api.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).addToAnnotations("volume.kubernetes.io/selected-node", node).endMetadata()
        .withNewSpec().withStorageClassName("zoned").withAccessModes("ReadWriteOnce").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
  }

  private static CinderVolume volume(CinderGateway cinder, PersistentVolume pv) {
    return cinder.getVolume(pv.getMetadata().getAnnotations().get("cinderVolumeId")).orElseThrow();
  }

  private static List<String> pinnedTo(PersistentVolume pv) {
    return pv.getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms().get(0).getMatchExpressions().get(0)
        .getValues();
  }
}
