package io.github.standalonecinder.simulator;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
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
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import com.sun.net.httpserver.HttpsParameters;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The simulator behind HTTPS with a self-signed certificate for 127.0.0.1 (made with the JDK's keytool), for tests
 * of TLS verification and for measuring what TLS costs: a forwarding proxy, so the simulator itself stays plain HTTP.
 */
public final class TlsFrontend implements AutoCloseable {
  private static final Set<String> HOP = Set.of("host", "connection", "content-length", "transfer-encoding",
      "upgrade", "keep-alive", "expect");

  private final HttpsServer server;
  private final CinderSimulator sim;
  private final Path caFile;
  private final Path clientCertFile;
  private final Path clientKeyFile;

  private TlsFrontend(HttpsServer server, CinderSimulator sim, Path caFile, Path clientCertFile,
      Path clientKeyFile) {
    this.server = server;
    this.sim = sim;
    this.caFile = caFile;
    this.clientCertFile = clientCertFile;
    this.clientKeyFile = clientKeyFile;
  }

  /** Makes a key pair and certificate in {@code dir} and starts forwarding to {@code sim}. */
  public static TlsFrontend start(CinderSimulator sim, Path dir) throws Exception {
    return start(sim, dir, "ip:127.0.0.1,dns:localhost");
  }

  /**
   * As {@link #start(CinderSimulator, Path)}, with a certificate for {@code subjectAltNames} (keytool's SAN syntax):
   * {@code "dns:wrong.example"} makes a certificate whose name does not match the address clients use.
   */
  public static TlsFrontend start(CinderSimulator sim, Path dir, String subjectAltNames) throws Exception {
    return start(sim, dir, subjectAltNames, false);
  }

  /**
   * As {@link #start(CinderSimulator, Path)}, refusing every client that does not present the client certificate
   * made for it in {@code dir} (mutual TLS): {@link #clientCertFile()} and {@link #clientKeyFile()}, PEM.
   */
  public static TlsFrontend startRequiringClientCertificate(CinderSimulator sim, Path dir) throws Exception {
    return start(sim, dir, "ip:127.0.0.1,dns:localhost", true);
  }

  private static TlsFrontend start(CinderSimulator sim, Path dir, String subjectAltNames, boolean mutual)
      throws Exception {
    Path keyStore = dir.resolve("tls-frontend.p12");
    Path ca = dir.resolve("tls-frontend-ca.pem");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Files.deleteIfExists(keyStore);
    run(keytool, "-genkeypair", "-alias", "sim", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
        "-ext", "SAN=" + subjectAltNames, "-validity", "2", "-storetype", "PKCS12", "-keystore",
        keyStore.toString(), "-storepass", "changeit", "-keypass", "changeit");
    Files.deleteIfExists(ca);
    run(keytool, "-exportcert", "-rfc", "-alias", "sim", "-keystore", keyStore.toString(), "-storepass",
        "changeit", "-file", ca.toString());
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      store.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "changeit".toCharArray());
    SSLContext ssl = SSLContext.getInstance("TLS");
    Path clientCert = null;
    Path clientKey = null;
    TrustManager[] trustClients = null;
    if (mutual) {
      Path clientStore = dir.resolve("tls-client.p12");
      clientCert = dir.resolve("tls-client-cert.pem");
      clientKey = dir.resolve("tls-client-key.pem");
      Files.deleteIfExists(clientStore);
      run(keytool, "-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-dname",
          "CN=standalone-cinder-test-client", "-validity", "2", "-storetype", "PKCS12", "-keystore",
          clientStore.toString(), "-storepass", "changeit", "-keypass", "changeit");
      KeyStore client = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(clientStore)) {
        client.load(in, "changeit".toCharArray());
      }
      Certificate cert = client.getCertificate("client");
      Files.writeString(clientCert, pem("CERTIFICATE", cert.getEncoded()));
      Files.writeString(clientKey, pem("PRIVATE KEY",
          ((PrivateKey) client.getKey("client", "changeit".toCharArray())).getEncoded()));
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("client", cert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      trustClients = tmf.getTrustManagers();
    }
    ssl.init(kmf.getKeyManagers(), trustClients, null);

    HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    https.setHttpsConfigurator(new HttpsConfigurator(ssl) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters p = ssl.getDefaultSSLParameters();
        p.setNeedClientAuth(mutual);
        params.setSSLParameters(p);
      }
    });
    https.setExecutor(Executors.newFixedThreadPool(8, r -> {
      Thread t = new Thread(r, "tls-frontend");
      t.setDaemon(true);
      return t;
    }));
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
    return new TlsFrontend(https, sim, ca, clientCert, clientKey);
  }

  /** The Cinder endpoint (with the project) over HTTPS. */
  public String endpoint() {
    return "https://127.0.0.1:" + server.getAddress().getPort() + "/v3/" + sim.projectId();
  }

  /** The simulator's Keystone v3 over HTTPS. */
  public String keystoneUrl() {
    return "https://127.0.0.1:" + server.getAddress().getPort() + URI.create(sim.keystoneUrl()).getPath();
  }

  /** The server's root URL over HTTPS. */
  public String rootUrl() {
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The PEM certificate a client must trust ({@code ca-file}, {@code OS_CACERT}). */
  public Path caFile() {
    return caFile;
  }

  /** The client certificate (PEM) a mutual-TLS frontend accepts; null otherwise. */
  public Path clientCertFile() {
    return clientCertFile;
  }

  /** Its private key (PEM, unencrypted PKCS#8); null otherwise. */
  public Path clientKeyFile() {
    return clientKeyFile;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
            .encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
