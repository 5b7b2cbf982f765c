package io.github.standalonecinder.e2e.chaos;

import io.github.standalonecinder.e2e.ProvisionerProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@code standalone-cinder} jar as a separate JVM, its output captured to a file the log scan reads. */
final class ChaosProcess implements AutoCloseable {
  private final Process process;
  final Path log;

  private ChaosProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static Path jar() {
    return ProvisionerProcess.jar();
  }

  static ChaosProcess start(Path logDir, String name, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar().toString()));
    cmd.addAll(args);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OS_"));
    return new ChaosProcess(pb.start(), log);
  }

  record Result(int exitCode, String output) {}

  int exitCode() {
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  /** kill -9: no shutdown hook, nothing flushed, exactly like a crashed pod. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
