package io.github.standalonecinder.mappers;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the cephx key out of a Ceph keyring file's text, which Cinder's RBD driver returns verbatim as
 * {@code keyring} when {@code rbd_keyring_conf} is set:
 * <pre>
 * [client.cinder]
 *     key = AQ...==
 * </pre>
 */
final class CephKeyring {
  private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/]+={0,2}");

  private CephKeyring() {
  }

  /**
   * The key of {@code client.<user>}, else the only key in the file; null if there is none or several and none
   * matches {@code user}. Never returns a malformed key.
   */
  static String key(String keyring, String user) {
    Map<String, String> keys = new LinkedHashMap<>();
    String section = "";
    for (String raw : keyring.split("\\R")) {
      String line = raw.strip();
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1).strip();
        continue;
      }
      int eq = line.indexOf('=');
      if (eq > 0 && line.substring(0, eq).strip().equals("key")) {
        String value = unquote(line.substring(eq + 1).strip());
        if (BASE64.matcher(value).matches()) {
          keys.put(section, value);
        }
      }
    }
    if (user != null && keys.containsKey("client." + user)) {
      return keys.get("client." + user);
    }
    return keys.size() == 1 ? keys.values().iterator().next() : null;
  }

  private static String unquote(String s) {
    return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
  }
}
