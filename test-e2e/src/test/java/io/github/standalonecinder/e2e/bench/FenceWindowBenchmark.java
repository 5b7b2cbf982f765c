package io.github.standalonecinder.e2e.bench;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.standalonecinder.provisioner.leader.Fence;
import io.github.standalonecinder.provisioner.leader.FencingInterceptor;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * How long a Kubernetes write can still leave after the fence last said yes (docs/robustness.md): a replica frozen
 * inside that window sends the write when it thaws. Writers (as the controller's workers) PUT through Fabric8's JDK
 * client with the product's {@link FencingInterceptor}, to a loopback server that answers at once; per request it
 * records the interceptor's check, the check as the body starts on the wire, and the moment the server holds the
 * whole request. Prints percentiles; asserts nothing. Run it with {@code mvn -B -o -Pbench -pl test-e2e -am verify
 * -Dtest=FenceWindowBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class FenceWindowBenchmark {
  static final int WRITES = Integer.getInteger("bench.fenceWrites", 3000);
  static final int WRITERS = Integer.getInteger("bench.fenceWriters", 16);

  @Test
  void fenceWindow() throws Exception {
    Map<String, List<Long>> checks = new ConcurrentHashMap<>();
    Map<String, Long> whole = new ConcurrentHashMap<>();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
    ExecutorService serving = Executors.newFixedThreadPool(WRITERS);
    server.setExecutor(serving);
    server.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      whole.put(exchange.getRequestURI().getPath(), System.nanoTime());
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    // Held throughout; records when each write's path was checked.
    Fence recording = new Fence() {
      @Override
      public boolean held() {
        return true;
      }

      @Override
      public void check(String what) {
        checks.computeIfAbsent(what.substring(what.indexOf(' ') + 1), k -> new CopyOnWriteArrayList<>())
            .add(System.nanoTime());
      }
    };
    var config = new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort())
        .withNamespace("bench").build();
    ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(config).withHttpClientBuilderConsumer(
        b -> b.addOrReplaceInterceptor(FencingInterceptor.NAME, new FencingInterceptor(recording))).build()) {
      List<Future<?>> writes = new ArrayList<>();
      for (int i = 0; i < WRITES; i++) {
        var cm = new ConfigMapBuilder().withNewMetadata().withName("cm-" + i).withNamespace("bench")
            .withResourceVersion("1").endMetadata().addToData("key", "value").build();
        writes.add(writers.submit(() -> kube.configMaps().inNamespace("bench").resource(cm).update()));
      }
      for (Future<?> w : writes) {
        w.get();
      }
    } finally {
      writers.shutdown();
      server.stop(0);
      serving.shutdown();
    }
    List<Long> queued = new ArrayList<>();
    List<Long> onTheWire = new ArrayList<>();
    checks.forEach((path, at) -> {
      Long arrived = whole.get(path);
      if (at.size() == 2 && arrived != null) {
        queued.add(at.get(1) - at.get(0));
        onTheWire.add(arrived - at.get(1));
      }
    });
    System.out.printf("fence window, %d PUTs by %d writers through the JDK client (%d measured):%n", WRITES,
        WRITERS, queued.size());
    System.out.println("  interceptor's check -> body's check (open before the body check): " + percentiles(queued));
    System.out.println("  body's check -> the server holds the whole request (still open; the server's own "
        + "wake-up included): " + percentiles(onTheWire));
  }

  /** {@link Benchmarks#percentiles} of nanoseconds, in milliseconds. */
  private static String percentiles(List<Long> nanos) {
    return Benchmarks.percentiles(nanos.stream().mapToDouble(n -> n / 1e6).toArray()).entrySet().stream()
        .map(e -> String.format("%s %.3f ms", e.getKey(), e.getValue())).collect(Collectors.joining(", "));
  }
}
