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
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
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
    Optional<Lab> found = Lab.find();
    String why = found.isEmpty() ? Lab.whyMissing()
        : found.get().keystone() ? "the lab runs behind Keystone; this test needs noauth"
        : !hasSecondZone(found.get()) ? "the lab has one availability zone (rerun up.sh)" : null;
    if (why != null) {
      System.out.println("SKIP LabTopologyTest: " + why);
    }
    Assumptions.assumeTrue(why == null, why);
    lab = found.get();
  }

  private static boolean hasSecondZone(Lab lab) {
    try {
      return !lab.get("CINDER_AVAILABILITY_ZONE_2").isBlank();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  @Test
  void eachClaimsVolumeIsMadeInItsNodesAzAndItsPvIsPinnedThere() throws Exception {
    String az1 = lab.get("CINDER_AVAILABILITY_ZONE");
    String az2 = lab.get("CINDER_AVAILABILITY_ZONE_2");
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      api.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").addToLabels(LABEL, az1)
          .endMetadata().build()).create();
      api.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-b").addToLabels(LABEL, "rack-2")
          .endMetadata().build()).create();
      try (ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
          api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
          "kube-system", "--metrics-address", "", "--cluster-id", "e2e-topology-" + System.nanoTime(),
          "--connector-initiator", "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node",
          "--topology", "zones", "--topology-zone", az2 + "=rack-2,rack-3")) {
        api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
            .withName("zoned").endMetadata().withProvisioner("openstack.org/standalone-cinder")
            .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete")
            .withVolumeBindingMode("WaitForFirstConsumer").build()).create();
        PersistentVolumeClaim a = claim(api, "on-a", "node-a");
        PersistentVolumeClaim b = claim(api, "on-b", "node-b");
        for (PersistentVolumeClaim c : List.of(a, b)) {
          await().atMost(Duration.ofMinutes(2)).until(() -> pv(api, c) != null);
        }
        assertThat(volume(cinder, pv(api, a)).availabilityZone()).isEqualTo(az1);
        assertThat(pinnedTo(pv(api, a))).containsExactly(az1);
        assertThat(volume(cinder, pv(api, b)).availabilityZone()).isEqualTo(az2);
        assertThat(pinnedTo(pv(api, b))).containsExactly("rack-2", "rack-3");
        System.out.printf("lab topology: claim on node-a (zone %s) -> volume in %s; claim on node-b (zone rack-2) "
            + "-> volume in %s, PV pinned to %s%n", az1, volume(cinder, pv(api, a)).availabilityZone(),
            volume(cinder, pv(api, b)).availabilityZone(), pinnedTo(pv(api, b)));

        for (PersistentVolumeClaim c : List.of(a, b)) {
          String id = pv(api, c).getMetadata().getAnnotations().get("cinderVolumeId");
          api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).delete();
          await().atMost(Duration.ofMinutes(2)).until(() -> cinder.getVolume(id).map(v -> v.hasStatus("deleting"))
              .orElse(true));
        }
      }
    }
  }

  private static PersistentVolumeClaim claim(MockApiServer api, String name, String node) {
    return api.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).addToAnnotations("volume.kubernetes.io/selected-node", node).endMetadata()
        .withNewSpec().withStorageClassName("zoned").withAccessModes("ReadWriteOnce").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
  }

  private static PersistentVolume pv(MockApiServer api, PersistentVolumeClaim c) {
    return api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  private static CinderVolume volume(CinderGateway cinder, PersistentVolume pv) {
    return cinder.getVolume(pv.getMetadata().getAnnotations().get("cinderVolumeId")).orElseThrow();
  }

  private static List<String> pinnedTo(PersistentVolume pv) {
    return pv.getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms().get(0).getMatchExpressions().get(0)
        .getValues();
  }
}
