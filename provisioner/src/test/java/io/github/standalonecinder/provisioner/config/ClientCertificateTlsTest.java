package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.OkHttpConnector;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import io.github.standalonecinder.simulator.TlsFrontend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS: a server (the simulator's Keystone and Cinder behind HTTPS) that refuses clients without its client
 * certificate. Without {@code cert-file}/{@code key-file} both HTTP stacks are refused; with them both get through,
 * with or without {@code tls-insecure}, and a whole Keystone login and Cinder call work. Files that cannot be used are
 * refused when the configuration is loaded, before any connection.
 */
class ClientCertificateTlsTest {
  @TempDir
  static Path dir;
  static CinderSimulator sim;
  static TlsFrontend https;

  @BeforeAll
  static void start() throws Exception {
    sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).backend(SimulatedBackend.ISCSI)
        .projectId("p-id").projectName("demo").users(Map.of("alice", "pw")).start();
    https = TlsFrontend.startRequiringClientCertificate(sim, dir);
  }

  @AfterAll
  static void stop() {
    https.close();
    sim.close();
  }

  private static Map<String, String> env(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("OS_AUTH_URL", https.keystoneUrl(), "OS_USERNAME", "alice",
        "OS_PASSWORD", "pw", "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_ID", "p-id",
        "OS_CINDER_ENDPOINT", https.rootUrl() + "/v3/p-id", "OS_CACERT", https.caFile().toString()));
    env.putAll(extra);
    return env;
  }

  private static CloudConfig withCertificate(Map<String, String> extra) throws ConfigException {
    Map<String, String> all = new HashMap<>(Map.of("OS_CERT", https.clientCertFile().toString(), "OS_KEY",
        https.clientKeyFile().toString()));
    all.putAll(extra);
    return CloudConfig.load(Optional.empty(), env(all));
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
  void withoutTheClientCertificateBothStacksAreRefused() throws Exception {
    CloudConfig none = CloudConfig.load(Optional.empty(), env(Map.of()));
    assertThatThrownBy(() -> jdkStatus(none)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> okHttpStatus(none)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> CinderGateways.connect(none, GatewayOptions.defaults()))
        .hasMessageContaining("Keystone");
  }

  @Test
  void withItBothStacksGetThroughAndAWholeLoginWorks() throws Exception {
    CloudConfig mutual = withCertificate(Map.of());
    assertThat(jdkStatus(mutual)).isBetween(200, 499);
    assertThat(okHttpStatus(mutual)).isBetween(200, 499);
    CinderGateway g = CinderGateways.connect(mutual, GatewayOptions.defaults());
    assertThat(g.apiVersion().endpoint()).startsWith(https.rootUrl());
    assertThat(g.listVolumeTypes()).isNotNull();
  }

  @Test
  void tlsInsecureStillPresentsIt() throws Exception {
    CloudConfig insecure = withCertificate(Map.of("OS_INSECURE", "true"));
    assertThat(jdkStatus(insecure)).isBetween(200, 499);
    assertThat(okHttpStatus(insecure)).isBetween(200, 499);
    assertThat(CinderGateways.connect(insecure, GatewayOptions.defaults()).listVolumeTypes()).isNotNull();
  }

  @Test
  void cloudConfKeysAndOneFileHoldingBoth() throws Exception {
    Path conf = dir.resolve("mtls.conf");
    Files.writeString(conf, "[Global]\ncert-file = " + https.clientCertFile() + "\nkey-file = "
        + https.clientKeyFile() + "\n");
    Map<String, String> env = env(Map.of());
    CloudConfig fromFile = CloudConfig.load(Optional.of(conf), env);
    assertThat(okHttpStatus(fromFile)).isBetween(200, 499);
    assertThat(fromFile.sources()).as("renewed certificates are a changed configuration")
        .contains(https.clientCertFile(), https.clientKeyFile());

    Path both = dir.resolve("both.pem");
    Files.writeString(both, Files.readString(https.clientCertFile()) + Files.readString(https.clientKeyFile()));
    CloudConfig oneFile = CloudConfig.load(Optional.empty(), env(Map.of("OS_CERT", both.toString())));
    assertThat(jdkStatus(oneFile)).isBetween(200, 499);
  }

  @Test
  void cloudsYamlCertAndKey() throws Exception {
    Path yamlDir = Files.createDirectories(dir.resolve("yaml"));
    Files.writeString(yamlDir.resolve("clouds.yaml"), "clouds:\n  mtls:\n    auth:\n      auth_url: "
        + https.keystoneUrl() + "\n      username: alice\n      password: pw\n      user_domain_name: Default\n"
        + "      project_id: p-id\n    cacert: " + https.caFile() + "\n    cert: " + https.clientCertFile()
        + "\n    key: " + https.clientKeyFile() + "\n    block_storage_endpoint_override: " + https.rootUrl()
        + "/v3/p-id\n");
    CloudConfig c = CloudConfig.load(Optional.empty(), Map.of(), "", "mtls", List.of(yamlDir));
    assertThat(CinderGateways.connect(c, GatewayOptions.defaults()).listVolumeTypes()).isNotNull();
  }

  @Test
  void anRsaKeyInPkcs1FormWorks() throws Exception {
    Path pkcs1 = dir.resolve("rsa-pkcs1.pem");
    Process p = new ProcessBuilder("openssl", "pkey", "-in", https.clientKeyFile().toString(), "-traditional",
        "-out", pkcs1.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    Assumptions.assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
        "openssl could not write a PKCS#1 key here");
    assertThat(Files.readString(pkcs1)).contains("BEGIN RSA PRIVATE KEY");
    assertThat(okHttpStatus(withCertificate(Map.of("OS_KEY", pkcs1.toString())))).isBetween(200, 499);
  }

  @Test
  void unusableFilesAreRefusedAtLoad() throws Exception {
    Path missing = dir.resolve("missing.pem");
    Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
    Path encrypted = Files.writeString(dir.resolve("encrypted.pem"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    // Another key pair's key: keytool makes one in a second frontend's directory.
    Path other = Files.createDirectories(dir.resolve("other"));
    try (TlsFrontend second = TlsFrontend.startRequiringClientCertificate(sim, other)) {
      List<Object[]> cases = List.of(
          new Object[] {Map.of("OS_CERT", missing.toString()), "cert-file " + missing + " cannot be read"},
          new Object[] {Map.of("OS_KEY", missing.toString()), "key-file " + missing + " cannot be read"},
          new Object[] {Map.of("OS_CERT", empty.toString()), "holds no PEM certificate"},
          new Object[] {Map.of("OS_KEY", empty.toString()), "holds no PEM private key"},
          new Object[] {Map.of("OS_KEY", encrypted.toString()), "holds an encrypted key"},
          new Object[] {Map.of("OS_KEY", second.clientKeyFile().toString()), "does not belong to the certificate"});
      for (Object[] c : cases) {
        @SuppressWarnings("unchecked")
        Map<String, String> extra = (Map<String, String>) c[0];
        assertThatThrownBy(() -> withCertificate(extra)).as(extra.toString()).isInstanceOf(ConfigException.class)
            .hasMessageContaining((String) c[1]).hasMessageStartingWith("cloud config: ");
      }
    }
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), env(Map.of("OS_KEY",
        https.clientKeyFile().toString())))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("(key-file) is set without cert-file");
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), env(Map.of("OS_CERT",
        https.clientCertFile().toString())))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("holds no PEM private key").hasMessageContaining("set key-file");
  }
}
