package io.github.standalonecinder.cmd;

import io.github.standalonecinder.provisioner.controller.Topology;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How Cinder's availability zones meet the nodes' zones ({@link Topology}). */
final class TopologyOptions {
  @Option(names = "--topology", defaultValue = "${env:TOPOLOGY:-off}",
      description = "off: every node reaches every Cinder AZ, PVs get no node affinity; zones: a volume's PV is for "
          + "the nodes whose zone reaches its AZ, and a WaitForFirstConsumer claim's volume is made in its node's AZ "
          + "(env TOPOLOGY). Default: ${DEFAULT-VALUE}.")
  String mode;

  @Option(names = "--topology-node-label", defaultValue = "${env:TOPOLOGY_NODE_LABEL:-topology.kubernetes.io/zone}",
      description = "The node label holding a node's zone (env TOPOLOGY_NODE_LABEL). Default: ${DEFAULT-VALUE}.")
  String nodeLabel;

  @Option(names = "--topology-zone", paramLabel = "AZ=ZONE[,ZONE...]",
      description = "The node zones that reach a Cinder AZ, e.g. az-a=rack-1,rack-2; repeat per AZ. An AZ not "
          + "listed is reached from the zone of its own name.")
  List<String> zones;

  /** The topology, every value checked; a bad one is a {@link UserError}. */
  Topology toTopology() {
    Topology.Mode m = switch (mode == null ? "" : mode.toLowerCase(Locale.ROOT)) {
      case "off" -> Topology.Mode.OFF;
      case "zones" -> Topology.Mode.ZONES;
      default -> throw UserError.input("--topology must be off or zones, got \"" + mode + "\"");
    };
    if (nodeLabel == null || !nodeLabel.matches("([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*"
        + "[A-Za-z0-9])?")) {
      throw UserError.input("--topology-node-label \"" + nodeLabel + "\" is not a label key such as "
          + Topology.DEFAULT_NODE_LABEL);
    }
    if (m == Topology.Mode.OFF && zones != null && !zones.isEmpty()) {
      throw UserError.input("--topology-zone needs --topology=zones");
    }
    try {
      return new Topology(m, nodeLabel, Topology.parseZones(zones));
    } catch (IllegalArgumentException e) {
      throw UserError.input("--topology-zone: " + e.getMessage());
    }
  }
}
