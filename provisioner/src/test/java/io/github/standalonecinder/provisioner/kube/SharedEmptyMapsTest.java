package io.github.standalonecinder.provisioner.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class SharedEmptyMapsTest {
  private static PersistentVolume pv() {
    return new PersistentVolumeBuilder().withNewMetadata().withName("pvc-1").addToAnnotations("a", "b").endMetadata()
        .withNewSpec().addToCapacity("storage", new Quantity("1Gi")).withAccessModes("ReadWriteOnce")
        .withNewIscsi().withTargetPortal("192.0.2.10:3260").withIqn("iqn.x").withLun(0).withNewSecretRef()
        .withName("pvc-1-chap").endSecretRef().endIscsi().withNewClaimRef().withName("data").endClaimRef().endSpec()
        .withNewStatus().withPhase("Bound").endStatus().build();
  }

  @Test
  void everyEmptyMapUnderTheRootBecomesOneSharedMapAndTheObjectReadsTheSame() {
    KubernetesSerialization json = new KubernetesSerialization();
    PersistentVolume pv = pv();
    pv.getSpec().getClaimRef().setAdditionalProperty("unknownField", "kept");
    String before = json.asJson(pv);

    SharedEmptyMaps.share(pv);

    var shared = pv.getAdditionalProperties();
    assertThat(shared).isEmpty();
    assertThat(pv.getMetadata().getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getSpec().getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getSpec().getIscsi().getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getSpec().getIscsi().getSecretRef().getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getSpec().getCapacity().get("storage").getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getStatus().getAdditionalProperties()).isSameAs(shared);
    assertThat(pv.getSpec().getClaimRef().getAdditionalProperties()).containsEntry("unknownField", "kept");
    assertThat(json.asJson(pv)).isEqualTo(before);
    assertThat(pv).isEqualTo(json.unmarshal(before, PersistentVolume.class));
  }

  @Test
  void copiesMadeFromASharedObjectGetTheirOwnMaps() {
    PersistentVolume cached = pv();
    SharedEmptyMaps.share(cached);

    PersistentVolume copy = new PersistentVolumeBuilder(cached).editMetadata().addToLabels("x", "y").endMetadata()
        .build();
    copy.getMetadata().setAdditionalProperty("new", "field");
    copy.getSpec().getIscsi().setAdditionalProperty("new", "field");

    assertThat(cached.getMetadata().getAdditionalProperties()).isEmpty();
    assertThat(cached.getSpec().getIscsi().getAdditionalProperties()).isEmpty();
    assertThat(copy.getMetadata().getLabels()).containsEntry("x", "y");
  }
}
