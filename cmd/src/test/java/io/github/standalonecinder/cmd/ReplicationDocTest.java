package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * docs/replication.md names only real flags of {@code run} and {@code remap}, only Event reasons and annotations the
 * code writes, and README links it.
 */
class ReplicationDocTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @org.junit.jupiter.api.Test
  void theGuideNamesRealFlagsReasonsAndAnnotations() throws Exception {
    String doc = Files.readString(ROOT.resolve("docs/replication.md"));
    Set<String> options = new HashSet<>();
    for (Object command : new Object[] {new RunCommand(), new RemapCommand()}) {
      options.addAll(new CommandLine(command).getCommandSpec().optionsMap().keySet());
    }
    Matcher flags = Pattern.compile("`(?:[a-z ]*?)(--[a-z-]+)").matcher(doc);
    int seen = 0;
    while (flags.find()) {
      assertThat(options).as("docs/replication.md names " + flags.group(1)).contains(flags.group(1));
      seen++;
    }
    assertThat(seen).isGreaterThanOrEqualTo(5);
    String code = Files.readString(ROOT.resolve(
        "provisioner/src/main/java/io/github/standalonecinder/provisioner/controller/FailoverRemapper.java"))
        + Files.readString(ROOT.resolve(
            "provisioner/src/main/java/io/github/standalonecinder/provisioner/controller/PvRemapper.java"))
        + Files.readString(ROOT.resolve(
            "provisioner/src/main/java/io/github/standalonecinder/provisioner/controller/RemapPlan.java"))
        + Files.readString(ROOT.resolve(
            "provisioner/src/main/java/io/github/standalonecinder/provisioner/controller/Annotations.java"));
    Matcher reasons = Pattern.compile("`(VolumeRemap\\w*)`").matcher(doc);
    while (reasons.find()) {
      assertThat(code).contains("\"" + reasons.group(1) + "\"");
    }
    Matcher annotations = Pattern.compile("(standalone-cinder\\.openstack\\.org/[a-z-]+)").matcher(doc);
    while (annotations.find()) {
      assertThat(code).contains("\"" + annotations.group(1) + "\"");
    }
    assertThat(Files.readString(ROOT.resolve("README.md"))).contains("(docs/replication.md)");
    assertThat(Files.readString(ROOT.resolve("docs/install.md"))).contains("(replication.md)");
  }
}
