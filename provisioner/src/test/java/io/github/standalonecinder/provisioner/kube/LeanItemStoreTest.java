package io.github.standalonecinder.provisioner.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeanItemStoreTest {
  @Test
  void keepsObjectsByNamespaceAndNameWithoutManagedFields() {
    LeanItemStore<PersistentVolumeClaim> store = new LeanItemStore<>();
    PersistentVolumeClaim claim = new PersistentVolumeClaimBuilder().withNewMetadata().withName("data")
        .withNamespace("team-a").addToFinalizers("example.com/keep").withManagedFields(new ManagedFieldsEntryBuilder()
            .withManager("kube-controller-manager").withOperation("Update").build()).endMetadata().build();

    store.put(store.getKey(claim), claim);

    PersistentVolumeClaim kept = store.get("team-a/data");
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getFinalizers()).isEqualTo(List.of("example.com/keep"));
    assertThat(store.keySet()).containsExactly("team-a/data");
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.remove("team-a/data")).isSameAs(kept);
    assertThat(store.values()).isEmpty();
  }
}
