package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credential rotation against the lab's real Keystone, without a restart: {@code run} starts with application
 * credential A and provisions a claim; the cloud.conf is replaced by one with a new application credential B (read
 * again by polling), A is deleted in Keystone (which revokes its tokens), and a new claim still binds with the
 * same process. Skipped, with the reason printed, without a lab or with a noauth lab.
 */
class LabCredentialRotationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Lab lab;

  @TempDir
  Path dir;

  @BeforeAll
  static void findKeystoneLab() {
    Optional<Lab> found = Lab.find();
    String why = found.isEmpty() ? Lab.whyMissing()
        : found.get().keystone() ? null
        : "the lab runs noauth; credential rotation needs Keystone (test-e2e/lab/up.sh keystone)";
    if (why != null) {
      System.out.println("SKIP LabCredentialRotationTest: " + why);
    }
    Assumptions.assumeTrue(why == null, why);
    lab = found.get();
  }

  @Test
  void runKeepsProvisioningAcrossAnApplicationCredentialRotation() throws Exception {
    Keystone keystone = Keystone.login(lab);
    String suffix = Long.toHexString(System.nanoTime());
    List<Keystone.AppCredential> made = new ArrayList<>();
    Keystone.AppCredential a = keystone.createAppCredential("rotation-a-" + suffix);
    made.add(a);
    Path conf = dir.resolve("cloud.conf");
    replace(conf, conf(a));
    // Cleanup and checks go through the lab's own credentials, never through the ones being rotated.
    CinderGateway admin = CinderGateways.connect(CloudConfig.load(Optional.of(write("admin.conf",
        lab.cloudConf(false))), Map.of()), GatewayOptions.defaults());
    String clusterId = "rotation-" + suffix;
    try (MockApiServer api = new MockApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ProvisionerProcess p = ProvisionerProcess.start(dir, Map.of(), "run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--cloud-config-reload-interval", "1s",
            "--no-leader-elect", "--namespace", "kube-system", "--metrics-address", "", "--cluster-id", clusterId,
            "--connector-initiator", "iqn.2004-10.com.example:rotation", "--connector-host", "rotation-node")) {
      api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
          .withName("lab").endMetadata().withProvisioner("openstack.org/standalone-cinder")
          .withParameters(Map.of("type", lab.get("CINDER_VOLUME_TYPE"))).withReclaimPolicy("Delete").build())
          .create();
      PersistentVolumeClaim before = claim(api, "before-rotation");
      awaitBound(api, before, p);

      Keystone.AppCredential b = keystone.createAppCredential("rotation-b-" + suffix);
      made.add(b);
      replace(conf, conf(b));
      await("the new cloud config applied").atMost(Duration.ofSeconds(60))
          .until(() -> p.output().contains("cloud config changed: now using it"));
      keystone.deleteAppCredential(a);
      made.remove(a);
      assertThat(keystone.appCredentialToken(a)).as("A no longer authenticates once deleted").isIn(401, 404);

      PersistentVolumeClaim after = claim(api, "after-rotation");
      awaitBound(api, after, p);
      assertThat(p.isAlive()).as("the same process, no restart").isTrue();
      assertThat(p.output()).doesNotContain("the new one is refused").doesNotContain(a.secret()).doesNotContain(b.secret());

      for (PersistentVolumeClaim c : List.of(before, after)) {
        api.client.persistentVolumeClaims().inNamespace("default").withName(c.getMetadata().getName()).delete();
      }
      await("the volumes deleted with B").atMost(Duration.ofSeconds(120))
          .until(() -> api.client.persistentVolumes().list().getItems().isEmpty()
              && admin.listVolumes(Map.of("standalone-cinder.openstack.org/cluster", clusterId)).isEmpty());
    } finally {
      removeLeftovers(admin, clusterId);
      for (Keystone.AppCredential c : made) {
        keystone.deleteAppCredential(c);
      }
    }
  }

  private String conf(Keystone.AppCredential c) {
    return "[Global]\nauth-url = " + lab.get("OS_AUTH_URL") + "\napplication-credential-id = " + c.id()
        + "\napplication-credential-secret = " + Lab.quoted(c.secret()) + "\nregion = "
        + lab.env().getOrDefault("OS_REGION_NAME", "RegionOne") + "\n";
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  /** Replaced at once, as the kubelet swaps a mounted Secret: never read half-written. */
  private void replace(Path target, String text) throws IOException {
    Path tmp = Files.createTempFile(dir, "cloud", ".conf");
    Files.writeString(tmp, text);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static PersistentVolumeClaim claim(MockApiServer api, String name) {
    return api.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).endMetadata().withNewSpec().withStorageClassName("lab")
        .withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage", new Quantity("1Gi"))
        .endResources().endSpec().build()).create();
  }

  private static void awaitBound(MockApiServer api, PersistentVolumeClaim c, ProvisionerProcess p)
      throws IOException {
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        var latest = api.client.persistentVolumeClaims().inNamespace("default")
            .withName(c.getMetadata().getName()).get();
        return latest.getStatus() != null && "Bound".equals(latest.getStatus().getPhase());
      });
    } catch (RuntimeException e) {
      throw new AssertionError(c.getMetadata().getName() + " not bound; provisioner output:\n" + p.output(), e);
    }
  }

  private static void removeLeftovers(CinderGateway cinder, String clusterId) {
    for (CinderVolume v : cinder.listVolumes(Map.of("standalone-cinder.openstack.org/cluster", clusterId))) {
      try {
        cinder.listAttachments(v.id()).forEach(x -> cinder.deleteAttachment(x.id()));
        cinder.deleteVolume(v.id());
        System.out.println("removed leftover Cinder volume " + v.id());
      } catch (RuntimeException e) {
        System.out.println("could not remove leftover Cinder volume " + v.id() + ": " + e.getMessage());
      }
    }
  }

  /** The lab's Keystone v3, as its admin user: application credentials made and deleted by the test. */
  record Keystone(HttpClient http, String url, String token, String userId) {
    record AppCredential(String id, String secret) {}

    static Keystone login(Lab lab) throws IOException, InterruptedException {
      String url = lab.get("OS_AUTH_URL").replaceAll("/+$", "");
      Map<String, Object> body = Map.of("auth", Map.of(
          "identity", Map.of("methods", List.of("password"), "password", Map.of("user", Map.of(
              "name", lab.get("OS_USERNAME"), "password", lab.get("OS_PASSWORD"),
              "domain", Map.of("name", lab.env().getOrDefault("OS_USER_DOMAIN_NAME", "Default"))))),
          "scope", Map.of("project", Map.of("name", lab.get("OS_PROJECT_NAME"),
              "domain", Map.of("name", lab.env().getOrDefault("OS_PROJECT_DOMAIN_NAME", "Default"))))));
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/auth/tokens"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("the lab's Keystone password login").isEqualTo(201);
      String userId = JSON.readTree(r.body()).path("token").path("user").path("id").asText();
      return new Keystone(http, url, r.headers().firstValue("X-Subject-Token").orElseThrow(), userId);
    }

    AppCredential createAppCredential(String name) throws IOException, InterruptedException {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/users/" + userId
          + "/application_credentials")).header("Content-Type", "application/json").header("X-Auth-Token", token)
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("application_credential",
              Map.of("name", name, "description", "standalone-cinder rotation test"))))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("creating application credential " + name).isEqualTo(201);
      JsonNode ac = JSON.readTree(r.body()).path("application_credential");
      return new AppCredential(ac.path("id").asText(), ac.path("secret").asText());
    }

    void deleteAppCredential(AppCredential c) throws IOException, InterruptedException {
      int status = http.send(HttpRequest.newBuilder(URI.create(url + "/users/" + userId
          + "/application_credentials/" + c.id())).header("X-Auth-Token", token).DELETE().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
      assertThat(status).as("deleting application credential " + c.id()).isIn(204, 404);
    }

    /** The HTTP status Keystone answers to a login with {@code c}: 201 while it exists. */
    int appCredentialToken(AppCredential c) throws IOException, InterruptedException {
      Map<String, Object> body = Map.of("auth", Map.of("identity", Map.of("methods",
          List.of("application_credential"), "application_credential", Map.of("id", c.id(), "secret",
              c.secret()))));
      return http.send(HttpRequest.newBuilder(URI.create(url + "/auth/tokens"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    }
  }
}
