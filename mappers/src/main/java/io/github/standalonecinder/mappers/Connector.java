package io.github.standalonecinder.mappers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connector sent to Cinder's {@code os-initialize_connection} / attachments API: who will connect to the
 * volume. Backends build their export ACLs from it (iSCSI initiator IQN, FC WWPNs), so it must describe the
 * real nodes, which is why it is configuration, never a constant.
 *
 * @param host       host name Cinder records for the attachment
 * @param ip         address of the connecting host
 * @param initiator  iSCSI initiator IQN (null when the cluster has no iSCSI)
 * @param wwpns      FC port WWNs (empty when the cluster has no FC)
 * @param wwnns      FC node WWNs
 * @param multipath  ask the backend for all paths
 * @param platform   e.g. {@code x86_64}
 * @param osType     e.g. {@code linux2}
 */
public record Connector(
    String host,
    String ip,
    String initiator,
    List<String> wwpns,
    List<String> wwnns,
    boolean multipath,
    String platform,
    String osType) {

  public Connector {
    wwpns = wwpns == null ? List.of() : List.copyOf(wwpns);
    wwnns = wwnns == null ? List.of() : List.copyOf(wwnns);
  }

  /** The JSON object Cinder expects under {@code "connector"}; absent values are left out. */
  public Map<String, Object> toCinderMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    putIfPresent(m, "host", host);
    putIfPresent(m, "ip", ip);
    putIfPresent(m, "initiator", initiator);
    if (!wwpns.isEmpty()) {
      m.put("wwpns", wwpns);
    }
    if (!wwnns.isEmpty()) {
      m.put("wwnns", wwnns);
    }
    m.put("multipath", multipath);
    putIfPresent(m, "platform", platform);
    putIfPresent(m, "os_type", osType);
    return m;
  }

  private static void putIfPresent(Map<String, Object> m, String key, String value) {
    if (value != null && !value.isBlank()) {
      m.put(key, value);
    }
  }
}
