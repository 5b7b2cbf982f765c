package io.github.standalonecinder.provisioner.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS towards Keystone and Cinder. A {@code ca-file} is added to the JVM's default trust store: OpenStack4j's okhttp
 * connector cannot take an SSLContext on Java 9+, but builds its trust manager from the default trust store, and
 * this process talks TLS only to OpenStack with it (the Kubernetes client has its own). Verification stays on
 * unless {@code tls-insecure} says otherwise.
 */
final class Tls {
  private static final Logger log = LoggerFactory.getLogger(Tls.class);
  private final SSLContext context;

  private Tls(SSLContext context) {
    this.context = context;
  }

  static Tls configure(CloudConfig config) throws ConfigException {
    try {
      if (config.tlsInsecure()) {
        log.warn("tls-insecure is set: the certificates of Keystone and Cinder are NOT verified");
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
        return new Tls(ctx);
      }
      if (config.caFile().isPresent()) {
        KeyStore store = trustStoreWith(config.caFile().get());
        Path file = Files.createTempFile("standalone-cinder-truststore", ".p12");
        file.toFile().deleteOnExit();
        char[] password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16)).toCharArray();
        try (OutputStream out = Files.newOutputStream(file)) {
          store.store(out, password);
        }
        System.setProperty("javax.net.ssl.trustStore", file.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", new String(password));
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        return new Tls(ctx);
      }
      return new Tls(SSLContext.getDefault());
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException("cloud config: ca-file " + config.caFile().map(Path::toString).orElse("")
          + " cannot be used: " + e.getMessage());
    }
  }

  /** The JDK's trusted CAs plus every certificate in {@code caFile} (PEM). */
  private static KeyStore trustStoreWith(Path caFile) throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    defaults.init((KeyStore) null);
    int i = 0;
    for (TrustManager tm : defaults.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        for (X509Certificate c : x.getAcceptedIssuers()) {
          store.setCertificateEntry("jdk-" + i++, c);
        }
      }
    }
    Collection<? extends Certificate> certs;
    try (InputStream in = Files.newInputStream(caFile)) {
      certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
    if (certs.isEmpty()) {
      throw new GeneralSecurityException("it holds no PEM certificate");
    }
    int n = 0;
    for (Certificate c : certs) {
      store.setCertificateEntry("ca-file-" + n++, c);
    }
    return store;
  }

  HttpClient httpClient(Duration connectTimeout) {
    return HttpClient.newBuilder().sslContext(context).connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
  }

  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
