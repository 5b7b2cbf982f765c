package io.github.standalonecinder.provisioner.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class CompactSerializationTest {
  private final KubernetesSerialization compact = CompactSerialization.create();

  private static PersistentVolumeClaim claim(String name, String note) {
    return new PersistentVolumeClaimBuilder().withNewMetadata().withName(name).withNamespace("team-a")
        .withUid(name + "-uid").addToAnnotations("volume.kubernetes.io/storage-provisioner",
            "openstack.org/standalone-cinder").addToAnnotations("note", note).endMetadata()
        .withNewSpec().withStorageClassName("cinder").withAccessModes("ReadWriteOnce")
        .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec()
        .withNewStatus().withPhase("Bound").endStatus().build();
  }

  @Test
  void repeatedValuesOfSeparatelyReadObjectsAreOneString() {
    String json = new KubernetesSerialization().asJson(claim("a", "x".repeat(200)));
    PersistentVolumeClaim one = compact.unmarshal(json);
    PersistentVolumeClaim two = compact.unmarshal(json.replace("\"a\"", "\"b\""));

    assertThat(two.getMetadata().getNamespace()).isSameAs(one.getMetadata().getNamespace());
    assertThat(two.getSpec().getStorageClassName()).isSameAs(one.getSpec().getStorageClassName());
    assertThat(two.getSpec().getAccessModes().get(0)).isSameAs(one.getSpec().getAccessModes().get(0));
    assertThat(two.getStatus().getPhase()).isSameAs(one.getStatus().getPhase());
    assertThat(two.getMetadata().getAnnotations().get("volume.kubernetes.io/storage-provisioner"))
        .isSameAs(one.getMetadata().getAnnotations().get("volume.kubernetes.io/storage-provisioner"));
    // Too long to be worth it: read as is.
    assertThat(two.getMetadata().getAnnotations().get("note")).isEqualTo(one.getMetadata().getAnnotations()
        .get("note")).isNotSameAs(one.getMetadata().getAnnotations().get("note"));
  }

  @Test
  void objectsReadTheSameAsWithTheDefaultSerialization() {
    PersistentVolumeClaim original = claim("c", "short");
    original.getMetadata().setManagedFields(java.util.List.of(new ManagedFieldsEntryBuilder()
        .withManager("kubectl").withOperation("Apply").build()));
    String json = new KubernetesSerialization().asJson(original);

    // By "kind", as the client reads watch events and lists: the Kubernetes type resolution still applies.
    Object read = compact.unmarshal(json);
    assertThat(read).isInstanceOf(PersistentVolumeClaim.class).isEqualTo(original);
    assertThat(compact.asJson(read)).isEqualTo(json);
  }

  @Test
  void watchEventsOfOurKindsReadAsTheirTypesOthersAsGenericResources() {
    String claimEvent = "{\"type\":\"ADDED\",\"object\":" + new KubernetesSerialization().asJson(claim("w", "n"))
        + "}";
    String otherEvent = "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        + "\"metadata\":{\"name\":\"d\"}}}";

    assertThat(compact.unmarshal(claimEvent, WatchEvent.class).getObject()).isInstanceOf(PersistentVolumeClaim.class);
    assertThat(compact.unmarshal(otherEvent, WatchEvent.class).getObject())
        .isInstanceOf(GenericKubernetesResource.class);
    for (var kind : CompactSerialization.KINDS) {
      assertThat(compact.getRegisteredKubernetesResource(HasMetadata.getApiVersion(kind), HasMetadata.getKind(kind)))
          .isEqualTo(kind);
    }
  }
}
