package io.github.standalonecinder.e2e.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The shaded jar's {@code run} as a separate JVM with the image's JVM flags, so its CPU time and RSS are its own
 * (read from {@code /proc/<pid>}).
 */
public final class ControllerProcess implements AutoCloseable {
  /** The flags of the Dockerfile and the chart; MaxRAM stands in for the chart's 384Mi memory limit. */
  public static final List<String> IMAGE_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-XX:MaxRAMPercentage=75",
      "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=10", "-XX:MaxNewSize=16m", "-XX:TrimNativeHeapInterval=5000",
      "-XX:+ExitOnOutOfMemoryError", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData");
  /** The image's environment (Dockerfile ENV, Jib environment). */
  public static final Map<String, String> IMAGE_ENV = Map.of("MALLOC_ARENA_MAX", "2");
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
    return start(dir, kubeconfig, cloudConf, extraArgs, false);
  }

  /**
   * With podLike, no --kubeconfig: the API server (and trust of its certificate) comes from the environment, as
   * a pod's comes from its service account, so no kubeconfig is parsed.
   */
  static ControllerProcess start(Path dir, Path kubeconfig, Path cloudConf, List<String> extraArgs, boolean podLike)
      throws IOException {
    return start(dir, kubeconfig, cloudConf, extraArgs, podLike, List.of());
  }

  /**
   * With a classpath, the controller runs as {@code -cp <classpath> Main} instead of {@code -jar <the jar>}
   * (Benchmarks#clients: another of Fabric8's HTTP clients, then the jar with no client of its own registered).
   */
  static ControllerProcess start(Path dir, Path kubeconfig, Path cloudConf, List<String> extraArgs, boolean podLike,
      List<Path> classpath) throws IOException {
    String jar = jar().toString();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(IMAGE_JVM_FLAGS);
    cmd.add(MAX_RAM);
    // -Dbench.jvmFlags="..." tries other flags against the image's (appended: the last of a flag wins); {run} is
    // this run's directory, so each controller gets files of its own (a JFR recording, a GC log).
    String extra = System.getProperty("bench.jvmFlags", "");
    if (!extra.isBlank() && !extra.startsWith("${")) {
      cmd.addAll(List.of(extra.trim().replace("{run}", dir.toAbsolutePath().toString()).split("\\s+")));
    }
    if (classpath.isEmpty()) {
      cmd.addAll(List.of("-jar", jar, "run"));
    } else {
      cmd.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, classpath.stream().map(Path::toString)
          .toList()), "io.github.standalonecinder.cmd.Main", "run"));
    }
    if (!podLike) {
      cmd.addAll(List.of("--kubeconfig", kubeconfig.toString()));
    }
    cmd.addAll(List.of("--cloud-config",
        cloudConf.toString(), "--no-leader-elect", "--namespace", "kube-system", "--metrics-address",
        "127.0.0.1:" + port, "--connector-initiator", "iqn.2004-10.com.example:node"));
    cmd.addAll(extraArgs);
    Path log = Files.createTempFile(dir, "controller-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("OS_") || k.equals("WORKERS") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().putAll(IMAGE_ENV);
    if (podLike) {
      String server = Files.readAllLines(kubeconfig).stream().map(String::strip).filter(l -> l.startsWith("server:"))
          .findFirst().orElseThrow().substring("server:".length()).strip();
      pb.environment().put("KUBERNETES_MASTER", server);
      pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
      pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
      pb.environment().put("KUBERNETES_TRUST_CERTIFICATES", "true");
    }
    long t0 = System.nanoTime();
    return new ControllerProcess(pb.start(), log, port, t0);
  }

  /** The shaded jar cmd built (the system property standalone-cinder.jar). */
  static Path jar() {
    String jar = System.getProperty("standalone-cinder.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("the standalone-cinder jar is missing (" + jar + "): build cmd first");
    }
    return Path.of(jar);
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
    return cpuMillisOf(Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat")));
  }

  /** utime + stime of a /proc stat line (a process's or a thread's), in milliseconds. */
  private static long cpuMillisOf(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // fields after "(comm) ": state=0 ... utime=11 stime=12
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / CLOCK_TICKS;
  }

  /**
   * CPU milliseconds (utime + stime) by thread group: each thread's name with its trailing number dropped
   * ({@code provisioner-worker-3} → {@code provisioner-worker-}), so workers, HTTP client threads, the JIT compiler
   * and GC each show as one line.
   */
  Map<String, Long> cpuMillisByThread() throws IOException {
    Map<String, Long> byGroup = new TreeMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(process.pid()),
        "task"))) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+$", "");
        byGroup.merge(name, cpuMillisOf(stat), Long::sum);
      }
    }
    return byGroup;
  }

  /** after − before per group, largest first; groups that used no CPU left out. */
  static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
    Map<String, Long> d = new LinkedHashMap<>();
    after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> d.put(e.getKey(), e.getValue()));
    return d;
  }

  /** VmRSS in KiB. */
  long rssKiB() throws IOException {
    return rssPartsKiB().get("VmRSS");
  }

  /** VmRSS and its parts (RssAnon: heap, metaspace, stacks, malloc; RssFile: mapped jars, libraries, CDS), KiB. */
  Map<String, Long> rssPartsKiB() throws IOException {
    Map<String, Long> parts = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      for (String key : List.of("VmRSS", "RssAnon", "RssFile", "RssShmem")) {
        if (line.startsWith(key + ":")) {
          parts.put(key, Long.parseLong(line.replaceAll("[^0-9]", "")));
        }
      }
    }
    if (!parts.containsKey("VmRSS")) {
      throw new IOException("no VmRSS for " + process.pid());
    }
    return parts;
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
