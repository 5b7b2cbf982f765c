package io.github.standalonecinder.mappers;

import java.util.ArrayList;
import java.util.List;

/**
 * The RBD part of Cinder's connection info ({@code cinder/volume/drivers/rbd.py} {@code initialize_connection}).
 *
 * @param monitors    {@code host:port} pairs zipped from {@code hosts} and {@code ports} (IPv6 hosts bracketed)
 * @param pool        {@code name} before the {@code /}
 * @param image       {@code name} after the {@code /}
 * @param user        {@code auth_username} (cephx id without {@code client.}), or null
 * @param authEnabled {@code auth_enabled}; true when absent, as Cinder sets it whenever {@code rbd_user} is set
 * @param key         cephx key from {@code keyring}, or null when Cinder returned none; never printed
 */
public record RbdConnection(
    List<String> monitors, String pool, String image, String user, boolean authEnabled, String key) {

  public RbdConnection {
    monitors = List.copyOf(monitors);
  }

  @Override
  public String toString() {
    return "RbdConnection[monitors=" + monitors + ", pool=" + pool + ", image=" + image + ", user=" + user
        + ", authEnabled=" + authEnabled + ", key=" + (key == null ? "none" : "<redacted>") + "]";
  }

  static RbdConnection parse(ConnectionInfo info) throws MappingException {
    ConnectionFields f = new ConnectionFields(info);
    String name = f.requireString("name");
    int slash = name.indexOf('/');
    if (slash <= 0 || slash == name.length() - 1 || name.indexOf('/', slash + 1) >= 0) {
      throw f.error("name", "\"<pool>/<image>\"", name);
    }
    String user = f.optionalString("auth_username");
    Boolean authEnabled = f.optionalBoolean("auth_enabled");
    String keyring = f.optionalSecret("keyring");
    String key = null;
    if (keyring != null) {
      key = CephKeyring.key(keyring, user);
      if (key == null) {
        // The keyring's text is secret: name what is missing, not what is there.
        throw new InvalidConnectionException("rbd connection_info field \"keyring\" has no usable \"key\" entry "
            + "for client."
            + (user == null ? "<auth_username>" : user) + " (value not shown)");
      }
    }
    return new RbdConnection(monitors(f), name.substring(0, slash), name.substring(slash + 1), user,
        authEnabled == null || authEnabled, key);
  }

  private static List<String> monitors(ConnectionFields f) throws MappingException {
    List<String> hosts = f.stringList("hosts");
    if (hosts.isEmpty()) {
      throw f.has("hosts") ? f.error("hosts", "a non-empty list of monitor hosts", f.raw("hosts"))
          : f.missing("hosts", "a non-empty list of monitor hosts");
    }
    if (!f.has("ports")) {
      throw f.missing("ports", "a list of monitor ports as long as \"hosts\"");
    }
    // Cinder sends ports as strings (split from "ceph mon dump"); other producers send ints.
    List<Integer> ports = f.intList("ports", 1, 65535);
    if (ports.size() != hosts.size()) {
      throw new InvalidConnectionException("rbd connection_info fields \"hosts\" and \"ports\" must be lists of "
          + "the same length, got " + hosts.size() + " hosts " + ConnectionFields.show(f.raw("hosts")) + " and "
          + ports.size() + " ports " + ConnectionFields.show(f.raw("ports")));
    }
    List<String> monitors = new ArrayList<>(hosts.size());
    for (int i = 0; i < hosts.size(); i++) {
      String host = hosts.get(i);
      // Cinder strips the brackets of IPv6 monitor addresses; host:port needs them back.
      if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
        host = "[" + host + "]";
      }
      monitors.add(host + ":" + ports.get(i));
    }
    return monitors;
  }
}
