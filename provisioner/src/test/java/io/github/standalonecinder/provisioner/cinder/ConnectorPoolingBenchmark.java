package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.TlsFrontend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the pooled connector buys over OpenStack4j's stock one (a new OkHttp client, so a new connection, per
 * request): volume reads through the real gateway against the simulator, over HTTP and over HTTPS (where every new
 * connection is a TLS handshake). Prints requests per second; asserts nothing about speed. Not in the default run
 * (the name matches no surefire include):
 * <pre>mvn -B -o -pl provisioner -am test -Dtest=ConnectorPoolingBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * {@code -Dpooling.requests=N} (default 500) per run, after 50 warm-up requests. The table lands in
 * {@code provisioner/target/surefire-reports/*ConnectorPoolingBenchmark-output.txt}.
 */
class ConnectorPoolingBenchmark {
  private static final int REQUESTS = Integer.getInteger("pooling.requests", 500);

  @TempDir
  Path dir;

  @AfterEach
  void restorePooling() {
    OkHttpConnector.setPooling(true);
  }

  @Test
  void pooledAgainstStock() throws Exception {
    List<String> rows = new ArrayList<>();
    try (CinderSimulator sim = CinderSimulator.builder().start(); TlsFrontend https = TlsFrontend.start(sim, dir)) {
      Map<String, Map<String, String>> transports = Map.of(
          "HTTP", Map.of("OS_CINDER_ENDPOINT", sim.endpoint()),
          "HTTPS", Map.of("OS_CINDER_ENDPOINT", https.endpoint(), "OS_CACERT", https.caFile().toString()));
      for (String transport : List.of("HTTP", "HTTPS")) {
        CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(), transports.get(transport)),
            GatewayOptions.defaults());
        String id = cinder.createVolume(new VolumeCreateRequest("bench", 1, null, null, null, Map.of(), null, null))
            .id();
        double stock = rate(cinder, id, false);
        double pooled = rate(cinder, id, true);
        rows.add(String.format(Locale.ROOT, "| %-5s | %,9.0f req/s | %,9.0f req/s | x%.1f |", transport, stock,
            pooled, pooled / stock));
      }
    }
    System.out.println("\nGET /volumes/{id} through the gateway, " + REQUESTS + " requests on one thread\n"
        + "| transport | stock connector (new connection each) | pooled connector | gain |\n|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  private static double rate(CinderGateway cinder, String id, boolean pooling) {
    OkHttpConnector.setPooling(pooling);
    for (int i = 0; i < 50; i++) {
      assertThat(cinder.getVolume(id)).isPresent();
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < REQUESTS; i++) {
      assertThat(cinder.getVolume(id)).isPresent();
    }
    return REQUESTS / ((System.nanoTime() - t0) / 1e9);
  }
}
