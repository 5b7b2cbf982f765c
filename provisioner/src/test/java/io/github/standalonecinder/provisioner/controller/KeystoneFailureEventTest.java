package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Keystone that starts refusing the provisioner's credentials (a rotated password): the ProvisioningFailed Event
 * on the user's claim says Keystone refused, and names no endpoint, no service user and none of Keystone's text.
 */
@EnableKubernetesMockClient(crud = true)
class KeystoneFailureEventTest {
  static KubernetesClient client;
  private static final String BODY_MARKER = "keystone-body-text-for-operators-only";

  private CinderSimulator sim;
  private HttpServer keystone;
  private ControllerHarness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
    if (keystone != null) {
      keystone.stop(0);
    }
    if (sim != null) {
      sim.close();
    }
  }

  @Test
  void theEventNamesNoEndpointUserOrKeystoneText() throws Exception {
    sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).backend(SimulatedBackend.ISCSI)
        .projectId("p-id").projectName("demo").users(Map.of("svc-cinder-user", "pw")).start();
    // In front of the simulator's Keystone: forwards token requests until told to refuse them.
    AtomicBoolean refuse = new AtomicBoolean();
    AtomicReference<String> lastToken = new AtomicReference<>();
    HttpClient http = HttpClient.newHttpClient();
    URI real = URI.create(sim.keystoneUrl());
    keystone = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    keystone.createContext("/", exchange -> {
      byte[] body;
      if (refuse.get()) {
        body = ("{\"error\": {\"code\": 401, \"message\": \"" + BODY_MARKER + "\"}}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(401, body.length);
      } else {
        try {
          HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(real.resolve(exchange.getRequestURI().getPath()))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(exchange.getRequestBody().readAllBytes())).build(),
              HttpResponse.BodyHandlers.ofByteArray());
          r.headers().firstValue("X-Subject-Token").ifPresent(t -> {
            lastToken.set(t);
            exchange.getResponseHeaders().add("X-Subject-Token", t);
          });
          body = r.body();
          exchange.sendResponseHeaders(r.statusCode(), body.length);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.IOException(e);
        }
      }
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    keystone.start();
    String proxyUrl = "http://127.0.0.1:" + keystone.getAddress().getPort() + real.getPath();
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(), Map.of("OS_AUTH_URL",
        proxyUrl, "OS_USERNAME", "svc-cinder-user", "OS_PASSWORD", "pw", "OS_USER_DOMAIN_NAME", "Default",
        "OS_PROJECT_ID", "p-id")), GatewayOptions.defaults());
    h = new ControllerHarness(client, sim, cinder, s -> s);
    // The password is rotated: Keystone refuses it, and the token in use is revoked.
    refuse.set(true);
    sim.revokeToken(lastToken.get());
    h.storageClass("iscsi", Map.of(), "Delete", "Immediate");
    PersistentVolumeClaim claim = h.claim("apps", "data", "iscsi", "1Gi", b -> b);
    String note = h.awaitEvent(claim, "ProvisioningFailed").getNote();
    assertThat(note).contains("Keystone refused the credentials (HTTP 401)")
        .doesNotContain("127.0.0.1").doesNotContain(String.valueOf(keystone.getAddress().getPort()))
        .doesNotContain("svc-cinder-user").doesNotContain(BODY_MARKER).doesNotContain(sim.endpoint());
  }
}
