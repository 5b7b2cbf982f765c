package io.github.standalonecinder.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The real-Cinder lab of {@code test-e2e/lab/} as its {@code up.sh} described it in the env file named by the
 * system property {@code standalone-cinder.lab-env} (Maven passes {@code $LAB_ENV}).
 */
record Lab(Map<String, String> env) {

  /** The lab, or empty (with the reason printed by the caller) when none is up. */
  static Optional<Lab> find() {
    String path = System.getProperty("standalone-cinder.lab-env");
    if (path == null || path.isBlank() || path.startsWith("${")) {
      return Optional.empty();
    }
    Path file = Path.of(path);
    if (!Files.isReadable(file)) {
      return Optional.empty();
    }
    Map<String, String> env = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#") || !l.contains("=")) {
          continue;
        }
        if (l.startsWith("export ")) {
          l = l.substring(7);
        }
        int eq = l.indexOf('=');
        String v = l.substring(eq + 1).strip();
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
          v = v.substring(1, v.length() - 1);
        }
        env.put(l.substring(0, eq).strip(), v);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the lab env file " + file, e);
    }
    return Optional.of(new Lab(env));
  }

  static String whyMissing() {
    return "no real-Cinder lab: set LAB_ENV to the env file test-e2e/lab/up.sh writes (.ci/run does)";
  }

  String get(String key) {
    String v = env.get(key);
    if (v == null) {
      throw new IllegalStateException("the lab env file has no " + key);
    }
    return v;
  }

  boolean keystone() {
    return "keystone".equals(env.get("LAB_MODE"));
  }

  /** A cloud.conf for the provisioner: noauth against the given endpoint, or the lab's Keystone. */
  String cloudConf(boolean withProject) {
    if (!keystone()) {
      return "[Global]\ncinder-endpoint = " + get(withProject ? "CINDER_ENDPOINT_WITH_PROJECT" : "CINDER_ENDPOINT")
          + "\ntenant-id = " + get("CINDER_PROJECT_ID") + "\n";
    }
    return "[Global]\nauth-url = " + get("OS_AUTH_URL") + "\nusername = " + get("OS_USERNAME")
        + "\npassword = " + quoted(get("OS_PASSWORD")) + "\ntenant-name = " + get("OS_PROJECT_NAME")
        + "\nuser-domain-name = " + env.getOrDefault("OS_USER_DOMAIN_NAME", "Default")
        + "\ntenant-domain-name = " + env.getOrDefault("OS_PROJECT_DOMAIN_NAME", "Default")
        + "\nregion = " + env.getOrDefault("OS_REGION_NAME", "RegionOne") + "\n";
  }

  /** An application-credential cloud.conf (keystone mode only). */
  String applicationCredentialConf() {
    return "[Global]\nauth-url = " + get("OS_AUTH_URL") + "\napplication-credential-id = "
        + get("OS_APPLICATION_CREDENTIAL_ID") + "\napplication-credential-secret = "
        + quoted(get("OS_APPLICATION_CREDENTIAL_SECRET")) + "\nregion = "
        + env.getOrDefault("OS_REGION_NAME", "RegionOne") + "\n";
  }

  /** A gcfg quoted value: a secret may hold '#' or ';', which start a comment outside quotes. */
  static String quoted(String v) {
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
