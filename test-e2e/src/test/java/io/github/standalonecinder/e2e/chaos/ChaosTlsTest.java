package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.github.standalonecinder.provisioner.simulator.CinderSimulator;
import io.github.standalonecinder.provisioner.simulator.SimulatedBackend;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS verification is on unless explicitly disabled: Cinder behind a self-signed certificate is refused without
 * {@code ca-file}, accepted with {@code ca-file} naming the certificate, and accepted with {@code tls-insecure = true}.
 */
class ChaosTlsTest {
  private static final Set<String> HOP = Set.of("host", "connection", "content-length", "transfer-encoding",
      "upgrade", "keep-alive", "expect");

  @TempDir
  Path dir;

  @Test
  void selfSignedCinderIsRefusedUnlessTrustedOrExplicitlyInsecure() throws Exception {
    Path ks = dir.resolve("ks.p12");
    Path ca = dir.resolve("ca.pem");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(keytool, "-genkeypair", "-alias", "chaos", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore",
        ks.toString(), "-storepass", "changeit", "-keypass", "changeit");
    run(keytool, "-exportcert", "-rfc", "-alias", "chaos", "-keystore", ks.toString(), "-storepass", "changeit",
        "-file", ca.toString());
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(ks.toFile())) {
      store.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "changeit".toCharArray());
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);

    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
        .volumeType("iscsi", Map.of()).start()) {
      HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      https.setHttpsConfigurator(new HttpsConfigurator(ssl));
      HttpClient upstream = HttpClient.newHttpClient();
      https.createContext("/", ex -> {
        try (ex) {
          HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sim.rootUrl() + ex.getRequestURI()))
              .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(
                  ex.getRequestBody().readAllBytes()));
          ex.getRequestHeaders().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase())) {
              vs.forEach(v -> b.header(k, v));
            }
          });
          HttpResponse<byte[]> r = upstream.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
          r.headers().map().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) {
              vs.forEach(v -> ex.getResponseHeaders().add(k, v));
            }
          });
          ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
          if (r.body().length > 0) {
            ex.getResponseBody().write(r.body());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      https.start();
      try {
        String endpoint = "https://127.0.0.1:" + https.getAddress().getPort() + "/v3/" + sim.projectId();
        ChaosProcess.Result refused = check(dir, "cinder-endpoint = " + endpoint + "\n");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).containsIgnoringCase("certificat");

        ChaosProcess.Result trusted = check(dir, "cinder-endpoint = " + endpoint + "\nca-file = " + ca + "\n");
        assertThat(trusted.exitCode()).as(trusted.output()).isZero();
        assertThat(trusted.output()).endsWith("OK\n");

        ChaosProcess.Result insecure = check(dir, "cinder-endpoint = " + endpoint + "\ntls-insecure = true\n");
        assertThat(insecure.exitCode()).as(insecure.output()).isZero();
      } finally {
        https.stop(0);
      }
    }
  }

  private static int n;

  private static ChaosProcess.Result check(Path dir, String global) throws Exception {
    Path conf = dir.resolve("tls" + (n++) + ".conf");
    Files.writeString(conf, "[Global]\n" + global);
    ChaosProcess p = ChaosProcess.start(dir, "tls-" + n, List.of("check", "--cloud-config", conf.toString(),
        "--cinder-connect-timeout", "5s", "--cinder-read-timeout", "10s"));
    await().atMost(Duration.ofSeconds(90)).until(() -> !p.isAlive());
    return new ChaosProcess.Result(p.exitCode(), p.output());
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }
}
