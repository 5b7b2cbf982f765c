package io.github.standalonecinder.provisioner.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cloud of a {@code clouds.yaml}, found and merged as the OpenStack clients do: the file named by
 * {@code OS_CLIENT_CONFIG_FILE}, else the first {@code clouds.yaml} in the current directory,
 * {@code ~/.config/openstack} and {@code /etc/openstack}; then {@code secure.yaml} ({@code OS_CLIENT_SECURE_FILE},
 * else the same directories) merged over it, key by key. Its keys are mapped onto cloud.conf's.
 */
final class CloudsYaml {
  private static final Logger log = LoggerFactory.getLogger(CloudsYaml.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code auth:} keys → cloud.conf keys. */
  private static final Map<String, String> AUTH = new LinkedHashMap<>();
  /** Top-level keys of a cloud → cloud.conf keys. */
  private static final Map<String, String> TOP = new LinkedHashMap<>();

  static {
    for (String k : List.of("auth_url", "username", "user_id", "password", "project_id", "project_name",
        "user_domain_id", "user_domain_name", "project_domain_id", "project_domain_name", "domain_id",
        "domain_name", "trust_id", "application_credential_id", "application_credential_name",
        "application_credential_secret", "token")) {
      AUTH.put(k, k.replace('_', '-'));
    }
    AUTH.put("tenant_id", "project-id");
    AUTH.put("tenant_name", "project-name");
    TOP.put("region_name", "region");
    TOP.put("interface", "os-endpoint-type");
    TOP.put("endpoint_type", "os-endpoint-type");
    TOP.put("cacert", "ca-file");
    TOP.put("cert", "cert-file");
    TOP.put("key", "key-file");
    TOP.put("block_storage_endpoint_override", "cinder-endpoint");
    TOP.put("volumev3_endpoint_override", "cinder-endpoint");
    TOP.put("volume_endpoint_override", "cinder-endpoint");
  }

  /**
   * Top-level keys read elsewhere in this class, or that only concern other services: accepted without a word.
   * Any other key (a profile, several regions) is named in one warning and not used.
   */
  private static final Set<String> OTHER = Set.of("auth", "auth_type", "verify", "insecure", "identity_api_version",
      "volume_api_version", "block_storage_api_version", "compute_api_version", "image_api_version",
      "network_api_version", "api_timeout");

  private CloudsYaml() {}

  /** The standard directories searched for clouds.yaml and secure.yaml, in order. */
  static List<Path> standardDirs() {
    String home = System.getProperty("user.home");
    List<Path> dirs = new ArrayList<>();
    dirs.add(Path.of("").toAbsolutePath());
    if (home != null) {
      dirs.add(Path.of(home, ".config", "openstack"));
    }
    dirs.add(Path.of("/etc/openstack"));
    return dirs;
  }

  /** The cloud named {@code cloud}, as cloud.conf keys; where each came from is put in {@code origins}. */
  static Map<String, String> load(String cloud, Map<String, String> env, List<Path> dirs,
      Map<String, String> origins) throws ConfigException {
    Path clouds = find(env.get("OS_CLIENT_CONFIG_FILE"), "clouds.yaml", dirs).orElseThrow(() ->
        new ConfigException("clouds.yaml: cloud " + cloud + " was asked for (--os-cloud or OS_CLOUD), but there is "
            + "no clouds.yaml in " + String.join(", ", dirs.stream().map(Path::toString).toList())
            + " and OS_CLIENT_CONFIG_FILE is not set"));
    JsonNode entry = cloudIn(clouds, cloud, true);
    Optional<Path> secure = find(env.get("OS_CLIENT_SECURE_FILE"), "secure.yaml", dirs);
    if (secure.isPresent()) {
      JsonNode extra = cloudIn(secure.get(), cloud, false);
      if (extra != null) {
        entry = merge(entry.deepCopy(), extra);
      }
    }
    String where = clouds + " cloud " + cloud;
    Map<String, String> out = new LinkedHashMap<>();
    Set<String> ignored = new TreeSet<>();
    var fields = entry.fields();
    while (fields.hasNext()) {
      var f = fields.next();
      String key = TOP.get(f.getKey());
      if (key != null) {
        put(out, origins, key, f.getValue(), where + " " + f.getKey());
      } else if (!OTHER.contains(f.getKey())) {
        ignored.add(f.getKey());
      }
    }
    JsonNode auth = entry.path("auth");
    var authFields = auth.fields();
    while (authFields.hasNext()) {
      var f = authFields.next();
      String key = AUTH.get(f.getKey());
      if (key != null) {
        put(out, origins, key, f.getValue(), where + " auth." + f.getKey());
      } else if (f.getKey().equals("endpoint")) {
        // keystoneauth's "none" plugin: the service URL sits in auth.
        if (!out.containsKey("cinder-endpoint")) {
          put(out, origins, "cinder-endpoint", f.getValue(), where + " auth.endpoint");
        }
      } else {
        ignored.add("auth." + f.getKey());
      }
    }
    if (entry.has("verify") && !entry.get("verify").asBoolean(true)) {
      out.put("tls-insecure", "true");
      origins.put("tls-insecure", where + " verify");
    }
    if (entry.has("insecure") && entry.get("insecure").asBoolean(false)) {
      out.put("tls-insecure", "true");
      origins.put("tls-insecure", where + " insecure");
    }
    String authType = entry.path("auth_type").asText("").toLowerCase(Locale.ROOT);
    switch (authType) {
      case "", "password", "v3password", "v2password", "v3applicationcredential", "token", "v3token", "v2token" -> { }
      case "none", "noauth", "admin_token" -> {
        out.put("auth-strategy", "noauth");
        origins.put("auth-strategy", where + " auth_type");
      }
      default -> throw new ConfigException("clouds.yaml " + where + ": auth_type " + authType + " is not supported "
          + "(password, v3applicationcredential, token or none are)");
    }
    if (!ignored.isEmpty()) {
      log.warn("clouds.yaml {}: not used by standalone-cinder: {}", where, String.join(", ", ignored));
    }
    return out;
  }

  /** The clouds.yaml and secure.yaml that {@link #load} reads, those that exist. */
  static List<Path> files(Map<String, String> env, List<Path> dirs) {
    List<Path> out = new ArrayList<>();
    find(env.get("OS_CLIENT_CONFIG_FILE"), "clouds.yaml", dirs).ifPresent(out::add);
    find(env.get("OS_CLIENT_SECURE_FILE"), "secure.yaml", dirs).ifPresent(out::add);
    return out;
  }

  private static void put(Map<String, String> out, Map<String, String> origins, String key, JsonNode value,
      String origin) {
    if (value != null && !value.isNull() && !value.isContainerNode() && !value.asText().isBlank()) {
      out.put(key, value.asText().trim());
      origins.put(key, origin);
    }
  }

  private static Optional<Path> find(String explicit, String name, List<Path> dirs) {
    if (explicit != null && !explicit.isBlank()) {
      return Optional.of(Path.of(explicit));
    }
    return dirs.stream().map(d -> d.resolve(name)).filter(Files::isRegularFile).findFirst();
  }

  private static JsonNode cloudIn(Path file, String cloud, boolean required) throws ConfigException {
    JsonNode root;
    try {
      Object tree;
      try (var in = Files.newInputStream(file)) {
        tree = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
            new org.yaml.snakeyaml.LoaderOptions())).load(in);
      }
      root = tree == null ? null : JSON.valueToTree(tree);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("clouds.yaml " + file + ": cannot read it (" + e.getClass().getSimpleName() + ": "
          + firstLine(e.getMessage()) + ")");
    }
    JsonNode clouds = root == null ? null : root.get("clouds");
    if (clouds == null || !clouds.isObject()) {
      if (!required) {
        return null;
      }
      throw new ConfigException("clouds.yaml " + file + ": no clouds: mapping");
    }
    JsonNode entry = clouds.get(cloud);
    if (entry == null || !entry.isObject()) {
      if (!required) {
        return null;
      }
      List<String> names = new ArrayList<>();
      clouds.fieldNames().forEachRemaining(names::add);
      throw new ConfigException("clouds.yaml " + file + ": no cloud named " + cloud + " (it has " + names + ")");
    }
    return entry;
  }

  private static JsonNode merge(JsonNode base, JsonNode over) {
    if (!(base instanceof ObjectNode b) || !over.isObject()) {
      return over;
    }
    over.fields().forEachRemaining(f -> b.set(f.getKey(), b.has(f.getKey())
        ? merge(b.get(f.getKey()), f.getValue()) : f.getValue()));
    return b;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
