package io.github.standalonecinder.e2e.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.provisioner.controller.Annotations;
import io.github.standalonecinder.simulator.BackendCapacity;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The benchmark suite (issue 7). Not a test: it prints a table, writes {@code target/bench/report.json} and
 * {@code target/bench/report.png}, and only fails (with {@code -Dbench.strict=true}) when a target is missed.
 * Run it with {@code mvn -B -o -Pbench -pl test-e2e -am verify -Dtest=Benchmarks
 * -Dsurefire.failIfNoSpecifiedTests=false}; see docs/benchmarks.md.
 */
class Benchmarks {
  static final Duration API_LATENCY = Duration.ofMillis(Long.parseLong(prop("bench.apiLatencyMs", "20")));
  static final Duration CREATE_DELAY = Duration.ofMillis(Long.parseLong(prop("bench.createDelayMs", "1000")));
  static final Duration DELETE_DELAY = Duration.ofMillis(Long.parseLong(prop("bench.deleteDelayMs", "1000")));
  static final int CLAIMS = Integer.parseInt(prop("bench.claims", "500"));
  static final int FAST_CLAIMS = Integer.parseInt(prop("bench.fastClaims", "500"));
  static final int[] SCALING = Arrays.stream(prop("bench.scaling", "100,500,2000").split(","))
      .map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
  static final int MEMORY_OBJECTS = Integer.parseInt(prop("bench.memoryObjects", "10000"));
  static final int SWEEP_OBJECTS = Integer.parseInt(prop("bench.sweepObjects", "10000"));
  /** Seconds from the sweeper benchmark's controller start to its first sweep (start, settle, baseline GC). */
  static final int SWEEP_DELAY = Integer.parseInt(prop("bench.sweepDelaySeconds", "40"));
  /**
   * {@code --workers} of {@link #run()}'s controllers: 16, the default before the adaptive limit made it a ceiling
   * (64), so the main burst's ideal, W claims every T, stays the one earlier rounds were measured against; the
   * capacity bench measures the defaults. Empty: the controller's own default.
   */
  static final String WORKERS = prop("bench.workers", "16");
  /** The simulator's backend: iSCSI with CHAP (a Secret per volume) unless named, e.g. ISCSI (none) or FC. */
  static final SimulatedBackend BACKEND = SimulatedBackend.valueOf(prop("bench.backend", "ISCSI_CHAP"));
  static final String QPS = prop("bench.qps", "");
  static final String BURST = prop("bench.burst", "");
  /** The controller flags of the sized fast-simulator burst (docs/benchmarks.md: QPS >= calls/claim x rate). */
  static final List<String> FAST_SIZED_ARGS = List.of(prop("bench.fastSizedArgs",
      "--workers 64 --kube-api-qps 400 --kube-api-burst 800").split("\\s+"));
  /** Claims provisioned (and left Bound) before each measured burst; 0 measures a cold controller. */
  static final int WARMUP = Integer.parseInt(prop("bench.warmup", "50"));
  static final boolean STRICT = Boolean.parseBoolean(prop("bench.strict", "false"));
  /** Claims of each burst of {@link #capacity()}. */
  static final int CAPACITY_CLAIMS = Integer.parseInt(prop("bench.capacityClaims", "200"));
  /** The simulator's capacity settings of {@link #capacity()}: name=at once/queued/create and delete ms; ... */
  static final String CAPACITY_SETTINGS = prop("bench.capacitySettings", "fast=32/32/1000;slow=8/8/2000");
  /** The controller flags of {@link #capacity()}'s runs, ";"-separated; empty: the defaults. */
  static final String CAPACITY_ARGS = prop("bench.capacityArgs", "");
  static final Path OUT = Path.of(prop("bench.out", "target/bench"));
  /** Claims of each fast-simulator burst of {@link #clients()}. */
  static final int CLIENT_CLAIMS = Integer.parseInt(prop("bench.clientClaims", "300"));
  /** Rounds of {@link #clients()}: each runs every client once, in the order of {@code bench.clients}. */
  static final int CLIENT_ROUNDS = Integer.parseInt(prop("bench.clientRounds", "3"));
  /** Fabric8 HTTP clients {@link #clients()} compares, by their folders of bench.clientsDir. */
  static final List<String> CLIENTS = List.of(prop("bench.clients", "jdk,vertx,okhttp").split("\\s*,\\s*"));
  /** One folder of jars per client (the bench-clients profile copies them there). */
  static final Path CLIENTS_DIR = Path.of(prop("bench.clientsDir", "target/clients"));
  /**
   * A thread (its name as /proc shows it: 15 characters at most) that only the client makes: a run proves which
   * client the controller used, since Fabric8 picks one from the classpath without saying.
   */
  static final Map<String, String> CLIENT_THREADS = Map.of("jdk", "HttpClient-", "vertx", "vert.x-eventloo",
      "okhttp", "OkHttp Dispatch");

  private static String prop(String name, String def) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() || v.startsWith("${") ? def : v.trim();
  }

  private final Map<String, Object> report = new LinkedHashMap<>();
  private final List<String[]> table = new ArrayList<>();
  private final List<String> missed = new ArrayList<>();

  @Test
  void run() throws Exception {
    Files.createDirectories(OUT);
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("apiLatencyMs", API_LATENCY.toMillis());
    config.put("createDelayMs", CREATE_DELAY.toMillis());
    config.put("deleteDelayMs", DELETE_DELAY.toMillis());
    config.put("workers", WORKERS.isEmpty() ? "controller default" : WORKERS);
    config.put("kubeApiQps", QPS.isEmpty() ? "controller default" : QPS);
    config.put("kubeApiBurst", BURST.isEmpty() ? "controller default" : BURST);
    config.put("jvmFlags", String.join(" ", ControllerProcess.IMAGE_JVM_FLAGS) + " " + ControllerProcess.MAX_RAM);
    config.put("warmupClaims", WARMUP);
    config.put("cpus", Runtime.getRuntime().availableProcessors());
    report.put("config", config);

    // Scaling and the main burst (+ delete storm) with realistic latencies.
    List<Map<String, Object>> scaling = new ArrayList<>();
    Map<String, Object> main = null;
    boolean mainInScaling = Arrays.stream(SCALING).anyMatch(n -> n == CLAIMS);
    int[] sizes = mainInScaling ? SCALING : concat(SCALING, CLAIMS);
    for (int n : sizes) {
      Map<String, Object> r = burst("realistic-" + n, n, API_LATENCY, CREATE_DELAY, DELETE_DELAY, n == CLAIMS,
          controllerArgs());
      scaling.add(r);
      if (n == CLAIMS) {
        main = r;
      }
    }
    report.put("scaling", scaling);
    report.put("burst", main);
    // Without Cinder latency the Kubernetes side is the limit: at the defaults, the client's QPS budget (each claim
    // costs a few requests); then with a budget and worker count sized for a 50 claims/s burst.
    Map<String, Object> fast = burst("fast-" + FAST_CLAIMS, FAST_CLAIMS, Duration.ZERO, Duration.ZERO, Duration.ZERO,
        false, controllerArgs());
    report.put("fastBurst", fast);
    Map<String, Object> fastSized = burst("fast-sized-" + FAST_CLAIMS, FAST_CLAIMS, Duration.ZERO, Duration.ZERO,
        Duration.ZERO, false, FAST_SIZED_ARGS);
    report.put("fastBurstSized", fastSized);
    Map<String, Object> idle = idleInPodStyle();
    report.put("idleInPodStyle", idle);
    Map<String, Object> memory = MEMORY_OBJECTS > 0 ? memory(MEMORY_OBJECTS)
        : Map.of("rssMiB", Double.NaN, "startToReadySeconds", Double.NaN);
    report.put("memory", memory);

    // The table: each number beside its ideal or target.
    double ideal = (double) main.get("idealSeconds");
    row("Burst " + CLAIMS + ": all PVs created", fmt(main.get("allPvCreatedSeconds")) + " s",
        "ideal " + fmt(ideal) + " s; target <= 1.3x = " + fmt(1.3 * ideal) + " s",
        (double) main.get("allPvCreatedSeconds") <= 1.3 * ideal);
    row("Burst " + CLAIMS + ": all Bound (+ emulated binder)", fmt(main.get("allBoundSeconds")) + " s",
        "ideal " + fmt(ideal) + " s (x" + fmt((double) main.get("allBoundSeconds") / ideal) + ")", null);
    for (Map<String, Object> s : scaling) {
      if (s != main) {
        row("Burst " + s.get("claims") + ": all PVs created / all Bound", fmt(s.get("allPvCreatedSeconds")) + " / "
            + fmt(s.get("allBoundSeconds")) + " s", "ideal " + fmt(s.get("idealSeconds")) + " s (x"
            + fmt((double) s.get("allPvCreatedSeconds") / (double) s.get("idealSeconds")) + " / x"
            + fmt((double) s.get("allBoundSeconds") / (double) s.get("idealSeconds")) + ")", null);
      }
    }
    row("Burst " + CLAIMS + ": throughput (PVs / Bound)", fmt(main.get("pvsPerSecond")) + " / "
        + fmt(main.get("claimsPerSecond")) + " claims/s", "ideal " + fmt(CLAIMS / ideal) + " claims/s", null);
    double fastCalls = (double) fast.get("kubeCallsPerClaim");
    row("Fast simulator " + FAST_CLAIMS + ", defaults: PVs / Bound", fmt(fast.get("pvsPerSecond")) + " / "
        + fmt(fast.get("claimsPerSecond")) + " claims/s", "QPS budget / " + fmt(fastCalls)
        + " Kubernetes calls per claim = " + (QPS.isEmpty() ? "150" : QPS) + " / " + fmt(fastCalls) + " = "
        + fmt(Double.parseDouble(QPS.isEmpty() ? "150" : QPS) / fastCalls) + " claims/s", null);
    row("Fast simulator " + FAST_CLAIMS + ", " + String.join(" ", FAST_SIZED_ARGS) + ": PVs / Bound",
        fmt(fastSized.get("pvsPerSecond")) + " / " + fmt(fastSized.get("claimsPerSecond")) + " claims/s",
        "target >= 50 claims/s", (double) fastSized.get("pvsPerSecond") >= 50);
    @SuppressWarnings("unchecked")
    Map<String, Double> ov = (Map<String, Double>) main.get("overheadToBoundMs");
    @SuppressWarnings("unchecked")
    Map<String, Double> ovPv = (Map<String, Double>) main.get("overheadToPvMs");
    row("Overhead p50 (to PV / to Bound)", fmt(ovPv.get("p50")) + " / " + fmt(ov.get("p50")) + " ms",
        "ideal 0; target <= 100 ms", ovPv.get("p50") <= 100);
    row("Overhead p95 (to PV / to Bound)", fmt(ovPv.get("p95")) + " / " + fmt(ov.get("p95")) + " ms", "ideal 0",
        null);
    row("Overhead p99 (to PV / to Bound)", fmt(ovPv.get("p99")) + " / " + fmt(ov.get("p99")) + " ms",
        "ideal 0; target <= 500 ms", ovPv.get("p99") <= 500);
    row("Cinder calls / volume", fmt(main.get("cinderCallsPerVolume")),
        "ideal 4 (create, 1 get, attach, complete); target <= 6", (double) main.get("cinderCallsPerVolume") <= 6);
    row("Kubernetes calls / claim", fmt(main.get("kubeCallsPerClaim")), "ideal 1 (create PV)", null);
    row("Controller CPU / volume (realistic)", fmt(main.get("cpuMsPerVolume")) + " ms", "target <= 5 ms",
        (double) main.get("cpuMsPerVolume") <= 5);
    row("Controller CPU / volume (fast sim, defaults / sized)", fmt(fast.get("cpuMsPerVolume")) + " / "
        + fmt(fastSized.get("cpuMsPerVolume")) + " ms", "target <= 5 ms", null);
    row("Delete storm " + CLAIMS + ": all gone", fmt(main.get("deleteStormSeconds")) + " s",
        "ideal " + fmt(main.get("deleteIdealSeconds")) + " s", null);
    row("Cinder calls / deleted volume", fmt(main.get("deleteCinderCallsPerVolume")), "", null);
    row("Idle RSS after start (pod style: API server from env, HTTPS)", fmt(idle.get("idleRssMiB")) + " MiB",
        "target <= 96 MiB", (double) idle.get("idleRssMiB") <= 96);
    row("Idle RSS after start (--kubeconfig, HTTP)", fmt(main.get("idleRssMiB")) + " MiB", "", null);
    row("RSS with " + MEMORY_OBJECTS + " PVs + claims", fmt(memory.get("rssMiB")) + " MiB", "target <= 192 MiB",
        (double) memory.get("rssMiB") <= 192);
    row("Start to ready (empty; pod style / --kubeconfig)", fmt(idle.get("startToReadySeconds")) + " / "
        + fmt(main.get("startToReadySeconds")) + " s", "target <= 2 s",
        Math.max((double) idle.get("startToReadySeconds"), (double) main.get("startToReadySeconds")) <= 2);
    row("Start to ready (" + MEMORY_OBJECTS + " PVs + claims)", fmt(memory.get("startToReadySeconds")) + " s",
        "", null);
    report.put("missedTargets", missed);
    printTable();
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(OUT.resolve("report.json").toFile(),
        report);
    @SuppressWarnings("unchecked")
    List<Double> boundAt = (List<Double>) main.get("boundAtSeconds");
    @SuppressWarnings("unchecked")
    List<Double> lat = (List<Double>) main.get("latencyToBoundMs");
    @SuppressWarnings("unchecked")
    List<Double> pvAt = (List<Double>) main.get("pvCreatedAtSeconds");
    Chart.write(OUT.resolve("report.png"), lat, boundAt, pvAt, ideal, (double) main.get("perClaimCinderMs"),
        Integer.parseInt(String.valueOf(main.get("workers"))), CLAIMS);
    System.out.println("report: " + OUT.resolve("report.json").toAbsolutePath() + ", chart: "
        + OUT.resolve("report.png").toAbsolutePath());
    if (STRICT && !missed.isEmpty()) {
      throw new AssertionError("targets missed: " + missed);
    }
  }

  /**
   * The orphan sweeper at scale (issue 14): {@code bench.sweepObjects} Cinder volumes of this cluster (tagged with
   * the kube-system namespace's UID, as the controller derives it), each named by a bound PV whose claim is in the
   * caches too, plus one orphan (its claim and PV gone). The controller runs in report mode with no grace period, so
   * every volume is judged, and its first sweep comes {@code bench.sweepDelaySeconds} after start, once the caches
   * are filled and the workers have looked at every object.
   *
   * <p>Two controllers with the image's JVM flags, one after the other, against the same world. The first is left
   * alone: the sweep's time (its own log line, first and second sweep), the API requests from just before the sweep
   * to its end (watches left out: beyond the informers' own), the bytes the sweeping thread allocated (JMX, through
   * the attach API) and the RSS. The second is made to collect its whole heap every few hundred milliseconds
   * ({@code MemoryMXBean.gc()}) from before its sweep to the sweep's end: each sample is the live heap at that moment,
   * and the largest sample while the sweep runs, less the median of those before it began, is the extra heap it
   * holds.
   *
   * <p>Not part of {@link #run()}'s table; {@code -Dtest=Benchmarks#sweeper} runs it alone.
   */
  @Test
  void sweeper() throws Exception {
    int n = SWEEP_OBJECTS;
    Path dir = OUT.resolve("sweeper");
    Files.createDirectories(dir);
    System.out.println("== sweeper: " + n + " Cinder volumes, " + n + " PVs + claims, 1 orphan");
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("objects", n);
    r.put("apiLatencyMs", API_LATENCY.toMillis());
    try (BenchEnvironment env = new BenchEnvironment(dir, API_LATENCY, Duration.ZERO, Duration.ZERO, 32)) {
      String cluster = env.client.namespaces().withName("kube-system").get().getMetadata().getUid();
      CinderGateway cinder = CinderGateways.connect(CloudConfig.load(java.util.Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", env.sim.endpoint())), GatewayOptions.defaults());
      long t0 = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(16);
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        fs.add(pool.submit(() -> {
          createBoundPair(env, k, "s", uid -> cinder.createVolume(new VolumeCreateRequest(pairPvName(k), 1, "iscsi",
              null, null, sweepMeta(cluster, String.format("s%05d", k), uid, pairPvName(k)), null, null)).id());
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdownNow();
      String orphanUid = java.util.UUID.randomUUID().toString();
      String orphan = cinder.createVolume(new VolumeCreateRequest("pvc-" + orphanUid, 1, "iscsi", null, null,
          sweepMeta(cluster, "gone", orphanUid, "pvc-" + orphanUid), null, null)).id();
      r.put("populateSeconds", (System.nanoTime() - t0) / 1e9);
      System.out.printf("   populated in %.1f s%n", (System.nanoTime() - t0) / 1e9);

      Map<String, Object> timed = sweepRun(env, dir.resolve("timed"), false, orphan);
      Map<String, Object> sampled = sweepRun(env, dir.resolve("heap-sampled"), true, orphan);
      r.put("timed", timed);
      r.put("heapSampled", sampled);

      @SuppressWarnings("unchecked")
      List<Long> ms = (List<Long>) timed.get("sweepMs");
      row("Sweep of " + n + " volumes, " + n + " PVs + claims: time (first / second sweep)", ms.get(0) + " / "
          + ms.get(1) + " ms", "", null);
      long requests = (long) timed.get("apiRequests");
      row("Sweep: API requests beyond the informers' own", Long.toString(requests),
          "1 orphan: its PV and claim by name; target <= 3", requests <= 3);
      double extra = (double) sampled.get("extraLiveHeapMiB");
      row("Sweep: extra live heap (largest full-GC sample during it - median before)", fmt(extra) + " MiB",
          "target <= 20 MiB; " + sampled.get("samplesDuringSweep") + " samples during the sweep", extra <= 20);
      row("Sweep: bytes allocated by the sweeping thread (first sweep)", fmt(timed.get("allocatedMiB")) + " MiB",
          "garbage, collected as it goes", null);
      row("Sweep: RSS before / after the first sweep", fmt(timed.get("rssBeforeMiB")) + " / "
          + fmt(timed.get("rssAfterMiB")) + " MiB", "", null);
      report.put("sweeper", r);
      report.put("missedTargets", missed);
      printTable();
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(OUT.resolve("sweeper.json").toFile(),
          report);
      System.out.println("report: " + OUT.resolve("sweeper.json").toAbsolutePath());
      if (STRICT && !missed.isEmpty()) {
        throw new AssertionError("targets missed: " + missed);
      }
    }
  }

  private static Map<String, String> sweepMeta(String cluster, String claim, String uid, String pvName) {
    return Map.of("standalone-cinder.openstack.org/cluster", cluster,
        "standalone-cinder.openstack.org/pvc-namespace", "default", "standalone-cinder.openstack.org/pvc-name", claim,
        "standalone-cinder.openstack.org/pvc-uid", uid, "standalone-cinder.openstack.org/pv-name", pvName,
        "standalone-cinder.openstack.org/reclaim-policy", "Delete");
  }

  private static final java.util.regex.Pattern SWEEP_LINE = java.util.regex.Pattern.compile(
      "orphan sweep: (\\d+) Cinder volumes of this cluster, (\\d+) candidates, (\\d+) orphans .* (\\d+) ms$");

  /**
   * One controller until its sweep (two sweeps unless sampling); see {@link #sweeper()}. With {@code sampleHeap},
   * its whole heap is collected and measured over and over from before the sweep to the sweep's end.
   */
  private Map<String, Object> sweepRun(BenchEnvironment env, Path dir, boolean sampleHeap, String orphan)
      throws Exception {
    Files.createDirectories(dir);
    Map<String, Object> r = new LinkedHashMap<>();
    env.drainControllerRequests();
    try (ControllerProcess c = ControllerProcess.start(dir, env.kubeconfig, env.cloudConf, List.of(
        "--orphan-sweep-interval", SWEEP_DELAY + "s", "--orphan-grace-period", "0s", "--orphan-mode", "report"));
        Jmx jmx = Jmx.attach(c.process.pid())) {
      long started = System.nanoTime();
      r.put("startToReadySeconds", c.awaitReady(Duration.ofSeconds(120)).toMillis() / 1000.0);
      Thread.sleep(10_000); // the workers look at every cached object once
      long sweeper = jmx.threadId("orphan-sweeper");
      long allocated0 = jmx.allocatedBytes(sweeper);
      if (!sweepLines(c).isEmpty()) {
        throw new IllegalStateException("the sweep began too early: raise -Dbench.sweepDelaySeconds");
      }
      r.put("rssBeforeMiB", c.rssKiB() / 1024.0);
      // Requests from here to the sweep's end: the sweep's own (the informers only watch meanwhile).
      env.drainControllerRequests();
      if (sampleHeap) {
        // Live heap samples: before the sweeping thread allocates anything (the baseline is their median), and
        // while it sweeps (the largest counts).
        List<Long> before = new ArrayList<>();
        List<Long> during = new ArrayList<>();
        long deadline = started + Duration.ofSeconds(SWEEP_DELAY + 120).toNanos();
        while (sweepLines(c).isEmpty() && System.nanoTime() < deadline) {
          boolean sweeping = jmx.allocatedBytes(sweeper) != allocated0;
          long live = jmx.liveHeapBytes();
          if (sweeping && sweepLines(c).isEmpty()) {
            during.add(live);
          } else if (!sweeping) {
            before.add(live);
          }
          Thread.sleep(100);
        }
        if (before.isEmpty() || during.isEmpty()) {
          throw new IllegalStateException("no live heap samples " + (before.isEmpty() ? "before" : "during")
              + " the sweep");
        }
        before.sort(Long::compare);
        long baseline = before.get(before.size() / 2);
        long peak = during.stream().mapToLong(Long::longValue).max().orElseThrow();
        r.put("liveHeapBeforeMiB", Map.of("min", before.get(0) / 1048576.0, "median", baseline / 1048576.0,
            "max", before.get(before.size() - 1) / 1048576.0));
        r.put("liveHeapDuringMiB", during.stream().map(b -> b / 1048576.0).toList());
        r.put("samplesBeforeSweep", before.size());
        r.put("samplesDuringSweep", during.size());
        r.put("extraLiveHeapMiB", Math.max(0, peak - baseline) / 1048576.0);
      }
      awaitCondition(() -> !sweepLines(c).isEmpty(), Duration.ofSeconds(SWEEP_DELAY + 120));
      Map<String, Long> requests = env.drainControllerRequests();
      r.put("allocatedMiB", (jmx.allocatedBytes(sweeper) - allocated0) / 1048576.0);
      r.put("rssAfterMiB", c.rssKiB() / 1024.0);
      r.put("requestsDuringSweep", requests);
      r.put("apiRequests", besidesWatches(requests));
      int sweeps = sampleHeap ? 1 : 2;
      awaitCondition(() -> sweepLines(c).size() >= sweeps, Duration.ofSeconds(sweeps * (SWEEP_DELAY + 120L)));
      List<Long> ms = new ArrayList<>();
      for (String line : sweepLines(c)) {
        java.util.regex.Matcher m = SWEEP_LINE.matcher(line);
        if (m.find()) {
          ms.add(Long.parseLong(m.group(4)));
          r.put("volumesListed", Long.parseLong(m.group(1)));
          r.put("candidates", Long.parseLong(m.group(2)));
          r.put("orphans", Long.parseLong(m.group(3)));
        }
      }
      r.put("sweepMs", ms);
      r.put("sweepLines", sweepLines(c));
      if (!Files.readString(c.log).contains("orphan Cinder volume " + orphan)) {
        throw new IllegalStateException("the orphan was not reported");
      }
      System.out.println("   " + dir.getFileName() + ": " + r);
    }
    return r;
  }

  private static List<String> sweepLines(ControllerProcess c) {
    try {
      return Files.readAllLines(c.log).stream().filter(l -> l.contains("orphan sweep: ")).toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The controller's platform MXBeans, through a management agent started with the attach API (as jcmd does). */
  private record Jmx(javax.management.remote.JMXConnector connector, java.lang.management.MemoryMXBean memory,
      com.sun.management.ThreadMXBean threads) implements AutoCloseable {
    static Jmx attach(long pid) throws Exception {
      com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(Long.toString(pid));
      String address;
      try {
        address = vm.startLocalManagementAgent();
      } finally {
        vm.detach();
      }
      var connector = javax.management.remote.JMXConnectorFactory.connect(
          new javax.management.remote.JMXServiceURL(address));
      var server = connector.getMBeanServerConnection();
      return new Jmx(connector, java.lang.management.ManagementFactory.newPlatformMXBeanProxy(server,
          java.lang.management.ManagementFactory.MEMORY_MXBEAN_NAME, java.lang.management.MemoryMXBean.class),
          java.lang.management.ManagementFactory.newPlatformMXBeanProxy(server,
              java.lang.management.ManagementFactory.THREAD_MXBEAN_NAME, com.sun.management.ThreadMXBean.class));
    }

    long threadId(String name) {
      for (java.lang.management.ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
        if (t != null && t.getThreadName().equals(name)) {
          return t.getThreadId();
        }
      }
      throw new IllegalStateException("no thread " + name);
    }

    long allocatedBytes(long threadId) {
      return threads.getThreadAllocatedBytes(threadId);
    }

    /** A full GC, then the heap in use: what is live. */
    long liveHeapBytes() {
      memory.gc();
      return memory.getHeapMemoryUsage().getUsed();
    }

    @Override
    public void close() throws Exception {
      connector.close();
    }
  }

  /** --workers, --kube-api-qps and --kube-api-burst as given by -Dbench.workers/qps/burst, else the defaults. */
  private static List<String> controllerArgs() {
    List<String> args = new ArrayList<>();
    if (!WORKERS.isEmpty()) {
      args.addAll(List.of("--workers", WORKERS));
    }
    if (!QPS.isEmpty()) {
      args.addAll(List.of("--kube-api-qps", QPS));
    }
    if (!BURST.isEmpty()) {
      args.addAll(List.of("--kube-api-burst", BURST));
    }
    return args;
  }

  private static int[] concat(int[] a, int b) {
    int[] r = Arrays.copyOf(a, a.length + 1);
    r[a.length] = b;
    Arrays.sort(r);
    return r;
  }

  /** One controller process against a fresh mock API server and simulator: n claims at once. */
  private Map<String, Object> burst(String name, int n, Duration apiLatency, Duration createDelay,
      Duration deleteDelay, boolean deleteStorm, List<String> args) throws Exception {
    return burst(name, n, apiLatency, createDelay, deleteDelay, deleteStorm, args, BackendCapacity.UNLIMITED);
  }

  /**
   * Issue 22: bursts against a simulator with a capacity model (so many creates and deletes at once, a queue, 503
   * beyond it), whose ideal is the simulator's capacity, not the controller's workers. Each setting of
   * {@code bench.capacitySettings} with each flag set of {@code bench.capacityArgs}; writes
   * {@code report-capacity.json}. {@code -Dtest=Benchmarks#capacity} runs it alone.
   */
  @Test
  void capacity() throws Exception {
    Files.createDirectories(OUT);
    List<Map<String, Object>> runs = new ArrayList<>();
    for (String setting : CAPACITY_SETTINGS.split(";")) {
      String[] kv = setting.trim().split("=");
      String[] f = kv[1].split("/");
      BackendCapacity capacity = BackendCapacity.of(Integer.parseInt(f[0]), Integer.parseInt(f[1]));
      Duration delay = Duration.ofMillis(Long.parseLong(f[2]));
      for (String argLine : CAPACITY_ARGS.split(";", -1)) {
        List<String> args = argLine.isBlank() ? List.of() : List.of(argLine.trim().split("\\s+"));
        String label = kv[0] + " (" + capacity + ", " + delay.toMillis() + " ms), "
            + (args.isEmpty() ? "defaults" : String.join(" ", args));
        Map<String, Object> r = burst("capacity-" + kv[0] + (args.isEmpty() ? "" : "-" + args.get(args.size() - 1)),
            CAPACITY_CLAIMS, API_LATENCY, delay, delay, true, args, capacity);
        r.put("label", label);
        runs.add(r);
        double pv = (double) r.get("allPvCreatedSeconds");
        double ideal = (double) r.get("capacityIdealSeconds");
        row(kv[0] + " " + CAPACITY_CLAIMS + ", " + (args.isEmpty() ? "defaults" : String.join(" ", args))
            + ": all PVs / Bound", fmt(pv) + " / " + fmt(r.get("allBoundSeconds")) + " s",
            "capacity " + fmt(ideal) + " s (x" + fmt(pv / ideal) + "); target <= x1.15",
            args.isEmpty() ? pv <= 1.15 * ideal : null);
        BackendCapacity.Stats b = (BackendCapacity.Stats) r.get("backend");
        BackendCapacity.Stats d = (BackendCapacity.Stats) r.get("deleteBackend");
        double del = (double) r.get("deleteStormSeconds");
        double delIdeal = (double) r.get("deleteCapacityIdealSeconds");
        row("  delete storm", fmt(del) + " s", "capacity " + fmt(delIdeal) + " s (x" + fmt(del / delIdeal) + ")",
            args.isEmpty() ? del <= 1.15 * delIdeal : null);
        row("  refused (create / delete), most at once", b.refused() + " / " + d.refused() + ", "
            + b.peakRunning() + " of " + capacity.concurrent(), "", null);
      }
    }
    report.put("capacity", runs);
    printTable();
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(OUT.resolve("report-capacity.json")
        .toFile(), report);
    if (STRICT && !missed.isEmpty()) {
      throw new AssertionError("targets missed: " + missed);
    }
  }

  /**
   * Issue 22: Fabric8's HTTP clients for the Kubernetes API compared by the controller's CPU per volume. Each round
   * runs the fast-simulator burst (no Cinder latency: the Kubernetes side is the work) once per client, in the order
   * of {@code bench.clients}, so the machine's drift falls on every client alike; then the median per client. Each
   * run also measures the idle RSS in pod style (as {@link #run()}'s target row). Every client, the jar's own too,
   * runs the same way: its jars (from {@code bench.clientsDir}/name) first, then a copy of the jar whose
   * ServiceLoader entry for its own client is left out, so the client in front is the only one Fabric8 finds (it
   * takes the factory of highest priority: Vert.x's, -1, would lose to the JDK's, 0, and OkHttp's, 0, tie with it).
   * Writes {@code report-clients.json}; {@code -Dtest=Benchmarks#clients} runs it alone. Skipped without the jars
   * (the {@code bench-clients} profile copies them).
   */
  @Test
  void clients() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(CLIENTS.stream().allMatch(c -> Files.isDirectory(
        CLIENTS_DIR.resolve(c))), "no jars of the clients " + CLIENTS + " in " + CLIENTS_DIR
        + ": add -Pbench-clients");
    Files.createDirectories(OUT);
    Path jarWithoutClient = OUT.resolve("standalone-cinder-no-http-client.jar");
    Files.copy(ControllerProcess.jar(), jarWithoutClient, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (java.nio.file.FileSystem zip = java.nio.file.FileSystems.newFileSystem(jarWithoutClient)) {
      Files.delete(zip.getPath("META-INF/services/io.fabric8.kubernetes.client.http.HttpClient$Factory"));
    }
    Map<String, List<Path>> classpaths = new LinkedHashMap<>();
    for (String client : CLIENTS) {
      List<Path> cp = new ArrayList<>(jarsOf(CLIENTS_DIR.resolve(client)));
      cp.add(jarWithoutClient);
      classpaths.put(client, cp);
    }
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int round = 1; round <= CLIENT_ROUNDS; round++) {
      for (String client : CLIENTS) {
        String name = "clients-" + client + "-" + round;
        Map<String, Object> r = burst(name, CLIENT_CLAIMS, Duration.ZERO, Duration.ZERO, Duration.ZERO, false,
            controllerArgs(), BackendCapacity.UNLIMITED, classpaths.get(client));
        r.put("idlePodStyleRssMiB", idleInPodStyle(name + "-idle", classpaths.get(client)).get("idleRssMiB"));
        @SuppressWarnings("unchecked")
        Map<String, Long> threads = (Map<String, Long>) r.get("cpuMsByThread");
        String marker = CLIENT_THREADS.get(client);
        String jdkMarker = CLIENT_THREADS.get("jdk");
        if (marker == null || threads.keySet().stream().noneMatch(t -> t.startsWith(marker))
            || !client.equals("jdk") && threads.keySet().stream().anyMatch(t -> t.startsWith(jdkMarker))) {
          throw new IllegalStateException("the " + client + " run did not use (only) the " + client
              + " client; its threads: " + threads.keySet());
        }
        r.put("client", client);
        r.put("round", round);
        runs.add(r);
        System.out.printf("   %s, round %d: %.2f ms CPU/volume, %.1f PVs/s, %.1f Bound/s, idle RSS %.1f MiB"
            + " (pod style %.1f)%n", client, round, r.get("cpuMsPerVolume"), r.get("pvsPerSecond"),
            r.get("claimsPerSecond"), r.get("idleRssMiB"), r.get("idlePodStyleRssMiB"));
      }
    }
    for (String client : CLIENTS) {
      List<Map<String, Object>> mine = runs.stream().filter(r -> r.get("client").equals(client)).toList();
      List<Double> cpu = mine.stream().map(r -> (Double) r.get("cpuMsPerVolume")).toList();
      row(client + ": controller CPU / volume, median (each run)", fmt(median(cpu)) + " ms (" + String.join(", ",
          cpu.stream().map(Benchmarks::fmt).toList()) + ")", "PVs / Bound " + fmt(medianOf(mine, "pvsPerSecond"))
          + " / " + fmt(medianOf(mine, "claimsPerSecond")) + " claims/s, idle RSS pod style / --kubeconfig "
          + fmt(medianOf(mine, "idlePodStyleRssMiB")) + " / " + fmt(medianOf(mine, "idleRssMiB"))
          + " MiB, Kubernetes calls / claim " + fmt(medianOf(mine, "kubeCallsPerClaim")), null);
    }
    report.put("clients", runs);
    printTable();
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(OUT.resolve("report-clients.json")
        .toFile(), report);
  }

  private static List<Path> jarsOf(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      List<Path> jars = files.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
      if (jars.isEmpty()) {
        throw new IllegalStateException("no jars in " + dir + " (the bench-clients profile copies them there)");
      }
      return jars;
    }
  }

  private static double medianOf(List<Map<String, Object>> runs, String key) {
    return median(runs.stream().map(r -> (Double) r.get(key)).toList());
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /**
   * As above, against a simulator with a capacity model: the report also has the capacity's ideal (C volumes
   * every create delay, plus one claim's Cinder calls) and what the backend saw (refusals, most at once).
   */
  private Map<String, Object> burst(String name, int n, Duration apiLatency, Duration createDelay,
      Duration deleteDelay, boolean deleteStorm, List<String> args, BackendCapacity capacity) throws Exception {
    return burst(name, n, apiLatency, createDelay, deleteDelay, deleteStorm, args, capacity, List.of());
  }

  /** As above, the controller run from this classpath when not empty (ControllerProcess#start). */
  private Map<String, Object> burst(String name, int n, Duration apiLatency, Duration createDelay,
      Duration deleteDelay, boolean deleteStorm, List<String> args, BackendCapacity capacity,
      List<Path> classpath) throws Exception {
    System.out.println("== " + name + ": " + n + " claims, apiLatency " + apiLatency.toMillis() + " ms, createDelay "
        + createDelay.toMillis() + " ms, capacity " + capacity + ", controller args " + args);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("claims", n);
    r.put("controllerArgs", args);
    r.put("capacity", capacity.toString());
    Path dir = OUT.resolve(name);
    try (BenchEnvironment env = new BenchEnvironment(dir, apiLatency, createDelay, deleteDelay, 128, false,
        capacity);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(env.client).start();
        ControllerProcess controller = ControllerProcess.start(dir, env.kubeconfig, env.cloudConf, args, false,
            classpath)) {
      Map<String, Long> created = new ConcurrentHashMap<>();
      Map<String, Long> storeOrder = new ConcurrentHashMap<>();
      Map<String, Long> pvAt = new ConcurrentHashMap<>();
      Map<String, Long> boundAt = new ConcurrentHashMap<>();
      SharedIndexInformer<PersistentVolumeClaim> claimWatch = env.client.persistentVolumeClaims()
          .inNamespace("default").inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(PersistentVolumeClaim c) {
              see(c);
            }

            @Override
            public void onUpdate(PersistentVolumeClaim o, PersistentVolumeClaim c) {
              see(c);
            }

            private void see(PersistentVolumeClaim c) {
              if (c.getStatus() != null && "Bound".equals(c.getStatus().getPhase())) {
                boundAt.putIfAbsent(c.getMetadata().getName(), System.nanoTime());
              }
            }

            @Override
            public void onDelete(PersistentVolumeClaim c, boolean unknown) {}
          });
      SharedIndexInformer<PersistentVolume> pvWatch = env.client.persistentVolumes().inform(new ResourceEventHandler<>() {
        @Override
        public void onAdd(PersistentVolume pv) {
          if (pv.getSpec().getClaimRef() != null) {
            pvAt.putIfAbsent(pv.getSpec().getClaimRef().getName(), System.nanoTime());
          }
        }

        @Override
        public void onUpdate(PersistentVolume o, PersistentVolume pv) {}

        @Override
        public void onDelete(PersistentVolume pv, boolean unknown) {}
      });

      measureIdle(controller, r);
      int workers = workersFromLog(controller);
      r.put("workers", workers);
      r.put("startupKubeCalls", env.drainControllerRequests());
      r.put("startupCinderCalls", env.sim.requestCounts());
      env.sim.resetRequestCounts();
      long cpu0 = controller.cpuMillis();

      // The burst: n claims created at once from 16 threads.
      ExecutorService pool = Executors.newFixedThreadPool(16);
      if (WARMUP > 0) {
        // A controller runs for days: its steady state, not its first minute of class loading and JIT, is what the
        // burst measures. The warm-up claims stay Bound (in the caches) through the measured burst.
        long w0 = System.nanoTime();
        createClaims(env, pool, "w", WARMUP, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
        awaitCondition(() -> boundAt.keySet().stream().filter(k -> k.startsWith("w")).count() >= WARMUP,
            Duration.ofSeconds(60 + 20L * WARMUP));
        Thread.sleep(1000);
        long warmCpu = controller.cpuMillis();
        r.put("warmupClaims", WARMUP);
        r.put("warmupAllBoundSeconds", (boundAt.values().stream().mapToLong(Long::longValue).max().orElseThrow()
            - w0) / 1e9);
        r.put("warmupCpuMsPerVolume", (double) (warmCpu - cpu0) / WARMUP);
        env.sim.resetRequestCounts();
        env.drainControllerRequests();
        cpu0 = warmCpu;
      }
      Map<String, Long> threads0 = controller.cpuMillisByThread();
      long t0 = System.nanoTime();
      List<Future<?>> fs = createClaims(env, pool, "c", n, created, storeOrder);
      for (Future<?> f : fs) {
        f.get();
      }
      double createSeconds = (System.nanoTime() - t0) / 1e9;
      r.put("createAllClaimsSeconds", createSeconds);
      // The maps also hold the warm-up claims: only the burst's (the keys of created) count from here.
      awaitCondition(() -> created.keySet().stream().filter(boundAt::containsKey).count() >= n,
          Duration.ofSeconds(60 + 20L * n));
      long tEnd = created.keySet().stream().mapToLong(boundAt::get).max().orElseThrow();
      long tPv = created.keySet().stream().mapToLong(c -> pvAt.getOrDefault(c, boundAt.get(c))).max().orElseThrow();
      Thread.sleep(1000); // let the last events and status writes finish before reading CPU and counters
      long cpu1 = controller.cpuMillis();
      r.put("cpuMsByThread", ControllerProcess.minus(controller.cpuMillisByThread(), threads0));
      Map<String, Long> cinderCalls = env.sim.requestCounts();
      Map<String, Long> kubeCalls = env.drainControllerRequests();
      long cinderTotal = cinderCalls.values().stream().mapToLong(Long::longValue).sum();
      long kubeTotal = besidesWatches(kubeCalls);
      double callsPerVolume = (double) cinderTotal / n;
      double perClaimMs = createDelay.toMillis() + callsPerVolume * apiLatency.toMillis();
      double ideal = Math.ceil((double) n / workers) * perClaimMs / 1000.0;
      double allBound = (tEnd - t0) / 1e9;
      r.put("allBoundSeconds", allBound);
      r.put("allPvCreatedSeconds", (tPv - t0) / 1e9);
      r.put("idealSeconds", ideal);
      r.put("ratioToIdeal", ideal > 0 ? allBound / ideal : null);
      r.put("claimsPerSecond", n / allBound);
      r.put("pvsPerSecond", n / ((tPv - t0) / 1e9));
      r.put("perClaimCinderMs", perClaimMs);
      r.put("cinderCallsPerVolume", callsPerVolume);
      r.put("cinderCalls", cinderCalls);
      r.put("kubeCallsPerClaim", (double) kubeTotal / n);
      r.put("kubeCalls", kubeCalls);
      r.put("eventsByReason", eventsByReason(env));
      r.put("cpuMs", cpu1 - cpu0);
      r.put("cpuMsPerVolume", (double) (cpu1 - cpu0) / n);
      r.put("rssAfterBurstMiB", controller.rssKiB() / 1024.0);
      if (capacity != BackendCapacity.UNLIMITED) {
        r.put("capacityIdealSeconds", capacityIdeal(n, capacity, createDelay, callsPerVolume, apiLatency));
        r.put("backend", env.sim.capacityStats());
        System.out.printf("   all PVs %.2f s against the capacity's %.2f s; backend %s%n", (tPv - t0) / 1e9,
            r.get("capacityIdealSeconds"), env.sim.capacityStats());
      }

      // Latency per claim, and the overhead: latency minus what the simulator itself needed for that claim,
      // queueing behind earlier claims for a free worker included (FIFO, W workers).
      List<String> order = new ArrayList<>(created.keySet());
      order.sort((a, b) -> Long.compare(storeOrder.get(a), storeOrder.get(b)));
      double[] latBound = new double[n];
      double[] ovBound = new double[n];
      double[] ovPv = new double[n];
      List<Double> boundTimes = new ArrayList<>();
      List<Double> pvTimes = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        String c = order.get(k);
        double idealK = (k / workers + 1) * perClaimMs;
        latBound[k] = (boundAt.get(c) - created.get(c)) / 1e6;
        ovBound[k] = latBound[k] - idealK;
        ovPv[k] = (pvAt.getOrDefault(c, boundAt.get(c)) - created.get(c)) / 1e6 - idealK;
        boundTimes.add((boundAt.get(c) - t0) / 1e9);
        pvTimes.add((pvAt.getOrDefault(c, boundAt.get(c)) - t0) / 1e9);
      }
      boundTimes.sort(Double::compare);
      pvTimes.sort(Double::compare);
      r.put("latencyToBoundMsPercentiles", percentiles(latBound));
      r.put("overheadToBoundMs", percentiles(ovBound));
      r.put("overheadToPvMs", percentiles(ovPv));
      r.put("latencyToBoundMs", Arrays.stream(latBound).boxed().toList());
      r.put("overheadToPvMsInStoreOrder", Arrays.stream(ovPv).map(Math::rint).boxed().toList());
      r.put("boundAtSeconds", boundTimes);
      r.put("pvCreatedAtSeconds", pvTimes);
      // Counts and sums since start (warm-up included): mean Cinder call time as the controller sees it.
      r.put("metricsAfterBurst", controller.metrics().lines().filter(l -> (l.startsWith("controller_")
          || l.startsWith("openstack_api_request_duration_seconds_")) && !l.contains("_bucket")).toList());
      System.out.printf("   all Bound in %.2f s (ideal %.2f s, %d workers), %.1f Cinder calls/volume, %.1f ms CPU/volume%n",
          allBound, ideal, workers, callsPerVolume, (double) (cpu1 - cpu0) / n);
      System.out.println("   controller CPU ms by thread: " + r.get("cpuMsByThread"));
      // Printed as measured: a run that fails later (a crash at a later point) still shows each point's numbers.
      System.out.println("   overhead to PV ms: " + r.get("overheadToPvMs") + "; to Bound: " + r.get("overheadToBoundMs")
          + "; Kubernetes calls/claim " + fmt(r.get("kubeCallsPerClaim")) + "; start to ready "
          + r.get("startToReadySeconds") + " s");

      if (deleteStorm) {
        env.sim.resetRequestCounts();
        env.drainControllerRequests();
        long dcpu0 = controller.cpuMillis();
        // Claims whose intent (our finalizer) is not cleared yet: deleting one costs the controller a write more.
        long holding = claimWatch.getStore().list().stream().filter(c -> created.containsKey(c.getMetadata()
            .getName()) && c.getMetadata().getFinalizers().contains(Annotations.CLAIM_FINALIZER)).count();
        long d0 = System.nanoTime();
        fs.clear();
        for (String c : order) {
          fs.add(pool.submit(() -> env.client.persistentVolumeClaims().inNamespace("default").withName(c).delete()));
        }
        for (Future<?> f : fs) {
          f.get();
        }
        awaitCondition(() -> pvWatch.getStore().list().stream()
            .noneMatch(pv -> created.containsKey(pv.getSpec().getClaimRef().getName()))
            && env.sim.volumes().size() <= WARMUP,
            Duration.ofSeconds(60 + 20L * n));
        double del = (System.nanoTime() - d0) / 1e9;
        Thread.sleep(1000);
        long dcpu1 = controller.cpuMillis();
        Map<String, Long> dCinder = env.sim.requestCounts();
        Map<String, Long> dKube = env.drainControllerRequests();
        double dCalls = (double) dCinder.values().stream().mapToLong(Long::longValue).sum() / n;
        double perDelete = deleteDelay.toMillis() + dCalls * apiLatency.toMillis();
        r.put("deleteStormSeconds", del);
        r.put("deleteIdealSeconds", Math.ceil((double) n / workers) * perDelete / 1000.0);
        r.put("deleteCinderCallsPerVolume", dCalls);
        r.put("deleteCinderCalls", dCinder);
        r.put("deleteKubeCalls", dKube);
        r.put("deleteCpuMsPerVolume", (double) (dcpu1 - dcpu0) / n);
        if (capacity != BackendCapacity.UNLIMITED) {
          r.put("deleteCapacityIdealSeconds", capacityIdeal(n, capacity, deleteDelay, dCalls, apiLatency));
          r.put("deleteBackend", env.sim.capacityStats());
        }
        r.put("deleteStormClaimsHoldingIntent", holding);
        long dKubeTotal = besidesWatches(dKube);
        r.put("deleteKubeCallsPerClaim", (double) dKubeTotal / n);
        System.out.printf("   delete storm: all gone in %.2f s; %d of %d claims still held our finalizer at its start; "
            + "%.2f Kubernetes and %.2f Cinder calls per claim%n", del, holding, n, (double) dKubeTotal / n, dCalls);
      }
      pool.shutdownNow();
      claimWatch.stop();
      pvWatch.stop();
    }
    return r;
  }

  /**
   * Creates n claims named prefix + number from the pool's threads. A claim counts as created when the API server
   * has answered (a request may wait there behind others; until it is stored no controller can see it), and its
   * place in the order the controller sees claims in is the order the server stored them: its resourceVersion. They
   * carry the storage-provisioner annotation kube-controller-manager would add, so the binder is off the start path.
   */
  private static List<Future<?>> createClaims(BenchEnvironment env, ExecutorService pool, String prefix, int n,
      Map<String, Long> created, Map<String, Long> storeOrder) {
    List<Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String claimName = String.format("%s%05d", prefix, i);
      fs.add(pool.submit(() -> {
        PersistentVolumeClaim saved = env.client.persistentVolumeClaims().inNamespace("default")
            .resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(claimName)
                .addToAnnotations("volume.kubernetes.io/storage-provisioner", "openstack.org/standalone-cinder")
                .endMetadata().withNewSpec().withStorageClassName("cinder").withAccessModes("ReadWriteOnce")
                .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build())
            .create();
        created.put(claimName, System.nanoTime());
        storeOrder.put(claimName, Long.parseLong(saved.getMetadata().getResourceVersion()));
        return null;
      }));
    }
    return fs;
  }

  /**
   * The idle controller as it runs in a pod: no kubeconfig to parse, the API server over HTTPS. The bursts use a
   * kubeconfig and plain HTTP (cheaper for the mock server); their idle RSS is reported beside this one.
   */
  private Map<String, Object> idleInPodStyle() throws Exception {
    return idleInPodStyle("idle-pod-style", List.of());
  }

  /** As above, the controller run from this classpath when not empty (ControllerProcess#start). */
  private Map<String, Object> idleInPodStyle(String name, List<Path> classpath) throws Exception {
    System.out.println("== " + name + ": idle, pod style");
    Map<String, Object> r = new LinkedHashMap<>();
    Path dir = OUT.resolve(name);
    Files.createDirectories(dir);
    try (BenchEnvironment env = new BenchEnvironment(dir, Duration.ZERO, Duration.ZERO, Duration.ZERO, 8, true);
        ControllerProcess controller = ControllerProcess.start(dir, env.kubeconfig, env.cloudConf, controllerArgs(),
            true, classpath)) {
      measureIdle(controller, r);
    }
    return r;
  }

  /** Start to ready, then the RSS (and its parts) 2 s later with nothing to do; into r. */
  private static void measureIdle(ControllerProcess controller, Map<String, Object> r) throws Exception {
    Duration ready = controller.awaitReady(Duration.ofSeconds(60));
    Thread.sleep(2000);
    r.put("startToReadySeconds", ready.toMillis() / 1000.0);
    Map<String, Long> rss = controller.rssPartsKiB();
    r.put("idleRssMiB", rss.get("VmRSS") / 1024.0);
    r.put("idleRssPartsKiB", rss);
    System.out.println("   start to ready " + r.get("startToReadySeconds") + " s; idle RSS (KiB): " + rss);
    printJcmd(controller);
  }

  /** Memory with many bound PV/claim pairs (made directly in the API server, not provisioned) in the caches. */
  private Map<String, Object> memory(int objects) throws Exception {
    System.out.println("== memory: " + objects + " PVs + " + objects + " claims");
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("objects", objects);
    Path dir = OUT.resolve("memory");
    try (BenchEnvironment env = new BenchEnvironment(dir, Duration.ZERO, Duration.ZERO, Duration.ZERO, 8)) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      long t0 = System.nanoTime();
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < objects; i++) {
        int k = i;
        fs.add(pool.submit(() -> {
          createBoundPair(env, k, "m", uid -> String.format("%08d-1111-4000-8000-%012d", k, k));
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdownNow();
      r.put("populateSeconds", (System.nanoTime() - t0) / 1e9);
      System.out.printf("   populated in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      env.drainControllerRequests();
      try (ControllerProcess controller = ControllerProcess.start(dir, env.kubeconfig, env.cloudConf,
          controllerArgs())) {
        Duration ready = controller.awaitReady(Duration.ofSeconds(120));
        r.put("startToReadySeconds", ready.toMillis() / 1000.0);
        r.put("rssAtReadyMiB", controller.rssKiB() / 1024.0);
        Thread.sleep(10_000); // workers look at every cached object once; then it settles
        r.put("rssMiB", controller.rssKiB() / 1024.0);
        printJcmd(controller);
        // How much of it is live: a full GC (SerialGC then gives memory back above MaxHeapFreeRatio).
        fullGc(controller);
        r.put("rssAfterFullGcMiB", controller.rssKiB() / 1024.0);
        r.put("cpuMsAfter10s", controller.cpuMillis());
        r.put("kubeCalls", env.drainControllerRequests());
        r.put("cinderCalls", env.sim.requestCounts());
        System.out.printf("   ready in %.2f s, RSS %.1f MiB%n", ready.toMillis() / 1000.0,
            controller.rssKiB() / 1024.0);
      }
    }
    return r;
  }

  /**
   * A bound claim and PV made directly in the API server, shaped like ours (iSCSI, CHAP Secret reference, our
   * annotations): claim prefix + k, PV named from k; the PV names the Cinder volume {@code volumeFor} returns for
   * the claim's UID.
   */
  private static void createBoundPair(BenchEnvironment env, int k, String prefix,
      java.util.function.Function<String, String> volumeFor) {
    String claim = String.format("%s%05d", prefix, k);
    String pv = pairPvName(k);
    var c = env.client.persistentVolumeClaims().inNamespace("default").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(claim)
        .addToAnnotations("volume.kubernetes.io/storage-provisioner", "openstack.org/standalone-cinder")
        .addToAnnotations("pv.kubernetes.io/bind-completed", "yes").endMetadata()
        .withNewSpec().withStorageClassName("cinder").withAccessModes("ReadWriteOnce").withVolumeName(pv)
        .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec()
        .withNewStatus().withPhase("Bound").endStatus().build()).create();
    env.client.persistentVolumes().resource(new PersistentVolumeBuilder().withNewMetadata().withName(pv)
        .addToAnnotations("pv.kubernetes.io/provisioned-by", "openstack.org/standalone-cinder")
        .addToAnnotations("standaloneCinderProvisionerIdentity", "openstack.org/standalone-cinder")
        .addToAnnotations("cinderVolumeId", volumeFor.apply(c.getMetadata().getUid()))
        .endMetadata().withNewSpec().withStorageClassName("cinder").withAccessModes("ReadWriteOnce")
        .withPersistentVolumeReclaimPolicy("Delete").addToCapacity("storage", new Quantity("1Gi"))
        .withNewIscsi().withTargetPortal("192.0.2.10:3260")
        .withIqn("iqn.2010-10.org.openstack:volume-" + k).withLun(0).withFsType("ext4")
        .withChapAuthSession(true).withNewSecretRef().withName(pv + "-chap").withNamespace("kube-system")
        .endSecretRef().endIscsi()
        .withNewClaimRef().withNamespace("default").withName(claim).withUid(c.getMetadata().getUid())
        .endClaimRef().endSpec().withNewStatus().withPhase("Bound").endStatus().build()).create();
  }

  private static String pairPvName(int k) {
    return "pvc-" + String.format("%08d-0000-4000-8000-%012d", k, k);
  }

  private static void fullGc(ControllerProcess controller) throws Exception {
    jcmd(controller, "GC.run");
    Thread.sleep(1000);
  }

  /** -Dbench.jcmd="VM.native_memory summary;GC.heap_info" prints what jcmd says at the idle and memory points. */
  private static void printJcmd(ControllerProcess controller) throws Exception {
    for (String command : prop("bench.jcmd", "").split(";")) {
      if (!command.isBlank()) {
        System.out.println(jcmd(controller, command.trim().split("\\s+")));
      }
    }
  }

  private static String jcmd(ControllerProcess controller, String... command) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(controller.process.pid())));
    cmd.addAll(List.of(command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  /**
   * What a Cinder of this capacity needs for n operations: C of them every {@code delay}, plus the API calls of the
   * last one (its calls come one after the other).
   */
  static double capacityIdeal(int n, BackendCapacity capacity, Duration delay, double callsPerVolume,
      Duration apiLatency) {
    return (Math.ceil((double) n / capacity.concurrent()) * delay.toMillis()
        + callsPerVolume * apiLatency.toMillis()) / 1000.0;
  }

  private static int workersFromLog(ControllerProcess c) throws Exception {
    for (String line : Files.readAllLines(c.log)) {
      int i = line.indexOf(" started with ");
      if (i >= 0) {
        return Integer.parseInt(line.substring(i + 14).split(" ")[0]);
      }
    }
    throw new IllegalStateException("no worker count in the controller's log");
  }

  private static void awaitCondition(BooleanSupplier done, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not done after " + timeout);
      }
      Thread.sleep(5);
    }
  }

  /** The requests of a count by "METHOD path" (drainControllerRequests), the long-running watches left out. */
  private static long besidesWatches(Map<String, Long> requests) {
    return requests.entrySet().stream().filter(e -> !e.getKey().contains("(watch)")).mapToLong(Map.Entry::getValue)
        .sum();
  }

  static Map<String, Double> percentiles(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("p50", pct(v, 50));
    m.put("p95", pct(v, 95));
    m.put("p99", pct(v, 99));
    m.put("max", v[v.length - 1]);
    return m;
  }

  private static double pct(double[] sorted, double p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private void row(String what, String value, String against, Boolean met) {
    String verdict = met == null ? "" : met ? "met" : "MISSED";
    if (Boolean.FALSE.equals(met)) {
      missed.add(what);
    }
    table.add(new String[] {what, value, against, verdict});
  }

  private void printTable() {
    int[] w = new int[4];
    for (String[] r : table) {
      for (int i = 0; i < 4; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder("\n");
    for (String[] r : table) {
      sb.append(String.format("| %-" + w[0] + "s | %" + w[1] + "s | %-" + w[2] + "s | %-" + Math.max(1, w[3])
          + "s |%n", (Object[]) r));
    }
    System.out.println(sb);
    report.put("table", table.stream().map(r -> String.join(" | ", r)).toList());
  }

  static String fmt(Object o) {
    if (o instanceof Double d) {
      return d >= 100 ? String.format("%.0f", d) : d >= 10 ? String.format("%.1f", d) : String.format("%.2f", d);
    }
    return String.valueOf(o);
  }

  /**
   * The Events in the API server by reason (warm-up and burst), each counted once and with its series (repeats
   * written as a PATCH): what the "POST events" of the calls per claim are.
   */
  private static Map<String, Long> eventsByReason(BenchEnvironment env) {
    Map<String, Long> counts = new java.util.TreeMap<>();
    for (var e : env.client.events().v1().events().inAnyNamespace().list().getItems()) {
      counts.merge(e.getReason(), 1L, Long::sum);
      if (e.getSeries() != null) {
        counts.merge(e.getReason() + " (repeats)", (long) e.getSeries().getCount() - 1, Long::sum);
      }
    }
    return counts;
  }
}
