package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kind harness' skip paths (the cluster path needs Docker, so it runs only by hand or in a Docker CI job). */
class ChartKindHarnessTest {
  static final Path SCRIPT = ChartFixture.ROOT.resolve("test-e2e/kind/run.sh");

  record Result(int exit, String output) {}

  static Result run(Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  @Test
  void skipsWithAReasonWhenDockerIsMissing() throws Exception {
    Result r = run(Map.of("DOCKER", "/nonexistent/docker"));
    assertThat(r.exit()).isZero();
    assertThat(r.output()).startsWith("SKIP: no docker client");
  }

  @Test
  void skipsWhenDockerHasNoEngine(@TempDir Path dir) throws Exception {
    Path docker = fake(dir, "docker", "exit 1");
    Result r = run(Map.of("DOCKER", docker.toString()));
    assertThat(r.exit()).isZero();
    assertThat(r.output()).startsWith("SKIP: docker cannot reach a Docker engine");
  }

  @Test
  void skipsWhenKindIsMissing(@TempDir Path dir) throws Exception {
    Path docker = fake(dir, "docker", "exit 0");
    Result r = run(Map.of("DOCKER", docker.toString(), "KIND", "/nonexistent/kind"));
    assertThat(r.exit()).isZero();
    assertThat(r.output()).startsWith("SKIP: no kind");
  }

  @Test
  void isShellcheckClean() throws Exception {
    assumeTrue(ChartFixture.onPath("shellcheck"), "shellcheck not installed");
    Process p = new ProcessBuilder("shellcheck", SCRIPT.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }

  private static Path fake(Path dir, String name, String body) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    return f;
  }
}
