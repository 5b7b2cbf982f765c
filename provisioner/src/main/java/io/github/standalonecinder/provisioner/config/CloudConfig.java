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
 * <p><b>Precedence:</b> key by key, a value in the file wins over a clouds.yaml cloud ({@link CloudsYaml}, when
 * {@code --os-cloud} or {@code OS_CLOUD} names one), which wins over the environment; a key absent from one is
 * taken from the next. (The Go original ignored the environment entirely once a file was given.) The
 * {@code tenant-*} and {@code project-*} spellings are the same key. The file is read as gcfg reads it
 * ({@link CloudConfFile}); an unknown key in {@code [Global]}, {@code [BlockStorage]} or {@code [Metadata]} is an
 * error that names the near misses; the other cloud-provider-openstack sections are skipped.
 *
 * <p><b>Mode:</b> {@code auth-url} names Keystone, and the credentials present choose application credential,
 * token, trust, v2.0 (an auth URL ending in {@code /v2.0}) or v3 password; {@code cinder-endpoint} then replaces the
 * catalog's endpoint. Without {@code auth-url}, or with {@code auth-strategy = noauth}, {@code cinder-endpoint}
 * means noauth (no Keystone).
 *
 * <p>{@link #toString()} masks the password, the application credential secret and the token.
 */
public final class CloudConfig {
  private static final Logger log = LoggerFactory.getLogger(CloudConfig.class);

  /** Canonical keys; aliases map onto them. */
  static final Set<String> KEYS = Set.of("auth-url", "username", "user-id", "password", "project-id",
      "project-name", "domain-id", "domain-name", "user-domain-id", "user-domain-name", "project-domain-id",
      "project-domain-name", "trust-id", "application-credential-id", "application-credential-name",
      "application-credential-secret", "region", "os-endpoint-type", "ca-file", "cert-file", "key-file",
      "tls-insecure", "cinder-endpoint", "auth-strategy", "token");
  private static final Map<String, String> ALIASES = Map.of("tenant-id", "project-id", "tenant-name",
      "project-name", "tenant-domain-id", "project-domain-id", "tenant-domain-name", "project-domain-name");
  private static final Set<String> SECRETS = Set.of("password", "application-credential-secret", "token");
  /** Keys other providers accept that we read and deliberately ignore (said once, not as "unknown"). */
  private static final Set<String> IGNORED = Set.of("trustee-id", "trustee-password", "bs-version");
  /** cinder-csi's keys that take a section's credentials from a clouds.yaml entry. */
  static final Set<String> CLOUDS_YAML_KEYS = Set.of("use-clouds", "clouds-file", "cloud");
  /**
   * The connector of one cloud's exports, overriding the {@code --connector-*} flags key by key: the nodes of one
   * storage network often differ from another's (their initiator IQN, WWPNs, host).
   */
  public static final Set<String> CONNECTOR_KEYS = Set.of("connector-host", "connector-ip", "connector-initiator",
      "connector-wwpns", "connector-multipath");
  /** Keys of cloud-provider-openstack's {@code [BlockStorage]} (and older in-tree ones), accepted, not used. */
  private static final Set<String> BLOCK_STORAGE = Set.of("node-volume-attach-limit", "rescan-on-resize",
      "ignore-volume-az", "ignore-volume-microversion", "bs-version", "trust-device-path");
  /** Keys of {@code [Metadata]}, accepted, not used. */
  private static final Set<String> METADATA = Set.of("search-order", "request-timeout");
  /** Keys that gcfg reads as booleans: written without {@code = value} they mean true. */
  private static final Set<String> BOOLEAN_KEYS = Set.of("rescan-on-resize", "ignore-volume-az",
      "ignore-volume-microversion", "trust-device-path");
  /** Sections this program checks, by lower-case name, with the keys allowed in them. */
  private static final Map<String, Set<String>> SECTIONS = Map.of(
      "global", union(KEYS, ALIASES.keySet(), IGNORED, CLOUDS_YAML_KEYS, CONNECTOR_KEYS),
      "blockstorage", BLOCK_STORAGE,
      "metadata", METADATA);
  /** Sections of the OpenStack cloud controller manager, which shares the file: skipped without a word. */
  private static final Set<String> OTHER_COMPONENTS = Set.of("loadbalancer", "loadbalancerclass", "networking",
      "route");
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
    ENV.put("OS_CERT", "cert-file");
    ENV.put("OS_KEY", "key-file");
    ENV.put("OS_INSECURE", "tls-insecure");
    ENV.put("OS_CINDER_ENDPOINT", "cinder-endpoint");
    ENV.put("OS_TOKEN", "token");
  }

  @SafeVarargs
  private static Set<String> union(Set<String>... sets) {
    Set<String> out = new java.util.HashSet<>();
    for (Set<String> s : sets) {
      out.addAll(s);
    }
    return Set.copyOf(out);
  }

  private final Map<String, String> values;
  private final Map<String, String> connector;
  private final Map<String, String> origins;
  private final List<Path> sources;
  private final List<String> namedClouds;
  private final Map<String, String> blockStorage;
  private final Map<String, String> metadata;
  private final AuthMode mode;
  private final String sectionName;
  private final Optional<ClientCertificate> clientCertificate;

  private CloudConfig(Map<String, String> values, Map<String, String> origins, Optional<CloudConfFile> file,
      List<Path> sources, String sectionName) throws ConfigException {
    this.sectionName = sectionName;
    Map<String, String> auth = new TreeMap<>(values);
    auth.keySet().removeAll(CONNECTOR_KEYS);
    Map<String, String> connector = new TreeMap<>(values);
    connector.keySet().retainAll(CONNECTOR_KEYS);
    this.values = Map.copyOf(auth);
    this.connector = Map.copyOf(connector);
    this.origins = Map.copyOf(origins);
    this.namedClouds = file.map(f -> f.subsections("global")).orElse(List.of());
    this.blockStorage = file.map(f -> section(f, "blockstorage")).map(Map::copyOf).orElse(Map.of());
    this.metadata = file.map(f -> section(f, "metadata")).map(Map::copyOf).orElse(Map.of());
    this.mode = validate();
    this.clientCertificate = clientCertificate();
    // A renewed client certificate is a changed configuration too (cert-manager renews them in place).
    List<Path> watched = new java.util.ArrayList<>(sources);
    clientCertificateFiles().forEach(watched::add);
    this.sources = List.copyOf(watched);
  }

  /** The client certificate and key files, as given: read at load, watched like the configuration files. */
  private List<Path> clientCertificateFiles() {
    return java.util.stream.Stream.of(get("cert-file"), get("key-file")).filter(java.util.Objects::nonNull)
        .map(Path::of).toList();
  }

  private Optional<ClientCertificate> clientCertificate() throws ConfigException {
    if (!has("cert-file")) {
      if (has("key-file")) {
        throw bad("key-file", "is set without cert-file: a client certificate needs both");
      }
      return Optional.empty();
    }
    return Optional.of(ClientCertificate.read(Path.of(get("cert-file")),
        has("key-file") ? Path.of(get("key-file")) : null));
  }

  /**
   * Reads {@code file} (when present) and {@code env}. Tests pass a map; the CLI passes {@code System.getenv()}.
   */
  public static CloudConfig load(Optional<Path> file, Map<String, String> env) throws ConfigException {
    return load(file, env, "");
  }

  /**
   * As {@link #load(Optional, Map)}, reading {@code [Global "cloud"]} instead of {@code [Global]} when
   * {@code cloud} is not empty. Every section is checked either way.
   */
  public static CloudConfig load(Optional<Path> file, Map<String, String> env, String cloud)
      throws ConfigException {
    return load(file, env, cloud, null, CloudsYaml.standardDirs());
  }

  /**
   * Everything: the {@code OS_*} environment, then the cloud {@code osCloud} of a clouds.yaml (null: the one
   * {@code OS_CLOUD} names, if any) found in {@code cloudsYamlDirs} or through {@code OS_CLIENT_CONFIG_FILE}, then
   * the cloud.conf {@code file}; key by key, each later source wins.
   *
   * <p>A named cloud ({@code [Global "cloud"]}) takes nothing from the environment or {@code osCloud}: those
   * describe the default cloud. Either kind of section may take its credentials from a clouds.yaml entry as
   * cinder-csi does ({@code use-clouds = true}, {@code cloud = <entry>}, optionally {@code clouds-file}); keys
   * given in the section win over the entry's.
   */
  public static CloudConfig load(Optional<Path> file, Map<String, String> env, String cloud, String osCloud,
      List<Path> cloudsYamlDirs) throws ConfigException {
    Optional<CloudConfFile> parsed = file.isPresent() ? Optional.of(CloudConfFile.read(file.get()))
        : Optional.empty();
    return load(file, parsed, env, cloud, osCloud, cloudsYamlDirs);
  }

  /** As above, with the file already read ({@code parsed}), as {@link CloudSet} reads it once for every cloud. */
  static CloudConfig load(Optional<Path> file, Optional<CloudConfFile> parsed, Map<String, String> env,
      String cloud, String osCloud, List<Path> cloudsYamlDirs) throws ConfigException {
    boolean named = !cloud.isEmpty();
    Map<String, String> section = parsed.isPresent() ? global(parsed.get(), cloud) : Map.of();
    String sectionName = new CloudConfFile.Section("Global", cloud).toString();
    Map<String, String> values = new TreeMap<>();
    Map<String, String> origins = new TreeMap<>();
    if (!named) {
      for (var e : ENV.entrySet()) {
        String v = env.get(e.getKey());
        if (v != null && !v.isBlank() && !values.containsKey(e.getValue())) {
          values.put(e.getValue(), v.trim());
          origins.put(e.getValue(), e.getKey());
        }
      }
    }
    List<Path> sources = new java.util.ArrayList<>();
    String yamlCloud = named ? null : osCloud != null && !osCloud.isBlank() ? osCloud.trim() : env.get("OS_CLOUD");
    Map<String, String> yamlEnv = env;
    if (isTrue(section.get("use-clouds"))) {
      yamlCloud = section.get("cloud");
      if (yamlCloud == null) {
        throw new ConfigException("cloud config: " + sectionName + " use-clouds = true needs cloud = <the name of "
            + "a clouds.yaml cloud>");
      }
      if (section.containsKey("clouds-file")) {
        yamlEnv = new java.util.HashMap<>(env);
        yamlEnv.put("OS_CLIENT_CONFIG_FILE", section.get("clouds-file"));
      }
    } else if (section.containsKey("cloud") || section.containsKey("clouds-file")) {
      throw new ConfigException("cloud config: " + sectionName + " " + (section.containsKey("cloud") ? "cloud"
          : "clouds-file") + " is set without use-clouds = true (cinder-csi reads a clouds.yaml only with it)");
    }
    if (yamlCloud != null && !yamlCloud.isBlank()) {
      values.putAll(CloudsYaml.load(yamlCloud.trim(), yamlEnv, cloudsYamlDirs, origins));
      sources.addAll(CloudsYaml.files(yamlEnv, cloudsYamlDirs));
    }
    file.ifPresent(sources::add);
    for (var e : section.entrySet()) {
      if (!CLOUDS_YAML_KEYS.contains(e.getKey())) {
        values.put(e.getKey(), e.getValue());
        origins.put(e.getKey(), sectionName + " " + e.getKey());
      }
    }
    return new CloudConfig(values, origins, parsed, sources, sectionName);
  }

  private static boolean isTrue(String v) {
    return v != null && Set.of("true", "1", "yes").contains(v.toLowerCase(Locale.ROOT));
  }

  /** Where clouds.yaml and secure.yaml are looked for: ., ~/.config/openstack, /etc/openstack. */
  public static List<Path> standardCloudsYamlDirs() {
    return CloudsYaml.standardDirs();
  }

  /** The unnamed {@code [Global]} section's keys, canonicalized. */
  static Map<String, String> parseGlobal(Path file) throws ConfigException {
    return global(CloudConfFile.read(file), "");
  }

  /**
   * The keys of {@code [Global]} ({@code cloud} empty) or {@code [Global "cloud"]}, canonicalized, after checking
   * every section this program reads: an unknown key there is an error naming the near misses; sections of other
   * cloud-provider-openstack components are skipped.
   */
  static Map<String, String> global(CloudConfFile file, String cloud) throws ConfigException {
    for (CloudConfFile.Section s : file.sections()) {
      if (s.name().equals("global") && !s.subsection().equals(cloud)) {
        continue; // another cloud's: checked when that cloud is read, so its mistakes are its own
      }
      Set<String> known = SECTIONS.get(s.name());
      if (known == null) {
        if (!OTHER_COMPONENTS.contains(s.name())) {
          List<String> near = CloudConfFile.near(s.name(), SECTIONS.keySet());
          log.warn("cloud config {}: section {} is not read by standalone-cinder and is ignored{}", file.source(),
              s, near.isEmpty() ? "" : " (did you mean " + new CloudConfFile.Section(near.get(0), "") + "?)");
        }
        continue;
      }
      for (CloudConfFile.Entry e : file.entries(s)) {
        if (!known.contains(e.key())) {
          List<String> near = CloudConfFile.near(e.key(), known);
          throw new ConfigException("cloud config " + file.source() + " line " + e.line() + ": unknown key "
              + e.key() + " in " + s + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near) + "?"));
        }
        if (e.value() == null && !BOOLEAN_KEYS.contains(e.key())) {
          throw new ConfigException("cloud config " + file.source() + " line " + e.line() + ": " + e.key()
              + " in " + s + " has no value: write " + e.key() + " = <value>");
        }
      }
    }
    CloudConfFile.Section wanted = new CloudConfFile.Section("global", cloud);
    if (!file.sections().contains(wanted)) {
      List<String> named = file.subsections("global");
      throw new ConfigException("cloud config " + file.source() + ": no " + wanted + " section"
          + (!named.isEmpty() ? " (it has " + String.join(", ", named.stream()
              .map(n -> "[Global \"" + n + "\"]").toList()) + ")" : ""));
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (CloudConfFile.Entry e : file.entries(wanted)) {
      String key = ALIASES.getOrDefault(e.key(), e.key());
      if (IGNORED.contains(key)) {
        log.warn("cloud config: {} {} is not supported by standalone-cinder and is ignored", wanted, key);
      } else if (e.value().isEmpty()) {
        out.remove(key);
      } else {
        out.put(key, e.value());
      }
    }
    return out;
  }

  /**
   * The keys of {@code [BlockStorage]} or {@code [Metadata]} as given (last value wins, a key without a value is
   * "true"). They configure cloud-provider-openstack's node plugin; they are accepted so that its cloud.conf can be
   * shared, and not used here.
   */
  static Map<String, String> section(CloudConfFile file, String name) {
    Map<String, String> out = new LinkedHashMap<>();
    for (CloudConfFile.Entry e : file.entries(new CloudConfFile.Section(name, ""))) {
      out.put(e.key(), e.value() == null ? "true" : e.value());
    }
    return out;
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
    String strategy = has("auth-strategy") ? get("auth-strategy").toLowerCase(Locale.ROOT) : null;
    if (strategy != null && !strategy.equals("keystone") && !strategy.equals("noauth")) {
      throw bad("auth-strategy", "must be keystone or noauth, got \"" + get("auth-strategy") + "\"");
    }
    if (has("cinder-endpoint")) {
      requireUrl("cinder-endpoint");
    }
    if ("noauth".equals(strategy) || strategy == null && has("cinder-endpoint") && !has("auth-url")) {
      if (!has("cinder-endpoint")) {
        throw bad("auth-strategy", "is noauth, which needs cinder-endpoint: without Keystone there is no catalog");
      }
      return AuthMode.NOAUTH;
    }
    if (!has("auth-url")) {
      if ("keystone".equals(strategy)) {
        throw bad("auth-url", "is missing: auth-strategy = keystone needs Keystone's URL");
      }
      throw new ConfigException("cloud config: no Cinder to talk to: set auth-url (Keystone) or cinder-endpoint "
          + "(noauth), in " + sectionName + (sectionName.equals("[Global]") ? " or as OS_AUTH_URL / OS_CINDER_ENDPOINT"
          : ""));
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
    if (has("token") && !has("password")) {
      if (get("auth-url").replaceAll("/+$", "").endsWith("/v2.0")) {
        throw bad("token", "needs Keystone v3: give an auth-url without /v2.0");
      }
      if (!has("project-id") && !has("project-name")) {
        throw bad("token", "needs the project to scope to: set tenant-id (or tenant-name with its domain)");
      }
      if (has("project-name") && !has("project-id") && !projectDomainSet()) {
        throw bad("tenant-domain-name", "is missing: a project given by name needs its domain");
      }
      return AuthMode.KEYSTONE_V3_TOKEN;
    }
    if (!has("username") && !has("user-id")) {
      throw bad("username", "is missing: set username (or user-id) and password, an application credential, "
          + "or a token");
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
    String origin = origins.getOrDefault(key, sectionName + " " + key);
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
    return isTrue(get("tls-insecure"));
  }

  public Optional<Path> caFile() {
    return Optional.ofNullable(get("ca-file")).map(Path::of);
  }

  /** The client certificate for mutual TLS ({@code cert-file}, {@code key-file}), read and checked at load. */
  Optional<ClientCertificate> clientCertificateToPresent() {
    return clientCertificate;
  }

  /**
   * The user's domain id, when the domain is given by id. The specific keys beat the shared ones, whatever the
   * form: user-domain-id, then user-domain-name, then domain-id, then domain-name; exactly one of
   * {@link #userDomainId()} and {@link #userDomainName()} is non-null when any is set.
   */
  String userDomainId() {
    return domain("user-domain-id", "user-domain-name", true);
  }

  String userDomainName() {
    return domain("user-domain-id", "user-domain-name", false);
  }

  /** As for the user: project-domain-id, project-domain-name, then domain-id, domain-name. */
  String projectDomainId() {
    return domain("project-domain-id", "project-domain-name", true);
  }

  String projectDomainName() {
    return domain("project-domain-id", "project-domain-name", false);
  }

  private String domain(String specificId, String specificName, boolean wantId) {
    for (String[] pair : new String[][] {{specificId, specificName}, {"domain-id", "domain-name"}}) {
      if (has(pair[0])) {
        return wantId ? get(pair[0]) : null;
      }
      if (has(pair[1])) {
        return wantId ? null : get(pair[1]);
      }
    }
    return null;
  }

  /**
   * The endpoint to use instead of Keystone's catalog, when Keystone is used and {@code cinder-endpoint} is set;
   * otherwise null.
   */
  public String endpointOverride() {
    return mode == AuthMode.NOAUTH ? null : get("cinder-endpoint");
  }

  /** One line saying how this configuration authenticates and where Cinder's endpoint comes from. */
  public String describeAuth() {
    if (mode == AuthMode.NOAUTH) {
      return "noauth (no Keystone): Cinder at " + cinderEndpoint() + ", as user "
          + (get("username") == null ? "admin" : get("username"));
    }
    String how = switch (mode) {
      case KEYSTONE_V3_APPLICATION_CREDENTIAL -> "application credential";
      case KEYSTONE_V3_TRUST -> "password with trust " + get("trust-id");
      case KEYSTONE_V3_TOKEN -> "token";
      case KEYSTONE_V2_PASSWORD -> "v2.0 password";
      default -> "v3 password";
    };
    return "Keystone at " + authUrl() + " (" + how + "); Cinder endpoint "
        + (endpointOverride() != null ? endpointOverride() + " from cinder-endpoint (catalog not used)"
            : "from the catalog (" + endpointInterface() + (region() == null ? "" : ", region " + region()) + ")");
  }

  /** The files this configuration was read from (cloud.conf, clouds.yaml, secure.yaml), for watching them. */
  public List<Path> sources() {
    return sources;
  }

  /** The subsection names of {@code [Global "name"]} sections in the file, in file order. */
  public List<String> namedClouds() {
    return namedClouds;
  }

  /** The {@code connector-*} keys of this cloud's section ({@link #CONNECTOR_KEYS}), as given. */
  public Map<String, String> connectorKeys() {
    return connector;
  }

  /** {@code [BlockStorage]} as given; read and checked, used by cloud-provider-openstack's node plugin only. */
  public Map<String, String> blockStorage() {
    return blockStorage;
  }

  /** {@code [Metadata]} as given; read and checked, not used. */
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("CloudConfig[mode=").append(mode);
    values.forEach((k, v) -> b.append(", ").append(k).append('=').append(SECRETS.contains(k) ? "******" : v));
    return b.append(']').toString();
  }
}
