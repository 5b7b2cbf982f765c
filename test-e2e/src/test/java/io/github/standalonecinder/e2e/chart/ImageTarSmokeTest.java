package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts the offline image tar ({@code mvn -Pimage}, Jib) without Docker: its layers unpacked into a root file
 * system, its own entrypoint run in a chroot as the image's user, in fresh mount and PID namespaces. Skips (and says
 * why) when the tar was not built or the machine cannot chroot (not root, no unshare).
 */
class ImageTarSmokeTest {
  static final Path IMAGE = ChartFixture.ROOT.resolve("cmd/target/jib-image.tar");

  @TempDir
  Path dir;

  @Test
  void theImageStartsItsEntrypointAsItsUser() throws Exception {
    assumeTrue(Files.isRegularFile(IMAGE), "no " + IMAGE + ": build it with mvn -B -Pimage -pl cmd -am package "
        + "-DskipTests");
    assumeTrue("0".equals(output("id", "-u").strip()), "not root: chroot needs it");
    assumeTrue(ChartFixture.onPath("unshare") && ChartFixture.onPath("chroot"), "unshare or chroot missing");

    Path unpacked = Files.createDirectories(dir.resolve("tar"));
    Path root = Files.createDirectories(dir.resolve("root"));
    run("tar", "xf", IMAGE.toString(), "-C", unpacked.toString());
    ObjectMapper json = new ObjectMapper();
    JsonNode manifest = json.readTree(unpacked.resolve("manifest.json").toFile()).get(0);
    for (JsonNode layer : manifest.get("Layers")) {
      run("tar", "xzf", unpacked.resolve(layer.asText()).toString(), "-C", root.toString());
    }
    JsonNode config = json.readTree(unpacked.resolve(manifest.get("Config").asText()).toFile()).get("config");
    assertThat(config.get("User").asText()).isEqualTo("65532:65532");
    Files.createDirectories(root.resolve("proc"));

    List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "-p", "-f", "--mount-proc=" + root.resolve("proc"),
        "chroot", "--userspec=" + config.get("User").asText(), root.toString()));
    config.get("Entrypoint").forEach(a -> cmd.add(a.asText()));
    cmd.add("version");
    long t0 = System.nanoTime();
    String out = output(cmd.toArray(String[]::new));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(out).startsWith("standalone-cinder ");
    System.out.println("image entrypoint `version` as " + config.get("User").asText() + ": " + out.strip() + " in "
        + ms + " ms");
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    output(cmd);
  }

  /** Runs a command, returns its output; fails the test on a non-zero exit. */
  private static String output(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", cmd[0]).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
    return out;
  }
}
