package io.github.standalonecinder.mappers;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden YAML files under src/test/resources/golden/. To regenerate after an intended change, run
 * {@code mvn -B -pl mappers test -Dgolden.update=true} and review the diff before committing.
 */
final class Golden {
  /** Surefire runs in the module directory. */
  static final Path DIR = Path.of("src", "test", "resources", "golden");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  private Golden() {
  }

  static void assertMatches(String name, Object produced) {
    String yaml = Serialization.asYaml(produced);
    Path file = DIR.resolve(name + ".yaml");
    try {
      if (UPDATE) {
        Files.createDirectories(DIR);
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return;
      }
      assertThat(file).as("golden file %s (create it with -Dgolden.update=true)", file).exists();
      assertThat(yaml).as("YAML for %s differs from %s", name, file)
          .isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
