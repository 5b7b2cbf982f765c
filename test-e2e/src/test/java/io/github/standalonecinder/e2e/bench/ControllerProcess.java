package io.github.standalonecinder.e2e.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shaded jar's {@code run} as a separate JVM with the image's JVM flags, so its CPU time and RSS are its own
 * (read from {@code /proc/<pid>}).
 */
final class ControllerProcess implements AutoCloseable {
  /** The flags of the Dockerfile and the chart; MaxRAM stands in for the chart's 384Mi memory limit. */
  static final List<String> IMAGE_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-XX:MaxRAMPercentage=75",
      "-XX:+ExitOnOutOfMemoryError", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData");
  static final String MAX_RAM = "-XX:MaxRAM=384m";
  private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

  final Process process;
  final Path log;
  final int metricsPort;
  final long startNanos;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private ControllerProcess(Process process, Path log, int metricsPort, long startNanos) {
    this.process = process;
    this.log = log;
    this.metricsPort = metricsPort;
    this.startNanos = startNanos;
  }

  static ControllerProcess start(Path dir, Path kubeconfig, Path cloudConf, List<String> extraArgs)
      throws IOException {
    String jar = System.getProperty("standalone-cinder.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("the standalone-cinder jar is missing (" + jar + "): build cmd first");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(IMAGE_JVM_FLAGS);
    cmd.add(MAX_RAM);
    // -Dbench.jvmFlags="..." tries other flags against the image's (appended: the last of a flag wins).
    String extra = System.getProperty("bench.jvmFlags", "");
    if (!extra.isBlank() && !extra.startsWith("${")) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar, "run", "--kubeconfig", kubeconfig.toString(), "--cloud-config",
        cloudConf.toString(), "--no-leader-elect", "--namespace", "kube-system", "--metrics-address",
        "127.0.0.1:" + port, "--connector-initiator", "iqn.2004-10.com.example:node"));
    cmd.addAll(extraArgs);
    Path log = Files.createTempFile(dir, "controller-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OS_") || k.equals("WORKERS") || k.equals("JAVA_TOOL_OPTIONS"));
    long t0 = System.nanoTime();
    return new ControllerProcess(pb.start(), log, port, t0);
  }

  /** Polls /readyz every 10 ms; returns the time from process start to the first 200. */
  Duration awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/readyz"))
        .timeout(Duration.ofSeconds(1)).build();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("controller exited with " + process.exitValue() + ":\n"
            + Files.readString(log));
      }
      try {
        if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return Duration.ofNanos(System.nanoTime() - startNanos);
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("controller not ready after " + timeout + ":\n" + Files.readString(log));
  }

  /** utime + stime of the whole process (all threads: workers, JIT, GC), in milliseconds. */
  long cpuMillis() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // fields after "(comm) ": state=0 ... utime=11 stime=12
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / CLOCK_TICKS;
  }

  /** VmRSS in KiB. */
  long rssKiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for " + process.pid());
  }

  String metrics() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
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
