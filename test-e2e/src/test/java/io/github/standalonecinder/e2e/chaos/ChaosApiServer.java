package io.github.standalonecinder.e2e.chaos;

import io.github.standalonecinder.e2e.Kubeconfigs;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * The Fabric8 CRUD mock API server on loopback with a kubeconfig other processes can use, plus expectations
 * ({@link #expect()}) answered before the CRUD store: the way Kubernetes API faults are injected.
 */
final class ChaosApiServer implements AutoCloseable {
  /** The bearer token written in the kubeconfig: the log scan checks it never shows. */
  static final String TOKEN = "chaos-kube-token-3f9c2a71e4";

  private final KubernetesMockServer server;
  final KubernetesClient client;
  final Path kubeconfig;

  ChaosApiServer(Path dir) throws IOException {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    kubeconfig = Kubeconfigs.write(dir, client.getMasterUrl().toString(), TOKEN);
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
