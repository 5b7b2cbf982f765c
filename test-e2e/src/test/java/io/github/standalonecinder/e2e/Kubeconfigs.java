package io.github.standalonecinder.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A kubeconfig pointing another process (the provisioner jar) at a mock API server of the test JVM. */
public final class Kubeconfigs {
  private Kubeconfigs() {}

  public static Path write(Path dir, String serverUrl, String token) throws IOException {
    Files.createDirectories(dir);
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster:
            server: %s
        users:
        - name: mock
          user:
            token: %s
        contexts:
        - name: mock
          context:
            cluster: mock
            user: mock
            namespace: default
        current-context: mock
        """.formatted(serverUrl.replaceAll("/$", ""), token));
    return kubeconfig;
  }
}
