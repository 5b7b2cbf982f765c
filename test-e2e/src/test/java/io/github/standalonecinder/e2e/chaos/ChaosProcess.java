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
    return start(logDir, name, args, java.util.Map.of());
  }

  /** With extra environment, e.g. {@code POD_NAME}, the leader-election identity. */
  static ChaosProcess start(Path logDir, String name, List<String> args, java.util.Map<String, String> env)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar().toString()));
    cmd.addAll(args);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OS_") || k.equals("POD_NAME"));
    pb.environment().putAll(env);
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

  /** Sends a signal by name ({@code STOP}, {@code CONT}, {@code TERM}) with kill(1). */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** Waits for the process to end; true if it did within {@code timeout}. */
  boolean waitFor(java.time.Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
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
