package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.controller.VolumeRemoval.Step;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VolumeRemovalTest {
  private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

  private static CinderVolume volume(String status, Instant created) {
    return new CinderVolume("v", "pvc-1", status, 1, null, null, null, false, List.of(), created);
  }

  @ParameterizedTest(name = "{0}, {1} s old, stuck after {2} s: {3}")
  @CsvSource({
      "available, 10, 300, DELETE",
      "error, 10, 300, DELETE",
      "error_extending, 10, 300, DELETE",
      "error_deleting, 10, 300, FORCE_DELETE",
      "deleting, 1000, 300, NOTHING",
      "creating, 10, 300, WAIT",
      "downloading, 10, 300, WAIT",
      "creating, 301, 300, FORCE_DELETE",
      "downloading, 301, 300, FORCE_DELETE",
      "creating, 1, 0, FORCE_DELETE",
  })
  void theStatusSaysHowAVolumeIsDeleted(String status, long ageSeconds, long stuckAfter, Step expected) {
    assertThat(VolumeRemoval.step(volume(status, NOW.minusSeconds(ageSeconds)), NOW,
        Duration.ofSeconds(stuckAfter))).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"300, WAIT", "0, FORCE_DELETE"})
  void aCreatingVolumeWithoutACreationTimeIsStuckOnlyWhenTheCallerKnowsIt(long stuckAfter, Step expected) {
    assertThat(VolumeRemoval.step(volume("creating", null), NOW, Duration.ofSeconds(stuckAfter)))
        .isEqualTo(expected);
  }
}
