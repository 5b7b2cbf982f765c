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

  /** A volume left as the Go original left its volumes: os-reserve, os-initialize_connection, os-attach. */
  static String createInUseVolume(CinderSimulator sim, CinderGateway cinder, String name) {
    String id = cinder.createVolume(new VolumeCreateRequest(name, 1, null, null, null, Map.of(), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(id).status()));
    cinder.reserve(id);
    cinder.initializeConnection(id, ControllerHarness.CONNECTOR);
    cinder.attach(id, "standalone-cinder.k8s.io", "/k8s.io/standalone-cinder");
    return id;
  }
}
