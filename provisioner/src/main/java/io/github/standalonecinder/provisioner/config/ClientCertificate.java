package io.github.standalonecinder.provisioner.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

/**
 * A TLS client certificate (mutual TLS towards Keystone and Cinder), as cloud-provider-openstack's {@code cert-file}
 * and {@code key-file} and the OpenStack clients' {@code cert}/{@code key} give it: PEM files, the certificate chain
 * in one, the private key in the other (or after the certificate in the same file when no key file is given). The
 * key is unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}) or PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}), which is what
 * openssl writes. Read and checked when the configuration is loaded, before any network call; the key must belong
 * to the first certificate.
 */
final class ClientCertificate {
  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  private static final char[] NO_PASSWORD = new char[0];

  private final List<X509Certificate> chain;
  private final PrivateKey key;

  private ClientCertificate(List<X509Certificate> chain, PrivateKey key) {
    this.chain = List.copyOf(chain);
    this.key = key;
  }

  /**
   * Reads {@code certFile} and {@code keyFile} ({@code null}: the key is in {@code certFile}); the exception's
   * message names the file and what is wrong with it, never the key's content.
   */
  static ClientCertificate read(Path certFile, Path keyFile) throws ConfigException {
    String certText = text("cert-file", certFile);
    List<X509Certificate> chain = new ArrayList<>();
    for (Block b : blocks(certText)) {
      if (b.type().equals("CERTIFICATE")) {
        try {
          for (Certificate c : CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(b.der()))) {
            chain.add((X509Certificate) c);
          }
        } catch (GeneralSecurityException e) {
          throw new ConfigException("cloud config: cert-file " + certFile + " holds a certificate that cannot be "
              + "read: " + e.getMessage());
        }
      }
    }
    if (chain.isEmpty()) {
      throw new ConfigException("cloud config: cert-file " + certFile + " holds no PEM certificate "
          + "(-----BEGIN CERTIFICATE-----)");
    }
    String keyName = keyFile == null ? "cert-file" : "key-file";
    Path keyPath = keyFile == null ? certFile : keyFile;
    String keyText = keyFile == null ? certText : text("key-file", keyFile);
    PrivateKey key = null;
    for (Block b : blocks(keyText)) {
      if (b.type().equals("ENCRYPTED PRIVATE KEY")) {
        throw new ConfigException("cloud config: " + keyName + " " + keyPath + " holds an encrypted key: "
            + "decrypt it (openssl pkey -in KEY -out KEY.pem)");
      }
      if (b.type().equals("PRIVATE KEY") || b.type().equals("RSA PRIVATE KEY")) {
        byte[] pkcs8 = b.type().equals("RSA PRIVATE KEY") ? pkcs8OfRsa(b.der()) : b.der();
        key = privateKey(pkcs8, chain.get(0), keyName, keyPath);
        break;
      }
    }
    if (key == null) {
      throw new ConfigException("cloud config: " + keyName + " " + keyPath + " holds no PEM private key "
          + "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"
          + (keyFile == null ? ": set key-file" : ""));
    }
    if (!matches(key, chain.get(0))) {
      throw new ConfigException("cloud config: " + keyName + " " + keyPath + " holds a key that does not belong to "
          + "the certificate of cert-file " + certFile);
    }
    return new ClientCertificate(chain, key);
  }

  /** Key managers presenting this certificate to servers that ask for one. */
  KeyManager[] keyManagers() throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("client", key, NO_PASSWORD, chain.toArray(new Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, NO_PASSWORD);
    return kmf.getKeyManagers();
  }

  /** The subject of the certificate presented, for the log. */
  String subject() {
    return chain.get(0).getSubjectX500Principal().getName();
  }

  private record Block(String type, byte[] der) {}

  private static List<Block> blocks(String text) {
    List<Block> out = new ArrayList<>();
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      try {
        out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", ""))));
      } catch (IllegalArgumentException e) {
        // not base64: skipped, as if absent
      }
    }
    return out;
  }

  private static String text(String key, Path file) throws ConfigException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigException("cloud config: " + key + " " + file + " cannot be read (" + e.getClass()
          .getSimpleName() + ")");
    }
  }

  private static PrivateKey privateKey(byte[] pkcs8, X509Certificate cert, String keyName, Path keyPath)
      throws ConfigException {
    String algorithm = cert.getPublicKey().getAlgorithm();
    for (String a : List.of(algorithm, "RSA", "EC", "Ed25519", "Ed448")) {
      try {
        return KeyFactory.getInstance(a).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new ConfigException("cloud config: " + keyName + " " + keyPath + " holds a private key that cannot be "
        + "read (an RSA, EC or EdDSA key, unencrypted, is needed)");
  }

  /** Whether {@code key} is the private half of {@code cert}'s public key (RSA and EC; others: by algorithm). */
  static boolean matches(PrivateKey key, X509Certificate cert) {
    if (key instanceof RSAPrivateCrtKey rsa && cert.getPublicKey() instanceof RSAPublicKey pub) {
      return rsa.getModulus().equals(pub.getModulus()) && rsa.getPublicExponent().equals(pub.getPublicExponent());
    }
    if (key instanceof java.security.interfaces.ECPrivateKey ec && cert.getPublicKey() instanceof ECPublicKey pub) {
      java.security.spec.ECParameterSpec spec = ec.getParams();
      return spec.getCurve().equals(pub.getParams().getCurve()) && sign(key, cert);
    }
    return key.getAlgorithm().equals(cert.getPublicKey().getAlgorithm()) && sign(key, cert);
  }

  /** Signs a probe with the key and verifies it with the certificate. */
  private static boolean sign(PrivateKey key, X509Certificate cert) {
    String algorithm = switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> key.getAlgorithm();
    };
    try {
      byte[] probe = "standalone-cinder".getBytes(StandardCharsets.US_ASCII);
      java.security.Signature s = java.security.Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] signature = s.sign();
      java.security.Signature v = java.security.Signature.getInstance(algorithm);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL parameters). */
  static byte[] pkcs8OfRsa(byte[] pkcs1) {
    byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
        0x01, 0x05, 0x00};
    byte[] version = {0x02, 0x01, 0x00};
    byte[] octets = der(0x04, pkcs1);
    byte[] body = new byte[version.length + algorithm.length + octets.length];
    System.arraycopy(version, 0, body, 0, version.length);
    System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
    System.arraycopy(octets, 0, body, version.length + algorithm.length, octets.length);
    return der(0x30, body);
  }

  private static byte[] der(int tag, byte[] content) {
    int n = content.length;
    byte[] length;
    if (n < 0x80) {
      length = new byte[] {(byte) n};
    } else if (n < 0x100) {
      length = new byte[] {(byte) 0x81, (byte) n};
    } else if (n < 0x10000) {
      length = new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
    } else {
      length = new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
    }
    byte[] out = new byte[1 + length.length + n];
    out[0] = (byte) tag;
    System.arraycopy(length, 0, out, 1, length.length);
    System.arraycopy(content, 0, out, 1 + length.length, n);
    return out;
  }
}
