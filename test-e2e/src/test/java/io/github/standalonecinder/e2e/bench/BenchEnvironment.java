package io.github.standalonecinder.e2e.bench;

import io.github.standalonecinder.e2e.Kubeconfigs;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.standalonecinder.simulator.BackendCapacity;
import io.github.standalonecinder.simulator.CinderSimulator;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One benchmark world: the Fabric8 CRUD mock API server on loopback, the Cinder simulator, a StorageClass, and a
 * client for the benchmark's own requests (its User-Agent tells them from the controller's).
 */
final class BenchEnvironment implements AutoCloseable {
  static final String BENCH_AGENT = "standalone-cinder-bench";
  /** The mock server logs every request at INFO through java.util.logging: thousands of lines per run. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  final KubernetesMockServer server;
  final KubernetesClient client;
  final CinderSimulator sim;
  final Path kubeconfig;
  final Path cloudConf;

  BenchEnvironment(Path dir, Duration apiLatency, Duration createDelay, Duration deleteDelay, int simThreads)
      throws IOException {
    this(dir, apiLatency, createDelay, deleteDelay, simThreads, false);
  }

  /** With tls, the API server speaks HTTPS (a self-signed certificate), as a pod's API server does. */
  BenchEnvironment(Path dir, Duration apiLatency, Duration createDelay, Duration deleteDelay, int simThreads,
      boolean tls) throws IOException {
    this(dir, apiLatency, createDelay, deleteDelay, simThreads, tls, BackendCapacity.UNLIMITED);
  }

  /** With a capacity model: the simulator works on so many creates and deletes at once (docs/benchmarks.md). */
  BenchEnvironment(Path dir, Duration apiLatency, Duration createDelay, Duration deleteDelay, int simThreads,
      boolean tls, BackendCapacity capacity) throws IOException {
    sim = CinderSimulator.builder().backend(Benchmarks.BACKEND).volumeType("iscsi", Map.of())
        .apiLatency(apiLatency).createDelay(createDelay).deleteDelay(deleteDelay).httpThreads(simThreads)
        .capacity(capacity).start();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), tls);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient plain = server.createClient()) {
      client = new KubernetesClientBuilder().withConfig(new ConfigBuilder(plain.getConfiguration())
          .withUserAgent(BENCH_AGENT).withMaxConcurrentRequests(64).withMaxConcurrentRequestsPerHost(64).build())
          .build();
    }
    // As in a real cluster: its UID is the controller's default cluster id.
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata()
        .build()).create();
    kubeconfig = Kubeconfigs.write(dir, client.getMasterUrl().toString(), "not-checked");
    cloudConf = dir.resolve("cloud.conf");
    Files.writeString(cloudConf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
    client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
        .withName("cinder").endMetadata().withProvisioner("openstack.org/standalone-cinder")
        .withParameters(Map.of("type", "iscsi")).withReclaimPolicy("Delete").build()).create();
  }

  /**
   * Drains the mock server's request log; returns the controller's requests (any User-Agent but ours) counted by
   * "METHOD kind[/sub]" with watches counted apart.
   */
  Map<String, Long> drainControllerRequests() throws InterruptedException {
    Map<String, Long> counts = new TreeMap<>();
    RecordedRequest r;
    while ((r = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
      String agent = r.getHeader("User-Agent");
      if (agent != null && agent.contains(BENCH_AGENT)) {
        continue;
      }
      counts.merge(r.getMethod() + " " + shape(r.getPath()), 1L, Long::sum);
    }
    return counts;
  }

  /** "/api/v1/namespaces/default/persistentvolumeclaims/c1/status?x" → "persistentvolumeclaims/status". */
  static String shape(String path) {
    boolean watch = path.contains("watch=true");
    int q = path.indexOf('?');
    String[] segs = java.util.Arrays.stream((q >= 0 ? path.substring(0, q) : path).split("/"))
        .filter(x -> !x.isEmpty()).toArray(String[]::new);
    int i = segs.length > 0 && segs[0].equals("apis") ? 3 : 2;
    if (i + 2 < segs.length && segs[i].equals("namespaces")) {
      i += 2;
    }
    if (i >= segs.length) {
      return String.join("/", segs);
    }
    return segs[i] + (i + 2 < segs.length ? "/" + segs[i + 2] : "") + (watch ? " (watch)" : "");
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
    sim.close();
  }
}
