package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.TlsFrontend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS verification is on unless explicitly disabled: Cinder behind a self-signed certificate is refused without
 * {@code ca-file}, accepted with {@code ca-file} naming the certificate, and accepted with {@code tls-insecure = true}.
 */
class ChaosTlsTest {
  @TempDir
  Path dir;

  @Test
  void selfSignedCinderIsRefusedUnlessTrustedOrExplicitlyInsecure() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
        .volumeType("iscsi", Map.of()).start();
        TlsFrontend https = TlsFrontend.start(sim, dir)) {
      String endpoint = https.endpoint();
      ChaosProcess.Result refused = check(dir, "cinder-endpoint = " + endpoint + "\n");
      assertThat(refused.exitCode()).as(refused.output()).isNotZero();
      assertThat(refused.output()).containsIgnoringCase("certificat");

      ChaosProcess.Result trusted = check(dir, "cinder-endpoint = " + endpoint + "\nca-file = " + https.caFile()
          + "\n");
      assertThat(trusted.exitCode()).as(trusted.output()).isZero();
      assertThat(trusted.output()).endsWith("OK\n");

      ChaosProcess.Result insecure = check(dir, "cinder-endpoint = " + endpoint + "\ntls-insecure = true\n");
      assertThat(insecure.exitCode()).as(insecure.output()).isZero();
    }
  }

  private static int n;

  private static ChaosProcess.Result check(Path dir, String global) throws Exception {
    Path conf = dir.resolve("tls" + (n++) + ".conf");
    Files.writeString(conf, "[Global]\n" + global);
    ChaosProcess p = ChaosProcess.start(dir, "tls-" + n, List.of("check", "--cloud-config", conf.toString(),
        "--cinder-connect-timeout", "5s", "--cinder-read-timeout", "10s"));
    await().atMost(Duration.ofSeconds(90)).until(() -> !p.isAlive());
    return new ChaosProcess.Result(p.exitCode(), p.output());
  }
}
