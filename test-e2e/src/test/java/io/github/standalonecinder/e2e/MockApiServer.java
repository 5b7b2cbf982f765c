package io.github.standalonecinder.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HashMap;

/**
 * The Fabric8 CRUD mock API server on loopback, reachable from other processes through a kubeconfig: the stand-in
 * for kube-apiserver (none can be had on this machine). Like a real cluster it has a {@code kube-system} namespace,
 * whose UID is the provisioner's default cluster id.
 */
final class MockApiServer implements AutoCloseable {
  private final KubernetesMockServer server;
  final KubernetesClient client;
  final Path kubeconfig;

  MockApiServer(Path dir) throws IOException {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata()
        .build()).create();
    kubeconfig = Kubeconfigs.write(dir, client.getMasterUrl().toString(), "not-checked");
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
