package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class CinderTimestampTest {
  @ParameterizedTest
  @CsvSource({
      "2026-11-23T10:00:00.000000, 2026-11-23T10:00:00Z",
      "2026-11-23T10:00:00, 2026-11-23T10:00:00Z",
      "2026-11-23T10:00:00.5Z, 2026-11-23T10:00:00.5Z",
      "2026-11-23T10:00:00+01:00, 2026-11-23T09:00:00Z",
      "2026-11-23T10:00:00.000000-05:00, 2026-11-23T15:00:00Z"})
  void readsCinderTimesWithAndWithoutAnOffset(String text, String expected) {
    assertThat(OpenStackCinderGateway.instant(text)).isEqualTo(Instant.parse(expected));
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"yesterday", "2026-11-23", "2026-11-23T25:00:00", "2026-11-23T10:00:00+99:00"})
  void unreadableTimesAreUnknown(String text) {
    assertThat(OpenStackCinderGateway.instant(text)).isNull();
  }
}
