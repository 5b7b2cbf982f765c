package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.OkHttpConnector;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import io.github.standalonecinder.simulator.TlsFrontend;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLException;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate whose name does not match (made for wrong.example, served at 127.0.0.1) but whose issuer is
 * trusted through {@code ca-file}: refused by default on both HTTP stacks, the JDK client (Keystone, version
 * discovery) and OkHttp (Cinder's API); accepted on both with {@code tls-insecure}. And {@code ca-file} may be a
 * directory.
 */
class TlsBothStacksTest {
  @TempDir
  static Path dir;
  static CinderSimulator sim;
  static TlsFrontend https;

  @BeforeAll
  static void start() throws Exception {
    sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).backend(SimulatedBackend.ISCSI)
        .projectId("p-id").projectName("demo").users(Map.of("alice", "pw")).start();
    https = TlsFrontend.start(sim, dir, "dns:wrong.example");
  }

  @AfterAll
  static void stop() {
    https.close();
    sim.close();
  }

  private static CloudConfig config(String caFile, boolean insecure) throws Exception {
    Map<String, String> env = new HashMap<>(Map.of("OS_AUTH_URL", https.keystoneUrl(), "OS_USERNAME", "alice",
        "OS_PASSWORD", "pw", "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_ID", "p-id",
        "OS_CINDER_ENDPOINT", https.rootUrl() + "/v3/p-id", "OS_CACERT", caFile));
    if (insecure) {
      env.put("OS_INSECURE", "true");
    }
    return CloudConfig.load(Optional.empty(), env);
  }

  private static int jdkStatus(CloudConfig config) throws Exception {
    return Tls.configure(config).httpClient(Duration.ofSeconds(5)).send(HttpRequest.newBuilder(
        URI.create(https.rootUrl() + "/")).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static int okHttpStatus(CloudConfig config) throws Exception {
    org.openstack4j.core.transport.Config transport = Tls.configure(config).transport(
        org.openstack4j.core.transport.Config.newConfig());
    try (Response r = OkHttpConnector.newClient(transport).newCall(new Request.Builder()
        .url(https.rootUrl() + "/").build()).execute()) {
      return r.code();
    }
  }

  @Test
  void aWrongNameIsRefusedByDefaultOnBothStacks() throws Exception {
    CloudConfig trusted = config(https.caFile().toString(), false);
    assertThatThrownBy(() -> jdkStatus(trusted)).isInstanceOf(SSLException.class)
        .hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> okHttpStatus(trusted)).isInstanceOf(SSLException.class)
        .hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> CinderGateways.connect(trusted, GatewayOptions.defaults()))
        .hasMessageContaining("Keystone");
  }

  @Test
  void tlsInsecureAcceptsItOnBothStacks() throws Exception {
    CloudConfig insecure = config(https.caFile().toString(), true);
    assertThat(jdkStatus(insecure)).isBetween(200, 499);
    assertThat(okHttpStatus(insecure)).isBetween(200, 499);
    CinderGateway g = CinderGateways.connect(insecure, GatewayOptions.defaults());
    assertThat(g.apiVersion().endpoint()).startsWith(https.rootUrl());
    assertThat(g.listVolumeTypes()).isNotNull();
  }

  @Test
  void aCaDirectoryIsReadFileByFile() throws Exception {
    Path cas = Files.createDirectories(dir.resolve("cas"));
    Files.copy(https.caFile(), cas.resolve("frontend.pem"));
    Files.writeString(cas.resolve("README"), "not a certificate");
    CloudConfig fromDirectory = config(cas.toString(), false);
    // Trusted through the directory: the failure left is the name, not the issuer.
    assertThatThrownBy(() -> jdkStatus(fromDirectory)).isInstanceOf(SSLException.class)
        .hasMessageContaining("127.0.0.1").hasMessageNotContaining("PKIX");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertThatThrownBy(() -> Tls.configure(config(empty.toString(), false))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("holds no file with a PEM certificate");
  }
}
