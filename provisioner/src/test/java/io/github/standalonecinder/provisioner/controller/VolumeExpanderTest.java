package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VolumeExpanderTest {
  private static PersistentVolumeClaim claim(String request, String statusCapacity) {
    PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder().withNewMetadata().withName("c")
        .withNamespace("n").endMetadata().withNewSpec().withVolumeName("pvc-1").withNewResources()
        .addToRequests("storage", new Quantity(request)).endResources().endSpec();
    if (statusCapacity != null) {
      b.withNewStatus().withPhase("Bound").withCapacity(Map.of("storage", new Quantity(statusCapacity)))
          .endStatus();
    }
    return b.build();
  }

  @Test
  void aClaimAskingForMoreThanItsStatusSaysMayNeedAResize() {
    assertThat(VolumeExpander.mayNeed(claim("2Gi", "1Gi"))).isTrue();
    assertThat(VolumeExpander.mayNeed(claim("1Gi", "1Gi"))).isFalse();
  }

  @Test
  void aClaimWhoseStatusIsNotWrittenYetIsBeingBoundNotResized() {
    // kube-controller-manager has set the claim's volumeName and not yet its status: no resize, no
    // FileSystemResizeRequired for a claim just provisioned.
    assertThat(VolumeExpander.mayNeed(claim("1Gi", null))).isFalse();
  }
}
