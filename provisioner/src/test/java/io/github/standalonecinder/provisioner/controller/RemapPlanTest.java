package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RemapPlanTest {
  static PersistentVolume pv(String mappedFor) {
    var b = new PersistentVolumeBuilder().withNewMetadata().withName("pvc-1")
        .addToAnnotations(Annotations.CINDER_VOLUME_ID, "vol-1").endMetadata()
        .withNewSpec().withNewClaimRef().withNamespace("ns").withName("data").withUid("1").endClaimRef().endSpec();
    if (mappedFor != null) {
      b.editMetadata().addToAnnotations(RemapPlan.MAPPED_FOR, mappedFor).endMetadata();
    }
    return b.build();
  }

  static PersistentVolumeClaim claim(Map<String, String> annotations) {
    return new PersistentVolumeClaimBuilder().withNewMetadata().withNamespace("ns").withName("data").withUid("1")
        .withAnnotations(annotations).endMetadata().withNewSpec().withVolumeName("pvc-1").endSpec().build();
  }

  static CinderVolume volume(String replicationStatus) {
    return new CinderVolume("vol-1", "pvc-1", "in-use", 1, "t", "nova", Map.of(), false, List.of(), null,
        replicationStatus);
  }

  static List<RemapPlan.Decision> decide(PersistentVolume pv, PersistentVolumeClaim claim, CinderVolume v,
      boolean inUse, boolean includeInUse) {
    return RemapPlan.decide(List.of(new RemapPlan.Candidate(pv, claim, v, inUse)), includeInUse);
  }

  @Test
  void onlyReplicatedSettledVolumesInAnotherStateThanTheirPvAreAffected() {
    for (String notReplicated : new String[] {null, "disabled", "not-capable"}) {
      assertThat(decide(pv(null), claim(Map.of()), volume(notReplicated), false, false)).isEmpty();
    }
    assertThat(decide(pv(null), claim(Map.of()), volume("failing-over"), false, false)).as("not settled").isEmpty();
    assertThat(decide(pv(null), claim(Map.of()), volume("enabled"), false, false)).as("unstamped = primary")
        .isEmpty();
    assertThat(decide(pv("failed-over"), claim(Map.of()), volume("failed-over"), false, false)).isEmpty();
    assertThat(decide(pv(null), claim(Map.of()), null, false, false)).as("volume gone").isEmpty();
    List<RemapPlan.Decision> d = decide(pv(null), claim(Map.of()), volume("failed-over"), false, false);
    assertThat(d).singleElement().satisfies(x -> {
      assertThat(x.action()).isEqualTo(RemapPlan.Action.REMAP);
      assertThat(x.from()).isEqualTo("enabled");
      assertThat(x.to()).isEqualTo("failed-over");
      assertThat(x.reason()).contains("vol-1").contains("failed-over");
    });
    assertThat(decide(pv("failed-over"), claim(Map.of()), volume("enabled"), false, false)).as("failback")
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.REMAP);
  }

  @Test
  void inUseWaitsUnlessTheAdminAsks() {
    assertThat(decide(pv(null), claim(Map.of()), volume("failed-over"), true, false))
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.WAIT_IN_USE);
    assertThat(decide(pv(null), claim(Map.of(RemapPlan.REMAP_NOW, "now")), volume("failed-over"), true, false))
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.REMAP);
    assertThat(decide(pv(null), claim(Map.of(RemapPlan.REMAP_NOW, "later")), volume("failed-over"), true, false))
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.WAIT_IN_USE);
    assertThat(decide(pv(null), claim(Map.of()), volume("failed-over"), true, true))
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.REMAP);
  }

  @Test
  void anInterruptedSwapIsResumedAndADeletedClaimIsLeftAlone() {
    assertThat(decide(null, claim(Map.of(RemapPlan.JOURNAL, "{}")), null, true, false))
        .extracting(RemapPlan.Decision::action, RemapPlan.Decision::pvName)
        .containsExactly(org.assertj.core.api.Assertions.tuple(RemapPlan.Action.RESUME, "pvc-1"));
    PersistentVolume marked = new PersistentVolumeBuilder(pv(null)).editMetadata()
        .addToAnnotations(RemapPlan.RECLAIM_WAS, "Delete").endMetadata().build();
    assertThat(decide(marked, claim(Map.of()), volume("enabled"), true, false))
        .extracting(RemapPlan.Decision::action).containsExactly(RemapPlan.Action.RESUME);
    PersistentVolumeClaim deleting = new PersistentVolumeClaimBuilder(claim(Map.of())).editMetadata()
        .withDeletionTimestamp("2026-12-07T12:00:00Z").endMetadata().build();
    assertThat(decide(pv(null), deleting, volume("failed-over"), false, false)).isEmpty();
    assertThat(decide(pv(null), null, volume("failed-over"), false, false)).isEmpty();
  }
}
