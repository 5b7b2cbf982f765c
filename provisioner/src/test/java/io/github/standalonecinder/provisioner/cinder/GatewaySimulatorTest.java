package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.simulator.CinderSimulator;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GatewaySimulatorTest {
  @Test
  void openStack4jUsesOurPooledConnector() {
    assertThat(org.openstack4j.core.transport.internal.HttpExecutor.create().getExecutorName())
        .isEqualTo(OkHttpConnector.NAME);
  }

  @Test
  void listsTypes() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().volumeType("iscsi", Map.of()).start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
      assertThat(g.apiVersion().major()).isEqualTo(3);
      assertThat(g.listVolumeTypes()).extracting(VolumeType::name).contains("iscsi");
    }
  }
}
