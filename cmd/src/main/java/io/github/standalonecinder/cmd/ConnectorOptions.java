package io.github.standalonecinder.cmd;

import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.KubernetesIscsiNames;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The connector sent to Cinder. Backends export a volume only to the initiators it names, so it must describe the
 * cluster's nodes (an initiator IQN configured on every node, or the nodes' FC WWPNs).
 */
final class ConnectorOptions {
  @Option(names = "--connector-host", defaultValue = "${env:CONNECTOR_HOST:-standalone-cinder.k8s.io}",
      description = "Host name Cinder records for exports (env CONNECTOR_HOST). Default: ${DEFAULT-VALUE}.")
  String host;

  @Option(names = "--connector-ip", defaultValue = "${env:CONNECTOR_IP:-127.0.0.1}",
      description = "IP address sent in the connector (env CONNECTOR_IP). Default: ${DEFAULT-VALUE}.")
  String ip;

  @Option(names = "--connector-initiator", defaultValue = "${env:CONNECTOR_INITIATOR}",
      description = "iSCSI initiator IQN the nodes log in with; also set as the PV's initiatorName "
          + "(env CONNECTOR_INITIATOR).")
  String initiator;

  @Option(names = "--connector-wwpns", split = ",", defaultValue = "${env:CONNECTOR_WWPNS}",
      description = "FC port WWNs of the nodes, comma-separated (env CONNECTOR_WWPNS).")
  List<String> wwpns;

  @Option(names = "--connector-multipath", negatable = true, defaultValue = "${env:CONNECTOR_MULTIPATH:-false}",
      fallbackValue = "true", description = "Ask Cinder for every path (env CONNECTOR_MULTIPATH).")
  boolean multipath;

  Connector toConnector() {
    for (String w : wwpns == null ? List.<String>of() : wwpns) {
      if (!w.matches("(?i)(0x)?[0-9a-f]{16}|([0-9a-f]{2}:){7}[0-9a-f]{2}")) {
        throw UserError.input("--connector-wwpns: \"" + w + "\" is not a WWPN (16 hex digits)");
      }
    }
    if (initiator != null && !initiator.isBlank() && !initiator.startsWith("iqn.") && !initiator.startsWith("eui.")
        && !initiator.startsWith("naa.")) {
      throw UserError.input("--connector-initiator: \"" + initiator + "\" is not an iSCSI name (iqn.…, eui.… or naa.…)");
    }
    if (initiator != null && !initiator.isBlank()) {
      var problem = KubernetesIscsiNames.problem(initiator);
      if (problem.isPresent()) {
        throw UserError.input("--connector-initiator: \"" + initiator + "\" is refused by Kubernetes as a PV's "
            + "initiatorName: it " + problem.get());
      }
    }
    List<String> normalized = wwpns == null ? List.of()
        : wwpns.stream().map(w -> w.toLowerCase().replace(":", "").replaceFirst("^0x", "")).toList();
    return new Connector(host, ip, blankToNull(initiator), normalized, List.of(), multipath, "x86_64", "linux2");
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
