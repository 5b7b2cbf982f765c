package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings.OrphanMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cluster id: given, or derived from the kube-system namespace's UID; and when delete mode may not start. */
@EnableKubernetesMockClient(crud = true)
class ClusterIdentityTest {
  static KubernetesClient client;

  static final String US = "11111111-2222-4333-8444-555555555555";

  @Test
  void clusterIdsAreGivenOrDerivedAndDeleteModeNeedsOneOfThisCluster() throws Exception {
    assertThat(ClusterIdentity.requested(null)).isEmpty();
    assertThat(ClusterIdentity.requested(" ")).isEmpty();
    assertThat(ClusterIdentity.requested("prod-1")).containsExactly("prod-1");
    assertThat(ClusterIdentity.derived(US)).containsExactly(US, "kubernetes");
    assertThat(ClusterIdentity.refusal("kubernetes", OrphanMode.DELETE)).get().asString()
        .startsWith("--orphan-mode delete needs a cluster id unique to this cluster");
    assertThat(ClusterIdentity.refusal("kubernetes", OrphanMode.REPORT)).isEmpty();
    assertThat(ClusterIdentity.refusal(null, OrphanMode.DELETE)).as("derived").isEmpty();
    assertThat(ClusterIdentity.refusal("prod-1", OrphanMode.DELETE)).isEmpty();

    ProvisionerSettings unresolved = ProvisionerSettings.defaults("kube-system", ControllerHarness.CONNECTOR)
        .withClusterIds(List.of());
    assertThatThrownBy(unresolved::clusterId).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ClusterIdentity.resolve(unresolved, client)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("namespace kube-system not found");
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata()
        .build()).create();
    try {
      String uid = client.namespaces().withName("kube-system").get().getMetadata().getUid();
      assertThat(ClusterIdentity.resolve(unresolved, client).clusterIds()).containsExactly(uid, "kubernetes");
      assertThat(ClusterIdentity.resolve(unresolved.withClusterIds(List.of("given")), client).clusterIds())
          .containsExactly("given");
    } finally {
      client.namespaces().withName("kube-system").delete();
    }
  }
}
