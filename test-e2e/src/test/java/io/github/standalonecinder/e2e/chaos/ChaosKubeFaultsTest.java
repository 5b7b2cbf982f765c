package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes API faults against the jar, injected as mock server expectations answered before the CRUD store:
 * 409 conflicts on claim and PV updates, 500s on PV create for longer than one provisioning attempt retries
 * (the Cinder volume is kept and the PV saved later), and a 500 burst on claim updates (which the Fabric8
 * client retries by itself).
 */
class ChaosKubeFaultsTest {
  static int injected;
  private static final String CONFLICT = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
      + "\"reason\":\"Conflict\",\"code\":409,\"message\":\"Operation cannot be fulfilled: the object has been "
      + "modified; please apply your changes to the latest version and try again\"}";
  private static final String INTERNAL = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
      + "\"reason\":\"InternalError\",\"code\":500,\"message\":\"etcdserver: request timed out\"}";

  private static final String FORBIDDEN = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
      + "\"reason\":\"Forbidden\",\"code\":403,\"message\":\"persistentvolumes is forbidden\"}";

  @TempDir
  Path dir;

  @Test
  void conflictsAndFailingPvCreatesLoseNothing() throws Exception {
    Path logDir = Chaos.logDir("kube");
    try (CinderSimulator sim = Chaos.keystoneSim().createDelay(Duration.ofMillis(100)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ChaosProcess p = ChaosProcess.start(logDir, "kube", List.of("run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", Chaos.cloudConfig(dir, sim).toString(),
            "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address", "",
            "--connector-initiator", "iqn.2004-10.com.example:kube"))) {
      Chaos.storageClass(api.client, "cinder");
      awaitBound(api, Chaos.claim(api.client, "apps", "warm-up", "cinder"));

      // 409s and 500s on the claim's intent update (finalizer + annotation).
      api.server().expect().put().withPath("/api/v1/namespaces/apps/persistentvolumeclaims/conflict")
          .andReturn(409, CONFLICT).times(3);
      api.server().expect().put().withPath("/api/v1/namespaces/apps/persistentvolumeclaims/conflict")
          .andReturn(500, INTERNAL).times(2);
      injected += 5;
      PersistentVolumeClaim conflict = awaitBound(api, Chaos.claim(api.client, "apps", "conflict", "cinder"));

      // PV create failing for longer than one attempt's five saves (403: the client's own retries cover 5xx, so
      // this is what outlasts them): the volume is kept and reused, the PV saved later.
      api.server().expect().post().withPath("/api/v1/persistentvolumes").andReturn(403, FORBIDDEN).times(8);
      injected += 8;
      PersistentVolumeClaim pvFail = Chaos.claim(api.client, "apps", "pv-fail", "cinder");
      await().atMost(Duration.ofSeconds(60)).until(() -> p.output().contains("could not save PV pvc-"
          + pvFail.getMetadata().getUid()));
      assertThat(sim.volumes()).filteredOn(v -> v.name().equals("pvc-" + pvFail.getMetadata().getUid()))
          .as("volume kept while the PV cannot be saved").hasSize(1);
      awaitBound(api, pvFail);
      assertThat(sim.volumes()).filteredOn(v -> v.name().equals("pvc-" + pvFail.getMetadata().getUid())).hasSize(1);
      Chaos.awaitNothingLost(api.client, sim);

      // 409s on the PV update that drops our finalizer while deleting.
      String pvName = "pvc-" + conflict.getMetadata().getUid();
      api.server().expect().put().withPath("/api/v1/persistentvolumes/" + pvName).andReturn(409, CONFLICT)
          .times(3);
      injected += 3;
      api.client.persistentVolumeClaims().inNamespace("apps").withName("conflict").delete();
      await().atMost(Duration.ofSeconds(90)).until(() -> api.client.persistentVolumes().withName(pvName).get() == null
          && sim.volumes().stream().noneMatch(v -> v.name().equals(pvName)));
      Chaos.awaitNothingLost(api.client, sim);
      assertThat(p.isAlive()).isTrue();
      System.out.println("chaos kube faults injected: " + injected);
    }
  }

  private static PersistentVolumeClaim awaitBound(ChaosApiServer api, PersistentVolumeClaim c) {
    await().atMost(Duration.ofSeconds(90)).until(() -> Chaos.bound(api.client.persistentVolumeClaims()
        .inNamespace("apps").withName(c.getMetadata().getName()).get()));
    return api.client.persistentVolumeClaims().inNamespace("apps").withName(c.getMetadata().getName()).get();
  }
}
