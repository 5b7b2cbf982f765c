package io.github.standalonecinder.e2e.chaos;

import io.github.standalonecinder.e2e.Kubeconfigs;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;

/**
 * The Fabric8 CRUD mock API server on loopback with a kubeconfig other processes can use, plus expectations
 * ({@link #expect()}) answered before the CRUD store: the way Kubernetes API faults are injected. Like a real cluster
 * it has a {@code kube-system} namespace with a random UID (the provisioner's default cluster id; the CRUD store
 * would give every server's first object the same UID).
 */
final class ChaosApiServer implements AutoCloseable {
  /** The bearer token written in the kubeconfig: the log scan checks it never shows. */
  static final String TOKEN = "chaos-kube-token-3f9c2a71e4";

  private static final String FORBIDDEN = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
      + "\"reason\":\"Forbidden\",\"code\":403,\"message\":\"refused by the chaos test\"}";

  /** One request as it arrived: when (monotonic nanos), what, and the bearer token that sent it. */
  record Request(long arrivedNanos, String method, String path, String token) {
    boolean write() {
      return !method.equals("GET") && !method.equals("HEAD");
    }
  }

  private final KubernetesMockServer server;
  private final Recorder recorder;
  private final Path dir;
  final KubernetesClient client;
  final Path kubeconfig;
  /** The UID of this cluster's kube-system namespace: the cluster id a provisioner derives from it. */
  final String kubeSystemUid = UUID.randomUUID().toString();

  ChaosApiServer(Path dir) throws IOException {
    this.dir = dir;
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    recorder = new Recorder(responses);
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, recorder, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    server.expect().get().withPath("/api/v1/namespaces/kube-system").andReturn(200, new NamespaceBuilder()
        .withNewMetadata().withName("kube-system").withUid(kubeSystemUid).endMetadata().build()).always();
    client = server.createClient();
    kubeconfig = Kubeconfigs.write(dir, client.getMasterUrl().toString(), TOKEN);
  }

  /** A kubeconfig of its own for one replica: its requests carry {@code token}, so they can be told apart. */
  Path kubeconfigFor(String token) throws IOException {
    return kubeconfigFor(token, port());
  }

  /** The same, reaching the server on another port of loopback (a relay in front of it). */
  Path kubeconfigFor(String token, int port) throws IOException {
    Path d = dir.resolve("kube-" + token);
    java.nio.file.Files.createDirectories(d);
    return Kubeconfigs.write(d, "http://127.0.0.1:" + port + "/", token);
  }

  int port() {
    return client.getMasterUrl().getPort();
  }

  /** Every request that arrived so far. */
  List<Request> requests() {
    synchronized (recorder.log) {
      return List.copyOf(recorder.log);
    }
  }

  /** Writes sent with {@code token} that arrived at or after {@code nanos}. */
  List<Request> writesSince(String token, long nanos) {
    return requests().stream().filter(r -> r.write() && token.equals(r.token()) && r.arrivedNanos() >= nanos)
        .toList();
  }

  /** From now on, requests matching {@code refuse} get 403 (null: none). */
  void refuse(Predicate<Request> refuse) {
    recorder.refuse = refuse;
  }

  /** The CRUD dispatcher, recording each request and refusing those the test says to. */
  private static final class Recorder extends KubernetesMixedDispatcher {
    final List<Request> log = new ArrayList<>();
    volatile Predicate<Request> refuse;

    Recorder(Map<ServerRequest, Queue<ServerResponse>> responses) {
      super(responses);
    }

    @Override
    public MockResponse dispatch(RecordedRequest r) {
      String auth = r.getHeader("Authorization");
      Request req = new Request(System.nanoTime(), r.getMethod(), r.getPath(),
          auth == null ? null : auth.replaceFirst("(?i)^bearer\\s+", ""));
      synchronized (log) {
        log.add(req);
      }
      Predicate<Request> p = refuse;
      if (p != null && p.test(req)) {
        return new MockResponse().setResponseCode(403).setBody(FORBIDDEN);
      }
      return super.dispatch(r);
    }
  }

  KubernetesMockServer server() {
    return server;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
