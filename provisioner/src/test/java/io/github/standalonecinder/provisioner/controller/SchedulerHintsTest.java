package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SchedulerHintsTest {
  private static final String ID_A = "11111111-2222-3333-4444-555555555555";
  private static final String ID_B = "66666666-7777-8888-9999-000000000000";

  private static CinderVolume volume(String id, String name, String status) {
    return new CinderVolume(id, name, status, 1, null, null, null, false, List.of(), null);
  }

  private static final Function<String, List<CinderVolume>> CINDER = name -> switch (name) {
    case "db-1" -> List.of(volume(ID_A, "db-1", "available"), volume("x", "db-1", "deleting"));
    case "twin" -> List.of(volume(ID_A, "twin", "in-use"), volume(ID_B, "twin", "available"));
    default -> List.of();
  };

  @Test
  void idsAndNamesBecomeSameHostAndDifferentHost() throws ProvisioningException {
    assertThat(SchedulerHints.of(Map.of(SchedulerHints.AFFINITY, "db-1", SchedulerHints.ANTI_AFFINITY,
        ID_B.toUpperCase() + ", "), CINDER)).containsExactly(Map.entry("same_host", List.of(ID_A)),
        Map.entry("different_host", List.of(ID_B)));
    assertThat(SchedulerHints.of(Map.of(SchedulerHints.CSI_ANTI_AFFINITY, ID_A), CINDER)).as("cinder-csi's names")
        .containsExactly(Map.entry("different_host", List.of(ID_A)));
    assertThat(SchedulerHints.of(Map.of("other", "x"), CINDER)).isEmpty();
    assertThat(SchedulerHints.of(null, CINDER)).isEmpty();
  }

  @Test
  void aNameMustNameExactlyOneVolumeAndAVolumeCannotBeBothSides() {
    assertThatThrownBy(() -> SchedulerHints.of(Map.of(SchedulerHints.AFFINITY, "nope"), CINDER))
        .isInstanceOf(ProvisioningException.class).hasMessageContaining("Cinder has no volume of that name")
        .matches(e -> ((ProvisioningException) e).permanent());
    assertThatThrownBy(() -> SchedulerHints.of(Map.of(SchedulerHints.AFFINITY, "twin"), CINDER))
        .hasMessageContaining("2 volumes have that name: give its id instead");
    assertThatThrownBy(() -> SchedulerHints.of(Map.of(SchedulerHints.AFFINITY, "db-1", SchedulerHints.ANTI_AFFINITY,
        ID_A), CINDER)).hasMessageContaining("both beside and away from Cinder volume " + ID_A);
  }
}
