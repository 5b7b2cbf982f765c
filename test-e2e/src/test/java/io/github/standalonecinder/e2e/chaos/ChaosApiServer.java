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

  private final KubernetesMockServer server;
  final KubernetesClient client;
  final Path kubeconfig;
  /** The UID of this cluster's kube-system namespace: the cluster id a provisioner derives from it. */
  final String kubeSystemUid = UUID.randomUUID().toString();

  ChaosApiServer(Path dir) throws IOException {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    server.expect().get().withPath("/api/v1/namespaces/kube-system").andReturn(200, new NamespaceBuilder()
        .withNewMetadata().withName("kube-system").withUid(kubeSystemUid).endMetadata().build()).always();
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
