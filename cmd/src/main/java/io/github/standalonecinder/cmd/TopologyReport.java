package io.github.standalonecinder.cmd;

import io.github.standalonecinder.provisioner.controller.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What {@code check} prints about topology: the AZ ↔ zone map in use and the zones the nodes are in. */
final class TopologyReport {
  private TopologyReport() {
  }

  /**
   * @param cinderAzs      Cinder's availability zones
   * @param nodesPerZone   node count by zone label value ("" for nodes without the label); null: nodes not read
   */
  static List<String> lines(Topology topology, List<String> cinderAzs, Map<String, Integer> nodesPerZone) {
    List<String> out = new ArrayList<>();
    if (!topology.enabled()) {
      out.add("Topology: off (every node reaches every AZ; PVs get no node affinity)");
      return out;
    }
    out.add("Topology: zones, node label " + topology.nodeLabel());
    for (String az : cinderAzs) {
      out.add("  Cinder AZ " + az + " <- node zones " + String.join(",", topology.zonesOf(az))
          + (topology.azToZones().containsKey(az) ? "" : " (same name)"));
    }
    for (String listed : topology.azToZones().keySet()) {
      if (!cinderAzs.contains(listed)) {
        out.add("  Cinder AZ " + listed + " is mapped (--topology-zone) but Cinder does not have it");
      }
    }
    if (nodesPerZone == null) {
      out.add("Node zones: not read (give --kubeconfig to see them)");
      return out;
    }
    out.add("Node zones (" + nodesPerZone.values().stream().mapToInt(Integer::intValue).sum() + " nodes):");
    for (var e : nodesPerZone.entrySet()) {
      String zone = e.getKey();
      String reaches;
      if (zone.isEmpty()) {
        reaches = "no " + topology.nodeLabel() + " label: WaitForFirstConsumer claims on them fail";
      } else {
        reaches = topology.azOf(zone).map(az -> cinderAzs.contains(az) ? "reach Cinder AZ " + az
            : "map to AZ " + az + ", which Cinder does not have").orElse("reach no Cinder AZ");
      }
      out.add("  " + (zone.isEmpty() ? "(none)" : zone) + ": " + e.getValue() + " node(s), " + reaches);
    }
    return out;
  }
}
