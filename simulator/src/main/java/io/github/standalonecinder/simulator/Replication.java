package io.github.standalonecinder.simulator;

/**
 * The replication state of the simulator's one cinder-volume service: whether its backend replicates (a secondary
 * site named by {@link CinderSimulator.Builder#replication}), its {@code replication_status} and
 * {@code active_backend_id}, as {@code os-services} shows them. Guarded by its own monitor.
 */
final class Replication {
  /** The backend id Cinder's {@code failover_host} takes to fail back to the primary site. */
  static final String DEFAULT = "default";

  final String host;
  /** The secondary's backend id, or null: the backend does not replicate. */
  final String target;
  String status;
  String activeBackendId;

  Replication(String host, String target) {
    this.host = host;
    this.target = target;
    this.status = target == null ? "not-capable" : "enabled";
  }

  boolean configured() {
    return target != null;
  }
}
