package io.github.standalonecinder.provisioner.controller;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How Cinder's availability zones meet the nodes' zones. {@link Mode#OFF} (the default): every node reaches every
 * AZ (a flat cluster, or one standalone Cinder), PVs get no node affinity. {@link Mode#ZONES}: a volume made in an
 * AZ is usable from the nodes whose {@link #nodeLabel} value maps to that AZ; the map is the identity unless an AZ
 * is listed (Cinder {@code az-a} ↔ nodes {@code rack-1,rack-2}).
 *
 * @param mode      off, or zones
 * @param nodeLabel the node label holding the node's zone ({@code topology.kubernetes.io/zone} by default)
 * @param azToZones listed AZs and the node zones that reach them; an AZ not listed maps to the zone of its name
 */
public record Topology(Mode mode, String nodeLabel, Map<String, List<String>> azToZones) {
  public static final String DEFAULT_NODE_LABEL = "topology.kubernetes.io/zone";
  public static final Topology OFF = new Topology(Mode.OFF, DEFAULT_NODE_LABEL, Map.of());

  /** Whether PVs are pinned to the zones that reach their volume. */
  public enum Mode {
    OFF,
    ZONES
  }

  public Topology {
    Objects.requireNonNull(mode, "mode");
    nodeLabel = nodeLabel == null || nodeLabel.isBlank() ? DEFAULT_NODE_LABEL : nodeLabel;
    Map<String, List<String>> copy = new LinkedHashMap<>();
    Map<String, String> zoneOwner = new LinkedHashMap<>();
    for (var e : (azToZones == null ? Map.<String, List<String>>of() : azToZones).entrySet()) {
      if (e.getKey().isBlank() || e.getValue().isEmpty() || e.getValue().stream().anyMatch(String::isBlank)) {
        throw new IllegalArgumentException("AZ " + e.getKey() + ": an AZ and at least one node zone are needed");
      }
      for (String zone : e.getValue()) {
        String before = zoneOwner.putIfAbsent(zone, e.getKey());
        if (before != null && !before.equals(e.getKey())) {
          throw new IllegalArgumentException("node zone " + zone + " is mapped to two AZs, " + before + " and "
              + e.getKey() + ": a node must reach one AZ");
        }
      }
      copy.put(e.getKey(), List.copyOf(new LinkedHashSet<>(e.getValue())));
    }
    azToZones = Map.copyOf(copy);
  }

  /**
   * Parses {@code az=zone[,zone...]} entries, as {@code --topology-zone} takes them.
   *
   * @throws IllegalArgumentException naming the entry that is not of that form
   */
  public static Map<String, List<String>> parseZones(List<String> entries) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String entry : entries == null ? List.<String>of() : entries) {
      int eq = entry.indexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new IllegalArgumentException("\"" + entry + "\" is not AZ=zone[,zone...]");
      }
      String az = entry.substring(0, eq).trim();
      List<String> zones = new ArrayList<>();
      for (String z : entry.substring(eq + 1).split(",")) {
        if (z.isBlank()) {
          throw new IllegalArgumentException("\"" + entry + "\" has an empty zone");
        }
        zones.add(z.trim());
      }
      if (out.put(az, zones) != null) {
        throw new IllegalArgumentException("AZ " + az + " is listed twice");
      }
    }
    return out;
  }

  public boolean enabled() {
    return mode == Mode.ZONES;
  }

  /** The node zones that reach a volume in {@code az}. */
  public List<String> zonesOf(String az) {
    return azToZones.getOrDefault(az, List.of(az));
  }

  /**
   * The AZ a node in {@code zone} reaches: the listed AZ whose zones include it, else the AZ of the zone's own name
   * unless that AZ is listed (then it maps to other zones only). Empty when no AZ is reached.
   */
  public Optional<String> azOf(String zone) {
    for (var e : azToZones.entrySet()) {
      if (e.getValue().contains(zone)) {
        return Optional.of(e.getKey());
      }
    }
    return azToZones.containsKey(zone) ? Optional.empty() : Optional.of(zone);
  }

  /** The AZs reached from any of {@code zones} (the order kept). */
  public Set<String> azsOf(List<String> zones) {
    Set<String> out = new LinkedHashSet<>();
    for (String z : zones) {
      azOf(z).ifPresent(out::add);
    }
    return out;
  }
}
