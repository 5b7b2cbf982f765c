package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One provisioner process, several clouds in one cloud.conf: the unnamed {@code [Global]} a noauth Cinder, a
 * {@code [Global "keystone"]} a Keystone-protected one with its own connector, and a {@code [Global "broken"]} that
 * cannot be used. Classes on each provision in their own cloud; one cloud stopped leaves its claims waiting with
 * Events while the others keep binding; a PV's deletion goes to the cloud it records after its class is gone.
 */
class SeveralCloudsJarTest {
  private static final String PASSWORD = "several-clouds-pa55";
  private static final String PROVISIONER = "openstack.org/standalone-cinder";

  @TempDir
  Path dir;

  @Test
  void eachClassProvisionsInItsCloudAndOneCloudDownStopsOnlyItsOwnClaims() throws Exception {
    try (CinderSimulator noauth = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(100)).start();
        CinderSimulator keystone = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE)
            .backend(SimulatedBackend.ISCSI_CHAP).projectId("p-id").projectName("demo")
            .users(Map.of("alice", PASSWORD)).volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(100))
            .start();
        MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + noauth.endpoint() + "\n\n"
          + "[Global \"keystone\"]\nauth-url = " + keystone.keystoneUrl() + "\nusername = alice\npassword = "
          + PASSWORD + "\nuser-domain-name = Default\ntenant-name = demo\ntenant-domain-name = Default\n"
          + "connector-initiator = iqn.2004-10.com.example:storage-network-b\n\n"
          + "[Global \"broken\"]\nusername = bob\n");
      int port = freePort();
      HttpClient http = HttpClient.newHttpClient();
      try (ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
          api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
          "kube-system", "--metrics-address", "127.0.0.1:" + port, "--connector-initiator",
          "iqn.2004-10.com.example:storage-network-a", "--cloud-config-reload-interval", "1s")) {
        KubernetesClient k = api.client;
        storageClass(k, "a", Map.of("type", "iscsi"));
        storageClass(k, "b", Map.of("type", "iscsi", "cloud", "keystone"));
        storageClass(k, "broken", Map.of("cloud", "broken"));
        storageClass(k, "nowhere", Map.of("cloud", "nowhere"));
        try {
          await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> get(http, port, "/readyz")
              .statusCode() == 200 || !p.isAlive());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError("not ready:\n" + p.output(), e);
        }
        assertThat(p.isAlive()).as(p.output()).isTrue();
        assertThat(get(http, port, "/readyz").body()).contains("cloud default: up\n").contains("cloud keystone: up\n")
            .contains("cloud broken: down (cloud broken is not connected: cloud config: no Cinder to talk to: set "
                + "auth-url (Keystone) or cinder-endpoint (noauth), in [Global \"broken\"])\n");
        assertThat(p.output()).contains("cloud broken is not usable: cloud config: no Cinder to talk to");

        PersistentVolumeClaim a1 = claim(k, "a1", "a");
        PersistentVolumeClaim b1 = claim(k, "b1", "b");
        awaitBound(k, a1, b1);
        PersistentVolume pvA = pv(k, a1);
        PersistentVolume pvB = pv(k, b1);
        assertThat(noauth.volumes()).extracting(SimVolume::id).containsExactly(volumeId(pvA));
        assertThat(keystone.volumes()).extracting(SimVolume::id).containsExactly(volumeId(pvB));
        assertThat(pvA.getMetadata().getAnnotations()).doesNotContainKey("standalone-cinder.openstack.org/cloud");
        assertThat(pvB.getMetadata().getAnnotations()).containsEntry("standalone-cinder.openstack.org/cloud",
            "keystone");
        assertThat(pvA.getSpec().getIscsi().getInitiatorName()).isEqualTo("iqn.2004-10.com.example:storage-network-a");
        assertThat(pvB.getSpec().getIscsi().getInitiatorName()).isEqualTo("iqn.2004-10.com.example:storage-network-b");
        assertThat(keystone.volume(volumeId(pvB)).attachments().get(0).connector())
            .containsEntry("initiator", "iqn.2004-10.com.example:storage-network-b");

        // A class naming a cloud that is not configured, or one that could not be: clear Events, no volume.
        PersistentVolumeClaim lost = claim(k, "lost", "nowhere");
        assertThat(awaitEvent(k, lost, "ProvisioningFailed").getNote()).contains("cloud \"nowhere\" is not "
            + "configured: the cloud config has no [Global \"nowhere\"] section");
        PersistentVolumeClaim brokenClaim = claim(k, "in-broken", "broken");
        assertThat(awaitEvent(k, brokenClaim, "ProvisioningFailed").getNote()).contains("cloud broken is not "
            + "connected: cloud config: no Cinder to talk to");

        // The class of b1 goes away; deleting b1 still deletes its volume in the Keystone cloud only.
        k.storage().v1().storageClasses().withName("b").delete();
        k.persistentVolumeClaims().inNamespace("default").withName("b1").delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> keystone.volumes().isEmpty() && pv(k, b1) == null);
        assertThat(noauth.volumes()).hasSize(1);
        storageClass(k, "b", Map.of("type", "iscsi", "cloud", "keystone"));

        // The Keystone cloud goes down: its claims wait with Events, the default cloud's keep binding.
        keystone.stop();
        PersistentVolumeClaim b2 = claim(k, "b2", "b");
        PersistentVolumeClaim a2 = claim(k, "a2", "a");
        awaitBound(k, a2);
        assertThat(awaitEvent(k, b2, "ProvisioningFailed").getNote()).contains("StorageClass \"b\" in cloud "
            + "\"keystone\": could not look up Cinder volume").contains("unreachable");
        assertThat(phase(k, b2)).isNotEqualTo("Bound");
        assertThat(pv(k, b2)).isNull();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(get(http, port, "/readyz").body())
            .contains("cloud default: up\n").contains("cloud keystone: down ("));
        assertThat(get(http, port, "/metrics").body())
            .contains("standalone_cinder_cloud_up{cloud=\"default\"} 1.0")
            .contains("standalone_cinder_cloud_up{cloud=\"keystone\"} 0.0")
            .contains("standalone_cinder_cloud_up{cloud=\"broken\"} 0.0")
            .containsPattern("openstack_api_request_duration_seconds_count\\{cloud=\"keystone\",outcome=\"success\"");

        // Back up: the waiting claim binds in its cloud.
        keystone.restart();
        awaitBound(k, b2);
        assertThat(keystone.volumes()).extracting(SimVolume::id).containsExactly(volumeId(pv(k, b2)));
        assertThat(noauth.volumes()).hasSize(2);
        assertThat(p.isAlive()).isTrue();
      }
    }
  }

  @Test
  void checkPrintsOneLinePerCloudAndFailsWhenOneFails() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().volumeType("iscsi", Map.of()).start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n[Global \"second\"]\n"
          + "cinder-endpoint = " + sim.endpoint() + "\n[Global \"gone\"]\ncinder-endpoint = http://127.0.0.1:1/v3\n");
      var result = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(60), "check", "--cloud-config",
          conf.toString());
      assertThat(result.exitCode()).as(result.output()).isNotZero();
      assertThat(result.output().lines().filter(l -> l.startsWith("cloud ")).toList()).satisfiesExactly(
          l -> assertThat(l).startsWith("cloud default: OK: noauth (no Keystone): Cinder at ").contains("2 volume types"),
          l -> assertThat(l).startsWith("cloud second: OK: noauth"),
          l -> assertThat(l).startsWith("cloud gone: FAILED: "));
      assertThat(result.output()).contains("1 of 3 clouds failed the check");

      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n[Global \"second\"]\n"
          + "cinder-endpoint = " + sim.endpoint() + "\n");
      var ok = ProvisionerProcess.run(dir, Map.of(), Duration.ofSeconds(60), "check", "--cloud-config",
          conf.toString());
      assertThat(ok.exitCode()).as(ok.output()).isZero();
      assertThat(ok.output()).endsWith("OK\n");
    }
  }

  private static void storageClass(KubernetesClient k, String name, Map<String, String> params) {
    k.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName(name)
        .endMetadata().withProvisioner(PROVISIONER).withParameters(params).withReclaimPolicy("Delete").build())
        .create();
  }

  private static PersistentVolumeClaim claim(KubernetesClient k, String name, String storageClass) {
    return k.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).endMetadata().withNewSpec().withStorageClassName(storageClass)
        .withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage", new Quantity("1Gi"))
        .endResources().endSpec().build()).create();
  }

  private static String phase(KubernetesClient k, PersistentVolumeClaim c) {
    var latest = k.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).get();
    return latest == null || latest.getStatus() == null ? null : latest.getStatus().getPhase();
  }

  private static void awaitBound(KubernetesClient k, PersistentVolumeClaim... claims) {
    await().atMost(Duration.ofSeconds(60)).until(() -> List.of(claims).stream()
        .allMatch(c -> "Bound".equals(phase(k, c))));
  }

  private static PersistentVolume pv(KubernetesClient k, PersistentVolumeClaim c) {
    return k.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  private static String volumeId(PersistentVolume pv) {
    return pv.getMetadata().getAnnotations().get("cinderVolumeId");
  }

  private static Event awaitEvent(KubernetesClient k, PersistentVolumeClaim c, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> events(k, c, reason).size() > 0);
    return events(k, c, reason).get(0);
  }

  private static List<Event> events(KubernetesClient k, PersistentVolumeClaim c, String reason) {
    return k.events().v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> e.getRegarding() != null && c.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .filter(e -> reason.equals(e.getReason())).toList();
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
