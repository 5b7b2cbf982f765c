package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import java.util.ArrayList;
import java.util.List;
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

  @Test
  void pagesThroughEveryVolumeAndNegotiatesTheMicroversion() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().maxLimit(3).maxMicroversion("3.70").start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpointWithoutProject())), GatewayOptions.defaults());
      assertThat(g.apiVersion().usedMicroversion()).isEqualTo(new Microversion(3, 60));
      for (int i = 0; i < 10; i++) {
        g.createVolume(new VolumeCreateRequest("v" + i, 1, null, null, null,
            i % 2 == 0 ? Map.of("even", "yes") : Map.of(), null, null));
      }
      assertThat(g.listVolumes(Map.of())).hasSize(10);
      assertThat(g.listVolumes(Map.of("even", "yes"))).hasSize(5);
      assertThat(g.findVolumes("v7", Map.of())).singleElement().extracting(CinderVolume::name).isEqualTo("v7");
      List<String> streamed = new ArrayList<>();
      sim.resetRequestCounts();
      g.forEachVolume(Map.of("even", "yes"), v -> streamed.add(v.name()));
      assertThat(streamed).containsExactlyInAnyOrder("v0", "v2", "v4", "v6", "v8");
      assertThat(sim.requestCount("GET /volumes/detail")).as("pages of 3").isEqualTo(2);
    }
    try (CinderSimulator old = CinderSimulator.builder().maxMicroversion("3.10").start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", old.rootUrl())), GatewayOptions.defaults());
      assertThat(g.apiVersion().usedMicroversion()).isEqualTo(new Microversion(3, 10));
      assertThat(g.apiVersion().supports(Microversion.ATTACHMENTS)).isFalse();
    }
  }

  @Test
  void metadataUpdateMergesKeys() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
      String id = g.createVolume(new VolumeCreateRequest("m", 1, null, null, null,
          Map.of("keep", "1", "policy", "Delete"), null, null)).id();
      g.updateVolumeMetadata(id, Map.of("policy", "Retain"));
      assertThat(g.getVolume(id).orElseThrow().metadata()).containsExactlyInAnyOrderEntriesOf(
          Map.of("keep", "1", "policy", "Retain"));
      assertThat(sim.requestCount("POST /volumes/{id}/metadata")).isEqualTo(1);
      assertThat(kind(() -> g.updateVolumeMetadata("00000000-0000-0000-0000-000000000000", Map.of("a", "b"))))
          .isEqualTo(CinderException.Kind.NOT_FOUND);
    }
  }

  @Test
  void faultsAreClassified() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults().withReadTimeout(
              java.time.Duration.ofMillis(1500)));
      sim.faults().failNext(1, "GET", "/volumes/detail", 503);
      assertThat(kind(() -> g.listVolumes(Map.of()))).isEqualTo(CinderException.Kind.SERVER_ERROR);
      sim.faults().failNext(1, "GET", "/volumes/detail", 429, null, 4);
      CinderException limited = thrown(() -> g.listVolumes(Map.of()));
      assertThat(limited.kind()).isEqualTo(CinderException.Kind.RATE_LIMITED);
      assertThat(limited.retryAfter()).contains(java.time.Duration.ofSeconds(4));
      sim.faults().delayNext(1, "GET", "/volumes/detail", java.time.Duration.ofSeconds(6));
      long t0 = System.nanoTime();
      assertThat(kind(() -> g.listVolumes(Map.of()))).isEqualTo(CinderException.Kind.UNREACHABLE);
      assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0)).isLessThan(java.time.Duration.ofMillis(5000));
      assertThat(g.getVolume("00000000-0000-0000-0000-000000000000")).isEmpty();
      assertThat(g.deleteVolume("00000000-0000-0000-0000-000000000000")).isFalse();
      sim.faults().unreachable(true);
      assertThat(kind(() -> g.listVolumes(Map.of()))).isEqualTo(CinderException.Kind.UNREACHABLE);
      sim.faults().unreachable(false);
      assertThat(g.listVolumes(Map.of())).isEmpty();
    }
  }

  private static CinderException thrown(Runnable r) {
    try {
      r.run();
    } catch (CinderException e) {
      return e;
    }
    throw new AssertionError("no CinderException");
  }

  private static CinderException.Kind kind(Runnable r) {
    return thrown(r).kind();
  }
}
