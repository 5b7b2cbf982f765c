package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check} with a clouds.yaml from the standard search path, Keystone and an endpoint override. */
class CheckCommandTest {
  @TempDir
  Path home;

  @Test
  void checkReadsCloudsYamlAndSaysItUsedKeystoneWithTheOverride() throws Exception {
    String oldHome = System.getProperty("user.home");
    PrintStream oldOut = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (CinderSimulator sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE)
        .backend(SimulatedBackend.ISCSI).projectId("p-id").projectName("demo").users(Map.of("alice", "pw"))
        .start()) {
      Path dir = Files.createDirectories(home.resolve(".config/openstack"));
      Files.writeString(dir.resolve("clouds.yaml"), """
          clouds:
            sim:
              auth:
                auth_url: %s
                username: alice
                user_domain_name: Default
                project_id: p-id
              block_storage_endpoint_override: %s
          """.formatted(sim.keystoneUrl(), sim.endpoint()));
      Files.writeString(dir.resolve("secure.yaml"), "clouds:\n  sim:\n    auth:\n      password: pw\n");
      System.setProperty("user.home", home.toString());
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      int exit = Main.execute("check", "--os-cloud", "sim");
      String text = out.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(text).isZero();
      assertThat(text).contains("Authentication: Keystone at " + sim.keystoneUrl() + " (v3 password); Cinder "
          + "endpoint " + sim.endpoint() + " from cinder-endpoint (catalog not used)").doesNotContain("pw,")
          .endsWith("OK\n");
      assertThat(sim.requestCount("POST /identity/v3/auth/tokens")).isPositive();
    } finally {
      System.setProperty("user.home", oldHome);
      System.setOut(oldOut);
    }
  }
}
