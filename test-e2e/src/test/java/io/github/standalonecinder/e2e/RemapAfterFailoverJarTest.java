package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run --remap-after-failover}: the jar, a mock API server and the simulator; the admin fails the replicated
 * backend over and back, and the running provisioner rebuilds the claim's PV each time, the claim staying Bound,
 * and deleting the claim then deletes the volume as its reclaim policy says.
 */
class RemapAfterFailoverJarTest {
  @TempDir
  Path dir;

  private static void failover(CinderSimulator sim, String backendId) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(sim.endpoint() + "/os-services/failover_host")).header("X-Auth-Token", sim.noauthToken())
        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
            "{\"host\": \"" + sim.serviceHost() + "\", \"backend_id\": \"" + backendId + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
  }

  @Test
  void theRunningProvisionerRemapsAfterFailoverAndFailback() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).replication("secondary")
            .volumeType("replicated", Map.of("replication_enabled", "<is> True")).start();
        MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      try (ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
          api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
          "kube-system", "--metrics-address", "", "--connector-initiator", "iqn.2004-10.com.example:node",
          "--remap-after-failover", "--remap-interval", "1s")) {
        api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
            .withName("replicated").endMetadata().withProvisioner("openstack.org/standalone-cinder")
            .withParameters(Map.of("type", "replicated")).withReclaimPolicy("Delete").build()).create();
        PersistentVolumeClaim claim = api.client.persistentVolumeClaims().inNamespace("default").resource(
            new PersistentVolumeClaimBuilder().withNewMetadata().withName("data").endMetadata().withNewSpec()
                .withStorageClassName("replicated").withAccessModes("ReadWriteOnce").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        String pvName = "pvc-" + claim.getMetadata().getUid();
        await().atMost(Duration.ofSeconds(60)).until(() -> api.client.persistentVolumes().withName(pvName).get()
            != null);
        PersistentVolume before = api.client.persistentVolumes().withName(pvName).get();
        assertThat(before.getSpec().getIscsi().getTargetPortal()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);

        failover(sim, "secondary");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
          PersistentVolume pv = api.client.persistentVolumes().withName(pvName).get();
          return pv != null && SimulatedBackend.SECONDARY_ISCSI_PORTAL.equals(pv.getSpec().getIscsi().getTargetPortal());
        });
        failover(sim, "default");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
          PersistentVolume pv = api.client.persistentVolumes().withName(pvName).get();
          return pv != null && SimulatedBackend.ISCSI_PORTAL.equals(pv.getSpec().getIscsi().getTargetPortal())
              && "enabled".equals(pv.getMetadata().getAnnotations().get(
                  "standalone-cinder.openstack.org/replication-status"));
        });
        PersistentVolumeClaim after = api.client.persistentVolumeClaims().inNamespace("default").withName("data")
            .get();
        assertThat(after.getStatus().getPhase()).isEqualTo("Bound");
        assertThat(after.getSpec().getVolumeName()).isEqualTo(pvName);
        assertThat(sim.volumes()).hasSize(1);
        // The rebuilt PV kept its reclaim policy: deleting the claim deletes the volume, the Secrets and the PV.
        api.client.persistentVolumeClaims().inNamespace("default").withName("data").delete();
        await().atMost(Duration.ofSeconds(60)).until(() -> sim.volumes().isEmpty()
            && api.client.persistentVolumes().list().getItems().isEmpty()
            && api.client.secrets().inNamespace("kube-system").list().getItems().isEmpty());
        assertThat(p.isAlive()).isTrue();
      }
    }
  }
}
