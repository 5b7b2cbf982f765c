package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A cloud.conf mounted from a Secret, updated the way the kubelet does it (a new timestamped directory, then the
 * {@code ..data} symlink swapped): a valid new configuration replaces the gateway between calls; an invalid one is
 * refused with one log line and a metric, and the old one stays in use.
 */
class ReloadingCinderGatewayTest {
  @TempDir
  Path dir;
  CinderSimulator first;
  CinderSimulator second;
  int generation;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void start() {
    first = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start();
    second = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start();
  }

  @AfterEach
  void stop() {
    first.close();
    second.close();
  }

  /** Writes the Secret's new content as the kubelet does: ..<generation>/cloud.conf, then ..data swapped. */
  private Path secret(String content) throws Exception {
    Path data = Files.createDirectories(dir.resolve("..gen" + generation++));
    Files.writeString(data.resolve("cloud.conf"), content);
    Path tmp = dir.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, data.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Path conf = dir.resolve("cloud.conf");
    if (!Files.isSymbolicLink(conf)) {
      Files.createSymbolicLink(conf, Path.of("..data", "cloud.conf"));
    }
    return conf;
  }

  private double reloads(String result) {
    return registry.get("standalone_cinder_config_reloads").tag("result", result).counter().count();
  }

  private static void create(CinderGateway g, String name) {
    g.createVolume(new VolumeCreateRequest(name, 1, null, null, null, Map.of(), null, null));
  }

  @Test
  void aValidChangeIsAppliedAnInvalidOneRefusedOnce() throws Exception {
    Path conf = secret("[Global]\ncinder-endpoint = " + first.endpoint() + "\n");
    ReloadingCinderGateway.Loader loader = () -> CloudConfig.load(Optional.of(conf), Map.of());
    CloudConfig initial = loader.load();
    assertThat(initial.sources()).containsExactly(conf);
    Logger logger = (Logger) LoggerFactory.getLogger(ReloadingCinderGateway.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (ReloadingCinderGateway reloading = ReloadingCinderGateway.start(
        CinderGateways.connect(initial, GatewayOptions.defaults()), loader, GatewayOptions.defaults(),
        initial.sources(), registry, Duration.ZERO)) {
      CinderGateway g = reloading.gateway();
      create(g, "before");
      assertThat(reloading.check()).as("nothing changed").isFalse();

      secret("[Global]\ncinder-endpoint = " + second.endpoint() + "\n");
      assertThat(reloading.check()).isTrue();
      create(g, "after");
      assertThat(first.volumes()).extracting(v -> v.name()).containsExactly("before");
      assertThat(second.volumes()).extracting(v -> v.name()).containsExactly("after");

      secret("[Global]\ncinder_endpoint = http://nowhere:1/v3\n");
      assertThat(reloading.check()).isFalse();
      assertThat(reloading.check()).as("the same bad content is not tried again").isFalse();
      create(g, "still-second");
      assertThat(second.volumes()).hasSize(2);
      assertThat(reloads("applied")).isEqualTo(1);
      assertThat(reloads("refused")).isEqualTo(1);
      assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage).filteredOn(m -> m.contains("refused"))
          .singleElement().asString().contains("did you mean cinder-endpoint?")
          .contains("the one in use stays");
    } finally {
      logger.detachAppender(logs);
    }
  }

  @Test
  void theTimerPicksUpAChange() throws Exception {
    Path conf = secret("[Global]\ncinder-endpoint = " + first.endpoint() + "\n");
    ReloadingCinderGateway.Loader loader = () -> CloudConfig.load(Optional.of(conf), Map.of());
    CloudConfig initial = loader.load();
    try (ReloadingCinderGateway reloading = ReloadingCinderGateway.start(
        CinderGateways.connect(initial, GatewayOptions.defaults()), loader, GatewayOptions.defaults(),
        List.of(conf), registry, Duration.ofMillis(100))) {
      secret("[Global]\ncinder-endpoint = " + second.endpoint() + "\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> reloads("applied") == 1);
      create(reloading.gateway(), "after");
      assertThat(second.volumes()).hasSize(1);
      assertThat(first.volumes()).isEmpty();
    }
  }

  @Test
  void aCloudThatCouldNotConnectAtStartFailsItsCallsAsUnreachableUntilItConnects() throws Exception {
    Path conf = secret("[Global]\ncinder-endpoint = " + first.endpoint() + "\n");
    ReloadingCinderGateway.Loader loader = () -> CloudConfig.load(Optional.of(conf), Map.of());
    first.stop();
    try (ReloadingCinderGateway reloading = ReloadingCinderGateway.startDisconnected("fast", "Cinder at "
        + first.endpoint() + " is unreachable", loader, GatewayOptions.defaults(), List.of(conf), registry,
        Duration.ZERO, refusal -> { })) {
      assertThat(reloading.connected()).isFalse();
      CinderGateway g = reloading.gateway();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> create(g, "early"))
          .isInstanceOfSatisfying(io.github.standalonecinder.provisioner.cinder.CinderException.class, e ->
              assertThat(e.kind()).isEqualTo(io.github.standalonecinder.provisioner.cinder.CinderException.Kind
                  .UNREACHABLE))
          .hasMessageStartingWith("cloud fast is not connected: Cinder at ");
      assertThat(reloading.check()).as("tried again although the file did not change, still down").isFalse();
      first.restart();
      assertThat(reloading.check()).as("the same file, now reachable").isTrue();
      assertThat(reloading.connected()).isTrue();
      create(g, "later");
      assertThat(first.volumes()).extracting(v -> v.name()).containsExactly("later");
      assertThat(registry.get("standalone_cinder_config_reloads").tag("cloud", "fast").tag("result", "applied")
          .counter().count()).isEqualTo(1);
    }
  }
}
