package io.github.standalonecinder.provisioner.config;

import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.KubernetesIscsiNames;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The connector sent to Cinder, checked: from the {@code --connector-*} flags, and for one cloud from its
 * section's {@code connector-*} keys ({@link CloudConfig#CONNECTOR_KEYS}) over them, key by key. Backends export
 * a volume only to the initiators the connector names, so a bad one is refused here, not at the first claim.
 */
public final class ConnectorConfig {
  private ConnectorConfig() {}

  /**
   * A checked connector; {@code where} names each value's source in the error ("--connector-" for the flags,
   * "[Global "x"] connector-" for a section), followed by the key's last word.
   */
  public static Connector of(String host, String ip, String initiator, List<String> wwpns, boolean multipath,
      String where) throws ConfigException {
    for (String w : wwpns == null ? List.<String>of() : wwpns) {
      if (!w.matches("(?i)(0x)?[0-9a-f]{16}|([0-9a-f]{2}:){7}[0-9a-f]{2}")) {
        throw new ConfigException(where + "wwpns: \"" + w + "\" is not a WWPN (16 hex digits)");
      }
    }
    String iqn = initiator == null || initiator.isBlank() ? null : initiator.trim();
    if (iqn != null && !iqn.startsWith("iqn.") && !iqn.startsWith("eui.") && !iqn.startsWith("naa.")) {
      throw new ConfigException(where + "initiator: \"" + iqn + "\" is not an iSCSI name (iqn.…, eui.… or naa.…)");
    }
    if (iqn != null) {
      Optional<String> problem = KubernetesIscsiNames.problem(iqn);
      if (problem.isPresent()) {
        throw new ConfigException(where + "initiator: \"" + iqn + "\" is refused by Kubernetes as a PV's "
            + "initiatorName: it " + problem.get());
      }
    }
    List<String> normalized = wwpns == null ? List.of()
        : wwpns.stream().map(w -> w.toLowerCase(Locale.ROOT).replace(":", "").replaceFirst("^0x", "")).toList();
    return new Connector(host, ip, iqn, normalized, List.of(), multipath, "x86_64", "linux2");
  }

  /** {@code base} with the {@code connector-*} keys of {@code section} (named in errors) over it. */
  public static Connector override(Connector base, Map<String, String> keys, String section)
      throws ConfigException {
    if (keys.isEmpty()) {
      return base;
    }
    String multipath = keys.get("connector-multipath");
    boolean multi = base.multipath();
    if (multipath != null) {
      String v = multipath.toLowerCase(Locale.ROOT);
      if (!List.of("true", "false", "1", "0", "yes", "no").contains(v)) {
        throw new ConfigException("cloud config: " + section + " connector-multipath must be true or false, got \""
            + multipath + "\"");
      }
      multi = List.of("true", "1", "yes").contains(v);
    }
    List<String> wwpns = keys.containsKey("connector-wwpns")
        ? Arrays.stream(keys.get("connector-wwpns").split(",")).map(String::trim).filter(w -> !w.isEmpty()).toList()
        : base.wwpns();
    return of(keys.getOrDefault("connector-host", base.host()), keys.getOrDefault("connector-ip", base.ip()),
        keys.getOrDefault("connector-initiator", base.initiator()), wwpns, multi,
        "cloud config: " + section + " connector-");
  }
}
