package io.github.standalonecinder.mappers;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Fibre Channel part of Cinder's connection info ({@code cinder/volume/driver.py} {@code FibreChannelDriver},
 * read the way os-brick's FC connector reads it).
 *
 * @param targets target port WWNs with their LUNs: {@code target_wwns}, else {@code target_wwn} (a string or a
 *                list), paired with {@code target_luns}, else the one {@code target_lun}; lower-case hex
 * @param wwids   SCSI WWIDs from {@code wwids} (string or list), used only when there is no target WWN; no in-tree
 *                Cinder driver sends them, out-of-tree drivers may
 */
public record FcConnection(List<Target> targets, List<String> wwids) {
  private static final Pattern WWN = Pattern.compile("[0-9a-f]{16}");

  public FcConnection {
    targets = List.copyOf(targets);
    wwids = List.copyOf(wwids);
  }

  /** One target port and the LUN the volume has behind it. */
  public record Target(String wwn, int lun) {
  }

  static FcConnection parse(ConnectionInfo info) throws MappingException {
    ConnectionFields f = new ConnectionFields(info);
    boolean plural = !f.stringList("target_wwns").isEmpty();
    String wwnField = plural ? "target_wwns" : "target_wwn";
    List<String> wwns = plural ? f.stringList(wwnField) : f.stringOrList(wwnField);
    checkInitiatorTargetMap(f);
    if (wwns.isEmpty()) {
      List<String> wwids = f.stringOrList("wwids");
      if (wwids.isEmpty()) {
        throw f.missing("target_wwn", "a WWN or a list of WWNs (or \"wwids\" must list SCSI WWIDs)");
      }
      return new FcConnection(List.of(), wwids);
    }
    List<Integer> luns = f.intList("target_luns", 0, 255);
    if (luns.isEmpty()) {
      luns = List.of(f.requireInt("target_lun", 0, 255));
    }
    if (luns.size() != 1 && luns.size() != wwns.size()) {
      throw new InvalidConnectionException("fibre_channel connection_info fields \"" + wwnField
          + "\" and \"target_luns\" must have the same length, got " + wwns.size() + " WWNs and " + luns.size()
          + " LUNs");
    }
    List<Target> targets = new ArrayList<>(wwns.size());
    for (int i = 0; i < wwns.size(); i++) {
      String wwn = normalize(wwns.get(i));
      if (!WWN.matcher(wwn).matches()) {
        String field = f.raw(wwnField) instanceof List ? wwnField + "[" + i + "]" : wwnField;
        throw f.error(field, "a WWN of 16 hex digits", wwns.get(i));
      }
      targets.add(new Target(wwn, luns.size() == 1 ? luns.get(0) : luns.get(i)));
    }
    return new FcConnection(targets, List.of());
  }

  /** Kubernetes' FC plugin matches /dev/disk/by-path/...-fc-0x{wwn}-lun-{lun}: lower-case hex, no separators. */
  private static String normalize(String wwn) {
    String s = wwn.strip().toLowerCase(Locale.ROOT).replace(":", "");
    return s.startsWith("0x") ? s.substring(2) : s;
  }

  /** Zoning is Cinder's business; the map is tolerated, only its shape is checked. */
  private static void checkInitiatorTargetMap(ConnectionFields f) throws MappingException {
    Object map = f.raw("initiator_target_map");
    if (map == null) {
      return;
    }
    if (!(map instanceof Map<?, ?> m) || !m.values().stream().allMatch(v -> v instanceof List<?>)) {
      throw f.error("initiator_target_map", "an object of initiator WWN to target WWN lists", map);
    }
  }
}
