package io.github.standalonecinder.provisioner.controller;

import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The real gateway, connected to a simulator in noauth mode. */
final class TestCinder {
  private TestCinder() {}

  static CinderGateway connect(CinderSimulator sim) throws Exception {
    return CinderGateways.connect(CloudConfig.load(Optional.empty(),
        Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
  }

  /**
   * A volume left exactly as the Go original left its volumes: {@code os-reserve} and
   * {@code os-initialize_connection} with its fixed connector, and nothing else (no {@code os-attach}, so no
   * attachment record: the volume stays {@code attaching}).
   */
  static String createAsTheGoOriginalLeftIt(CinderSimulator sim, CinderGateway cinder, String name) {
    String id = cinder.createVolume(new VolumeCreateRequest(name, 1, null, null, null, Map.of(), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(id).status()));
    cinder.reserve(id);
    cinder.initializeConnection(id, CinderExporter.GO_ORIGINAL_CONNECTOR);
    return id;
  }
}
