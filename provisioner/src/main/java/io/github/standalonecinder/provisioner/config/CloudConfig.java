package io.github.standalonecinder.provisioner.config;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where Cinder is and how to authenticate, from a cloud.conf {@code [Global]} section (the keys of
 * cloud-provider-openstack and of the Go standalone-cinder) and the standard {@code OS_*} environment.
 *
 * <p><b>Precedence:</b> key by key, a value in the file wins over the environment; a key absent from the file is
 * taken from the environment. (The Go original ignored the environment entirely once a file was given.) The
 * {@code tenant-*} and {@code project-*} spellings are the same key. Other sections of the file are ignored;
 * unknown keys in {@code [Global]} are warned about once each.
 *
 * <p><b>Mode:</b> {@code cinder-endpoint} set means noauth (no Keystone); otherwise {@code auth-url} names
 * Keystone, and the credentials present choose application credential, trust, v2.0 (an auth URL ending in
 * {@code /v2.0}) or v3 password.
 *
 * <p>{@link #toString()} masks the password and the application credential secret.
 */
public final class CloudConfig {
  private static final Logger log = LoggerFactory.getLogger(CloudConfig.class);

  /** Canonical keys; aliases map onto them. */
  static final Set<String> KEYS = Set.of("auth-url", "username", "user-id", "password", "project-id",
      "project-name", "domain-id", "domain-name", "user-domain-id", "user-domain-name", "project-domain-id",
      "project-domain-name", "trust-id", "application-credential-id", "application-credential-name",
      "application-credential-secret", "region", "os-endpoint-type", "ca-file", "tls-insecure", "cinder-endpoint");
  private static final Map<String, String> ALIASES = Map.of("tenant-id", "project-id", "tenant-name",
      "project-name", "tenant-domain-id", "project-domain-id", "tenant-domain-name", "project-domain-name");
  private static final Set<String> SECRETS = Set.of("password", "application-credential-secret");
  /** Keys other providers accept that we read and deliberately ignore (said once, not as "unknown"). */
  private static final Set<String> IGNORED = Set.of("cert-file", "key-file", "use-clouds", "clouds-file", "cloud",
      "trustee-id", "trustee-password", "bs-version");
  private static final Map<String, String> ENV = new LinkedHashMap<>();

  static {
    ENV.put("OS_AUTH_URL", "auth-url");
    ENV.put("OS_USERNAME", "username");
    ENV.put("OS_USER_ID", "user-id");
    ENV.put("OS_PASSWORD", "password");
    ENV.put("OS_TENANT_ID", "project-id");
    ENV.put("OS_PROJECT_ID", "project-id");
    ENV.put("OS_TENANT_NAME", "project-name");
    ENV.put("OS_PROJECT_NAME", "project-name");
    ENV.put("OS_DOMAIN_ID", "domain-id");
    ENV.put("OS_DOMAIN_NAME", "domain-name");
    ENV.put("OS_USER_DOMAIN_ID", "user-domain-id");
    ENV.put("OS_USER_DOMAIN_NAME", "user-domain-name");
    ENV.put("OS_PROJECT_DOMAIN_ID", "project-domain-id");
    ENV.put("OS_PROJECT_DOMAIN_NAME", "project-domain-name");
    ENV.put("OS_TRUST_ID", "trust-id");
    ENV.put("OS_APPLICATION_CREDENTIAL_ID", "application-credential-id");
    ENV.put("OS_APPLICATION_CREDENTIAL_NAME", "application-credential-name");
    ENV.put("OS_APPLICATION_CREDENTIAL_SECRET", "application-credential-secret");
    ENV.put("OS_REGION_NAME", "region");
    ENV.put("OS_ENDPOINT_TYPE", "os-endpoint-type");
    ENV.put("OS_INTERFACE", "os-endpoint-type");
    ENV.put("OS_CACERT", "ca-file");
    ENV.put("OS_INSECURE", "tls-insecure");
    ENV.put("OS_CINDER_ENDPOINT", "cinder-endpoint");
  }

  private final Map<String, String> values;
  private final Map<String, String> origins;
  private final AuthMode mode;

  private CloudConfig(Map<String, String> values, Map<String, String> origins) throws ConfigException {
    this.values = Map.copyOf(values);
    this.origins = Map.copyOf(origins);
    this.mode = validate();
  }

  /**
   * Reads {@code file} (when present) and {@code env}. Tests pass a map; the CLI passes {@code System.getenv()}.
   */
  public static CloudConfig load(Optional<Path> file, Map<String, String> env) throws ConfigException {
    Map<String, String> values = new TreeMap<>();
    Map<String, String> origins = new TreeMap<>();
    for (var e : ENV.entrySet()) {
      String v = env.get(e.getKey());
      if (v != null && !v.isBlank() && !values.containsKey(e.getValue())) {
        values.put(e.getValue(), v.trim());
        origins.put(e.getValue(), e.getKey());
      }
    }
    if (file.isPresent()) {
      for (var e : parseGlobal(file.get()).entrySet()) {
        values.put(e.getKey(), e.getValue());
        origins.put(e.getKey(), "[Global] " + e.getKey());
      }
    }
    return new CloudConfig(values, origins);
  }

  /** The {@code [Global]} section's known keys, canonicalized; warns once per unknown key. */
  static Map<String, String> parseGlobal(Path file) throws ConfigException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new ConfigException("cloud config " + file + ": cannot read it (" + e.getClass().getSimpleName()
          + ": " + e.getMessage() + ")");
    }
    Map<String, String> out = new LinkedHashMap<>();
    String section = null;
    boolean sawGlobal = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[")) {
        if (!line.endsWith("]")) {
          throw new ConfigException("cloud config " + file + " line " + (i + 1) + ": unterminated section header");
        }
        section = line.substring(1, line.length() - 1).strip();
        sawGlobal |= section.equalsIgnoreCase("Global");
        continue;
      }
      if (section == null || !section.equalsIgnoreCase("Global")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("cloud config " + file + " line " + (i + 1) + ": expected key = value");
      }
      String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = unquote(line.substring(eq + 1).strip());
      key = ALIASES.getOrDefault(key, key);
      if (IGNORED.contains(key)) {
        log.warn("cloud config: [Global] {} is not supported by standalone-cinder and is ignored", key);
      } else if (!KEYS.contains(key)) {
        log.warn("cloud config: unknown key [Global] {} is ignored", key);
      } else if (!value.isEmpty()) {
        out.put(key, value);
      }
    }
    if (!sawGlobal) {
      throw new ConfigException("cloud config " + file + ": no [Global] section");
    }
    return out;
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  private AuthMode validate() throws ConfigException {
    if (has("tls-insecure")) {
      String v = get("tls-insecure").toLowerCase(Locale.ROOT);
      if (!Set.of("true", "false", "1", "0", "yes", "no").contains(v)) {
        throw bad("tls-insecure", "must be \"true\" or \"false\", got \"" + get("tls-insecure") + "\"");
      }
    }
    if (has("ca-file") && !Files.isReadable(Path.of(get("ca-file")))) {
      throw bad("ca-file", "names " + get("ca-file") + ", which cannot be read: mount the CA bundle there");
    }
    if (has("os-endpoint-type")) {
      String t = get("os-endpoint-type").toLowerCase(Locale.ROOT).replace("url", "");
      if (!Set.of("public", "internal", "admin").contains(t)) {
        throw bad("os-endpoint-type", "must be public, internal or admin, got \"" + get("os-endpoint-type") + "\"");
      }
    }
    if (has("cinder-endpoint")) {
      requireUrl("cinder-endpoint");
      return AuthMode.NOAUTH;
    }
    if (!has("auth-url")) {
      throw new ConfigException("cloud config: no Cinder to talk to: set auth-url (Keystone) or cinder-endpoint "
          + "(noauth), in [Global] or as OS_AUTH_URL / OS_CINDER_ENDPOINT");
    }
    requireUrl("auth-url");
    if (has("application-credential-id") || has("application-credential-name")) {
      if (!has("application-credential-secret")) {
        throw bad("application-credential-secret", "is missing: an application credential needs its secret");
      }
      if (!has("application-credential-id") && !has("user-id") && !(has("username") && userDomainSet())) {
        throw bad("application-credential-name", "needs the user: set user-id, or username with user-domain-name");
      }
      return AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL;
    }
    if (!has("username") && !has("user-id")) {
      throw bad("username", "is missing: set username (or user-id) and password, or an application credential");
    }
    if (!has("password")) {
      throw bad("password", "is missing for user " + (has("username") ? get("username") : get("user-id")));
    }
    boolean v2 = get("auth-url").replaceAll("/+$", "").endsWith("/v2.0");
    if (v2) {
      if (!has("project-id") && !has("project-name")) {
        throw bad("tenant-name", "is missing: Keystone v2.0 needs tenant-name or tenant-id");
      }
      return AuthMode.KEYSTONE_V2_PASSWORD;
    }
    if (has("username") && !has("user-id") && !userDomainSet()) {
      throw bad("user-domain-name", "is missing: Keystone v3 needs the user's domain (user-domain-name, "
          + "user-domain-id, domain-name or domain-id) when the user is given by name");
    }
    if (has("trust-id")) {
      return AuthMode.KEYSTONE_V3_TRUST;
    }
    if (!has("project-id") && !has("project-name")) {
      throw bad("tenant-name", "is missing: set tenant-name (or tenant-id / project-name / project-id) so the "
          + "token is scoped to the project owning the volumes");
    }
    if (has("project-name") && !has("project-id") && !projectDomainSet()) {
      throw bad("tenant-domain-name", "is missing: a project given by name needs its domain (tenant-domain-name, "
          + "project-domain-name, domain-name or their -id forms)");
    }
    return AuthMode.KEYSTONE_V3_PASSWORD;
  }

  private void requireUrl(String key) throws ConfigException {
    try {
      URI u = URI.create(get(key));
      if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
          || u.getHost() == null) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw bad(key, "must be an http(s) URL, got \"" + get(key) + "\"");
    }
  }

  private ConfigException bad(String key, String problem) {
    String origin = origins.getOrDefault(key, "[Global] " + key);
    if (origin.startsWith("OS_")) {
      origin = origin + " (" + key + ")";
    }
    return new ConfigException("cloud config: " + origin + " " + problem);
  }

  private boolean userDomainSet() {
    return has("user-domain-name") || has("user-domain-id") || has("domain-name") || has("domain-id");
  }

  private boolean projectDomainSet() {
    return has("project-domain-name") || has("project-domain-id") || has("domain-name") || has("domain-id");
  }

  boolean has(String key) {
    return values.containsKey(key);
  }

  /** The value of a canonical key, or null. */
  public String get(String key) {
    return values.get(key);
  }

  public AuthMode mode() {
    return mode;
  }

  public String authUrl() {
    return get("auth-url");
  }

  public String cinderEndpoint() {
    return get("cinder-endpoint");
  }

  public String region() {
    return get("region");
  }

  /** public, internal or admin. */
  public String endpointInterface() {
    String t = get("os-endpoint-type");
    return t == null ? "public" : t.toLowerCase(Locale.ROOT).replace("url", "");
  }

  public boolean tlsInsecure() {
    String v = get("tls-insecure");
    return v != null && Set.of("true", "1", "yes").contains(v.toLowerCase(Locale.ROOT));
  }

  public Optional<Path> caFile() {
    return Optional.ofNullable(get("ca-file")).map(Path::of);
  }

  /** The user's domain: explicit user domain first, then the shared domain (cloud-provider-openstack's rule). */
  String userDomainId() {
    return firstOf("user-domain-id", "domain-id");
  }

  String userDomainName() {
    return has("user-domain-id") ? null : firstOf("user-domain-name", has("domain-id") ? null : "domain-name");
  }

  String projectDomainId() {
    return firstOf("project-domain-id", "domain-id");
  }

  String projectDomainName() {
    return has("project-domain-id") ? null
        : firstOf("project-domain-name", has("domain-id") ? null : "domain-name");
  }

  private String firstOf(String... keys) {
    for (String k : keys) {
      if (k != null && has(k)) {
        return get(k);
      }
    }
    return null;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("CloudConfig[mode=").append(mode);
    values.forEach((k, v) -> b.append(", ").append(k).append('=').append(SECRETS.contains(k) ? "******" : v));
    return b.append(']').toString();
  }
}
