package io.github.standalonecinder.provisioner.config;

import java.io.IOException;
import java.io.InputStream;
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
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import io.github.standalonecinder.provisioner.cinder.OkHttpConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS towards Keystone and Cinder, the same on both HTTP stacks: the JDK client (Keystone, Cinder's version
 * document) and OkHttp (Cinder's API, through OpenStack4j and our connector). A {@code ca-file} (a PEM bundle, or a
 * directory of them) is added to the JDK's trusted CAs in a context of our own (the JVM-wide default stays
 * untouched, so the Kubernetes client is not affected). Verification, host name included, stays on unless
 * {@code tls-insecure} says otherwise; then neither stack checks the certificate nor the name. A client certificate
 * ({@code cert-file}, {@code key-file}) is presented on both stacks, with or without {@code tls-insecure}.
 */
final class Tls {
  private static final Logger log = LoggerFactory.getLogger(Tls.class);
  private final SSLContext context;
  private final boolean custom;
  private final boolean insecure;

  private Tls(SSLContext context, boolean custom, boolean insecure) {
    this.context = context;
    this.custom = custom;
    this.insecure = insecure;
  }

  /**
   * OpenStack4j's transport: our connector takes our context (a CA, a client certificate); insecure is a transport
   * flag of its own, and the connector then uses our context only for the client certificate.
   */
  org.openstack4j.core.transport.Config transport(org.openstack4j.core.transport.Config base) {
    org.openstack4j.core.transport.Config out = insecure ? base.withSSLVerificationDisabled() : base;
    return custom ? out.withSSLContext(context) : out;
  }

  static Tls configure(CloudConfig config) throws ConfigException {
    KeyManager[] keyManagers = null;
    if (config.clientCertificateToPresent().isPresent()) {
      ClientCertificate cert = config.clientCertificateToPresent().get();
      try {
        keyManagers = cert.keyManagers();
      } catch (GeneralSecurityException | IOException e) {
        throw new ConfigException("cloud config: the client certificate of cert-file cannot be used: "
            + e.getMessage());
      }
      log.info("presenting client certificate {} to Keystone and Cinder", cert.subject());
    }
    try {
      if (config.tlsInsecure()) {
        log.warn("tls-insecure is set: the certificates of Keystone and Cinder are NOT verified");
        SSLContext ctx = SSLContext.getInstance("TLS");
        TrustAll all = new TrustAll();
        ctx.init(keyManagers, new TrustManager[] {all}, new SecureRandom());
        if (keyManagers != null) {
          OkHttpConnector.registerTrustManager(ctx, all);
        }
        return new Tls(ctx, keyManagers != null, true);
      }
      if (config.caFile().isPresent() || keyManagers != null) {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(config.caFile().isPresent() ? trustStoreWith(config.caFile().get()) : null);
        X509TrustManager tm = null;
        for (TrustManager t : tmf.getTrustManagers()) {
          if (t instanceof X509TrustManager x) {
            tm = x;
          }
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(keyManagers, new TrustManager[] {tm}, new SecureRandom());
        OkHttpConnector.registerTrustManager(ctx, tm);
        return new Tls(ctx, true, false);
      }
      return new Tls(SSLContext.getDefault(), false, false);
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException("cloud config: ca-file " + config.caFile().map(Path::toString).orElse("")
          + " cannot be used: " + e.getMessage());
    }
  }

  /**
   * The JDK's trusted CAs plus every certificate in {@code caFile}: a PEM bundle, or a directory whose files are
   * (as {@code /etc/ssl/certs}); files in it that hold no certificate are skipped.
   */
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
    java.util.List<Certificate> certs = new java.util.ArrayList<>();
    if (Files.isDirectory(caFile)) {
      java.util.List<Path> files;
      try (var listing = Files.list(caFile)) {
        files = listing.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path f : files) {
        try {
          certs.addAll(certificates(f));
        } catch (GeneralSecurityException | IOException e) {
          log.debug("ca-file directory {}: {} holds no certificate ({})", caFile, f.getFileName(), e.toString());
        }
      }
      if (certs.isEmpty()) {
        throw new GeneralSecurityException("the directory holds no file with a PEM certificate");
      }
    } else {
      certs.addAll(certificates(caFile));
      if (certs.isEmpty()) {
        throw new GeneralSecurityException("it holds no PEM certificate");
      }
    }
    int n = 0;
    for (Certificate c : certs) {
      store.setCertificateEntry("ca-file-" + n++, c);
    }
    return store;
  }

  private static Collection<? extends Certificate> certificates(Path file)
      throws GeneralSecurityException, IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in);
    }
  }

  HttpClient httpClient(Duration connectTimeout) {
    return HttpClient.newBuilder().sslContext(context).connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
  }

  /**
   * Accepts every certificate and every name. It must be an {@link javax.net.ssl.X509ExtendedTrustManager}: the JDK
   * wraps a plain {@link X509TrustManager} in one that still checks the host name.
   */
  private static final class TrustAll extends javax.net.ssl.X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
