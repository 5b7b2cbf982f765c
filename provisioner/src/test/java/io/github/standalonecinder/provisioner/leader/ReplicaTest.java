package io.github.standalonecinder.provisioner.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.provisioner.metrics.StatusServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The replica's lifecycle with a stand-in controller that records what happened, and the real elector against the
 * CRUD mock API server: the order of things, and every way the process gives up.
 */
@EnableKubernetesMockClient(crud = true)
class ReplicaTest {
  static KubernetesClient client;

  /** Records its calls, with who held the Lease at each. */
  static final class FakeWorkload implements Replica.Workload {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> synced = new CompletableFuture<>();
    volatile RuntimeException startFailure;
    volatile String problem;

    @Override
    public CompletableFuture<Void> startInformers() {
      calls.add("informers");
      return synced;
    }

    @Override
    public void startWorkers() {
      if (startFailure != null) {
        throw startFailure;
      }
      calls.add("workers");
    }

    @Override
    public Optional<String> problem() {
      return Optional.ofNullable(problem);
    }

    @Override
    public boolean ready() {
      return synced.isDone();
    }

    @Override
    public void close() {
      calls.add("close while the Lease is held by " + holder());
    }
  }

  /** Records the exit status instead of exiting. */
  static final class FakeExit implements Replica.Exit {
    final CompletableFuture<Integer> status = new CompletableFuture<>();

    @Override
    public void exit(int s) {
      status.complete(s);
    }
  }

  private final FakeWorkload workload = new FakeWorkload();
  private final FakeExit exit = new FakeExit();

  @BeforeEach
  void clean() {
    client.leases().inNamespace("ns").delete();
  }

  static String holder() {
    Lease l = client.leases().inNamespace("ns").withName("lease").get();
    return l == null ? null : l.getSpec().getHolderIdentity();
  }

  private Replica elected(String identity) {
    LeaseElector.Config config = LeaseElector.Config.of("ns", "lease", identity, Duration.ofSeconds(3));
    Leadership leadership = new Leadership(config.renewDeadline());
    return Replica.elected(workload, leadership, l -> new LeaseElector(client, config, leadership, l), exit);
  }

  @Test
  void workersStartOnlyOnceLeadingAndSyncedAndStopBeforeTheLeaseIsHandedBack() {
    Replica replica = elected("me");
    replica.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> "me".equals(holder()));
    assertThat(workload.calls).as("caches not filled yet").containsExactly("informers");
    workload.synced.complete(null);
    await().atMost(Duration.ofSeconds(10)).until(() -> workload.calls.contains("workers"));
    assertThat(replica.ready()).isTrue();

    replica.close();
    assertThat(workload.calls).containsExactly("informers", "workers", "close while the Lease is held by me");
    assertThat(holder()).as("handed back after the controller stopped").isNull();
    assertThat(exit.status).isNotDone();
  }

  @Test
  void aStandbyFillsItsCachesButNeverStartsWorking() throws Exception {
    client.leases().inNamespace("ns").resource(new LeaseBuilder().withNewMetadata().withName("lease")
        .withNamespace("ns").endMetadata().withNewSpec().withHolderIdentity("other").withLeaseDurationSeconds(3600)
        .withRenewTime(ZonedDateTime.now()).endSpec().build()).create();
    Replica replica = elected("me");
    replica.start();
    workload.synced.complete(null);
    Thread.sleep(2000);
    assertThat(workload.calls).containsExactly("informers");
    assertThat(replica.ready()).as("a healthy standby is ready").isTrue();
    assertThat(replica.failure()).isEmpty();
    replica.close();
    assertThat(holder()).as("not ours to release").isEqualTo("other");
  }

  @Test
  void aControllerThatFailsToStartEndsTheProcessAndHandsTheLeaseBack() throws Exception {
    workload.startFailure = new IllegalStateException("boom");
    Replica replica = elected("me");
    replica.start();
    workload.synced.complete(null);
    assertThat(exit.status.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(replica.failure()).hasValue("the controller failed to start: boom");
    assertThat(workload.calls).last().asString().startsWith("close while the Lease is held by me");
    assertThat(holder()).isNull();
  }

  @Test
  void aStoppedInformerEndsTheProcessAndHealthzSaysWhy() throws Exception {
    Replica replica = Replica.alone(workload, exit);
    try (StatusServer status = new StatusServer(new InetSocketAddress("127.0.0.1", 0),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), replica::ready, replica::failure)) {
      replica.start();
      workload.synced.complete(null);
      await().atMost(Duration.ofSeconds(10)).until(() -> workload.calls.contains("workers"));
      assertThat(get(status, "/healthz")).isEqualTo("200 ok\n");

      workload.problem = "an informer stopped after failing for 60 s";
      assertThat(exit.status.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
      assertThat(get(status, "/healthz")).isEqualTo("503 failing: an informer stopped after failing for 60 s\n");
      assertThat(get(status, "/readyz")).startsWith("503");
    }
  }

  @Test
  void cachesThatNeverFillEndTheProcess() throws Exception {
    Replica replica = Replica.alone(workload, exit);
    replica.start();
    workload.synced.completeExceptionally(new IllegalStateException("LIST refused: 403"));
    assertThat(exit.status.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(replica.failure()).hasValue("the informers could not fill their caches: LIST refused: 403");
    assertThat(workload.calls).doesNotContain("workers");
  }

  private static String get(StatusServer server, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.port() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }
}
