package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.github.standalonecinder.provisioner.controller.ClearWhenBound.State;
import io.github.standalonecinder.provisioner.controller.ClearWhenBound.Step;
import org.junit.jupiter.api.Test;

class ClearWhenBoundTest {
  private static PersistentVolumeClaim claim(String volumeName, String phase) {
    var b = new PersistentVolumeClaimBuilder().withNewMetadata().withName("c").withUid("u1").endMetadata()
        .withNewSpec().withVolumeName(volumeName).endSpec();
    return phase == null ? b.build() : b.withNewStatus().withPhase(phase).endStatus().build();
  }

  @Test
  void savedHereWaitsForBothOfTheBinderWritesThenClears() {
    assertThat(ClearWhenBound.step(State.SAVED, claim(null, "Pending"))).as("PV saved, claim not bound yet")
        .isEqualTo(Step.WAIT);
    assertThat(ClearWhenBound.step(State.SAVED, claim("pvc-1", null))).isEqualTo(Step.WAIT);
    assertThat(ClearWhenBound.step(State.SAVED, claim("pvc-1", "Pending"))).as("volumeName written, status next")
        .isEqualTo(Step.WAIT);
    assertThat(ClearWhenBound.step(State.SAVED, claim("pvc-1", "Bound"))).isEqualTo(Step.CLEAR);
    assertThat(ClearWhenBound.step(State.SAVED, claim("pvc-1", "Lost"))).as("never waits past Pending")
        .isEqualTo(Step.CLEAR);
  }

  @Test
  void notSavedHereIsTheFullFinishAndACopyFromBeforeOurClearWaits() {
    assertThat(ClearWhenBound.step(null, claim("pvc-1", "Bound"))).isEqualTo(Step.FINISH);
    assertThat(ClearWhenBound.step(null, claim(null, "Pending"))).isEqualTo(Step.FINISH);
    assertThat(ClearWhenBound.step(State.CLEARED, claim("pvc-1", "Bound"))).isEqualTo(Step.WAIT);
  }

  @Test
  void theMarksFollowTheClaim() {
    ClearWhenBound marks = new ClearWhenBound();
    PersistentVolumeClaim bound = claim("pvc-1", "Bound");
    assertThat(marks.step(bound)).isEqualTo(Step.FINISH);
    marks.saved("u1");
    assertThat(marks.step(bound)).isEqualTo(Step.CLEAR);
    marks.cleared("u1");
    assertThat(marks.step(bound)).isEqualTo(Step.WAIT);
    marks.forget("u1");
    assertThat(marks.step(bound)).isEqualTo(Step.FINISH);
  }
}
