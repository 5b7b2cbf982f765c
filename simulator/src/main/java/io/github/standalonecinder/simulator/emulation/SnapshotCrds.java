package io.github.standalonecinder.simulator.emulation;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The three snapshot.storage.k8s.io/v1 CustomResourceDefinitions, reduced to their names, for API servers that have
 * none: POSTed to the Fabric8 CRUD mock they make it list the group in discovery, which is how the provisioner
 * decides whether snapshots are on. A real cluster installs the full CRDs of kubernetes-csi/external-snapshotter.
 */
public final class SnapshotCrds {
  private SnapshotCrds() {}

  public static void install(KubernetesClient kube) {
    crd(kube, "VolumeSnapshot", "volumesnapshots", "Namespaced");
    crd(kube, "VolumeSnapshotContent", "volumesnapshotcontents", "Cluster");
    crd(kube, "VolumeSnapshotClass", "volumesnapshotclasses", "Cluster");
  }

  private static void crd(KubernetesClient kube, String kind, String plural, String scope) {
    CustomResourceDefinition crd = new CustomResourceDefinitionBuilder()
        .withNewMetadata().withName(plural + ".snapshot.storage.k8s.io").endMetadata()
        .withNewSpec().withGroup("snapshot.storage.k8s.io").withScope(scope)
          .withNewNames().withKind(kind).withPlural(plural).withSingular(kind.toLowerCase()).endNames()
          .addNewVersion().withName("v1").withServed(true).withStorage(true)
            .withNewSubresources().withNewStatus().endStatus().endSubresources()
            .withNewSchema().withNewOpenAPIV3Schema().withType("object")
              .withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema()
          .endVersion()
        .endSpec().build();
    kube.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(existing -> existing.update());
  }
}
