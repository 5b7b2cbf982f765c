package io.github.standalonecinder.mappers;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The iSCSI part of Cinder's connection info ({@code cinder/volume/targets/iscsi.py} {@code _get_iscsi_properties}
 * and drivers that follow it).
 *
 * @param paths     every path Cinder offered, primary first: {@code target_portals}/{@code target_iqns}/
 *                  {@code target_luns} when present, else the single {@code target_portal}/{@code target_iqn}/
 *                  {@code target_lun}
 * @param session   session CHAP ({@code auth_method: CHAP}), or null
 * @param discovery discovery CHAP ({@code discovery_auth_method: CHAP}), or null
 */
public record IscsiConnection(List<Path> paths, Chap session, Chap discovery) {

  public IscsiConnection {
    paths = List.copyOf(paths);
    if (paths.isEmpty()) {
      throw new IllegalArgumentException("at least one path");
    }
  }

  public Path primary() {
    return paths.get(0);
  }

  /** One portal/IQN/LUN triple. */
  public record Path(String portal, String iqn, int lun) {
  }

  /** CHAP credentials; {@code toString} never shows the password. */
  public record Chap(String username, String password) {
    public Chap {
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
      return "Chap[username=" + username + ", password=<redacted>]";
    }
  }

  static IscsiConnection parse(ConnectionInfo info) throws MappingException {
    ConnectionFields f = new ConnectionFields(info);
    Path single = new Path(
        f.requireString("target_portal"), iqn(f, "target_iqn", f.requireString("target_iqn")),
        f.requireInt("target_lun", 0, 255));
    return new IscsiConnection(multipath(f, single), chap(f, "auth_"), chap(f, "discovery_auth_"));
  }

  private static List<Path> multipath(ConnectionFields f, Path single) throws MappingException {
    List<String> portals = f.stringList("target_portals");
    if (portals.isEmpty()) {
      return List.of(single);
    }
    // Cinder always sends the three lists together; a driver leaving out iqns or luns means "same for all".
    List<String> iqns = f.stringList("target_iqns");
    List<Integer> luns = f.intList("target_luns", 0, 255);
    if (!iqns.isEmpty() && iqns.size() != portals.size()) {
      throw lengthMismatch(f, "target_iqns", iqns.size(), portals.size());
    }
    if (!luns.isEmpty() && luns.size() != portals.size()) {
      throw lengthMismatch(f, "target_luns", luns.size(), portals.size());
    }
    List<Path> paths = new ArrayList<>(portals.size());
    for (int i = 0; i < portals.size(); i++) {
      String iqn = iqns.isEmpty() ? single.iqn() : iqn(f, "target_iqns[" + i + "]", iqns.get(i));
      paths.add(new Path(portals.get(i), iqn, luns.isEmpty() ? single.lun() : luns.get(i)));
    }
    return paths;
  }

  private static MappingException lengthMismatch(ConnectionFields f, String field, int got, int portals) {
    return f.problem(field, "must list one entry per target_portals entry (" + portals + "), got " + got);
  }

  private static String iqn(ConnectionFields f, String field, String value) throws MappingException {
    var problem = KubernetesIscsiNames.problem(value);
    if (problem.isPresent()) {
      throw f.problem(field, "is \"" + value + "\", which Kubernetes refuses: it " + problem.get());
    }
    return value;
  }

  /** {@code <prefix>method/username/password}; only CHAP exists in Cinder and in Kubernetes. */
  private static Chap chap(ConnectionFields f, String prefix) throws MappingException {
    String method = f.optionalString(prefix + "method");
    if (method == null || method.equalsIgnoreCase("none")) {
      return null;
    }
    if (!method.equalsIgnoreCase("CHAP")) {
      throw f.error(prefix + "method", "\"CHAP\" or absent", method);
    }
    return new Chap(f.requireString(prefix + "username"), f.requireSecret(prefix + "password"));
  }
}
