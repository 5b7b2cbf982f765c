package io.github.standalonecinder.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code standalone-cinder} jar run as a separate JVM, its output captured to a file. */
public final class ProvisionerProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private ProvisionerProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  public static Path jar() {
    String path = System.getProperty("standalone-cinder.jar");
    if (path == null || !Files.isRegularFile(Path.of(path))) {
      throw new IllegalStateException("the standalone-cinder jar is missing (" + path + "): build cmd first");
    }
    return Path.of(path);
  }

  static ProvisionerProcess start(Path workDir, Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC", "-jar",
        jar().toString()));
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile(workDir, "provisioner-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OS_"));
    pb.environment().putAll(env);
    return new ProvisionerProcess(pb.start(), log);
  }

  /** Runs the jar to completion and returns its exit code and output. */
  static Result run(Path workDir, Map<String, String> env, Duration timeout, String... args)
      throws IOException, InterruptedException {
    try (ProvisionerProcess p = start(workDir, env, args)) {
      if (!p.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("standalone-cinder " + String.join(" ", args) + " did not finish in "
            + timeout + "; output:\n" + p.output());
      }
      return new Result(p.process.exitValue(), p.output());
    }
  }

  record Result(int exitCode, String output) {}

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  Path logFile() {
    return log;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9: no shutdown hook runs, nothing is flushed, exactly like a crashed pod. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
