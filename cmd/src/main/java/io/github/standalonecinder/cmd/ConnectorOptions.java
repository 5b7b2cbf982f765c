package io.github.standalonecinder.cmd;

import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.ConnectorConfig;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The connector sent to Cinder. Backends export a volume only to the initiators it names, so it must describe the
 * cluster's nodes (an initiator IQN configured on every node, or the nodes' FC WWPNs). One of several clouds may
 * override them with its section's {@code connector-*} keys.
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
    try {
      return ConnectorConfig.of(host, ip, initiator, wwpns, multipath, "--connector-");
    } catch (ConfigException e) {
      throw UserError.input(e.getMessage());
    }
  }
}
