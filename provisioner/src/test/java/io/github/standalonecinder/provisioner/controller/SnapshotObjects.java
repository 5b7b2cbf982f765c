package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** The snapshot API's objects in a mock API server that outlives a test: removed, finalizers and all. */
final class SnapshotObjects {
  private SnapshotObjects() {}

  static void wipe(KubernetesClient client) {
    for (var ctx : List.of(SnapshotApi.SNAPSHOTS, SnapshotApi.CONTENTS, SnapshotApi.CLASSES)) {
      var all = ctx.isNamespaceScoped() ? client.genericKubernetesResources(ctx).inAnyNamespace().list()
          : client.genericKubernetesResources(ctx).list();
      for (GenericKubernetesResource r : all.getItems()) {
        var api = ctx.isNamespaceScoped()
            ? client.genericKubernetesResources(ctx).inNamespace(r.getMetadata().getNamespace())
            : client.genericKubernetesResources(ctx);
        api.withName(r.getMetadata().getName()).edit(x -> {
          x.getMetadata().setFinalizers(List.of());
          return x;
        });
        api.withName(r.getMetadata().getName()).delete();
      }
    }
  }
}
