package io.github.standalonecinder.e2e.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** docs/troubleshooting.md has a section for every Event reason the provisioner writes; README links to it. */
class TroubleshootingGuideTest {
  /** {@code events.normal(x, "Reason", ...)}, {@code events.warning(...)}, and named reason constants. */
  private static final Pattern EVENT_CALL = Pattern.compile(
      "events\\.(?:normal|warning|defer)\\(\\s*\\w+,\\s*(?:EventRecorder\\.Type\\.\\w+,\\s*)?\"(\\w+)\"");
  private static final Pattern REASON_CONSTANT = Pattern.compile(
      "static final String [A-Z_]+ = \"([A-Z][A-Za-z]+)\";");

  @Test
  void everyEventReasonTheCodeWritesHasASection() throws Exception {
    Set<String> reasons = new TreeSet<>();
    Path main = Monitoring.ROOT.resolve("provisioner/src/main/java");
    try (Stream<Path> files = Files.walk(main)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String src = Files.readString(f);
        Matcher m = EVENT_CALL.matcher(src);
        while (m.find()) {
          reasons.add(m.group(1));
        }
        if (f.getFileName().toString().equals("ProvisionerEvents.java")) {
          Matcher c = REASON_CONSTANT.matcher(src);
          while (c.find()) {
            reasons.add(c.group(1));
          }
        }
      }
    }
    assertThat(reasons).contains("Provisioning", "ProvisioningSucceeded", "ProvisioningFailed",
        "ProvisioningCleanupFailed", "VolumeFailedDelete", "CloudConfigRefused");
    List<String> anchors = Monitoring.anchors(Files.readString(Monitoring.GUIDE));
    for (String reason : reasons) {
      assertThat(anchors).as("docs/troubleshooting.md has a section for Event reason " + reason)
          .contains(reason.toLowerCase());
    }
  }

  @Test
  void readmeAndInstallGuideLinkTheGuide() throws Exception {
    assertThat(Files.readString(Monitoring.ROOT.resolve("README.md"))).contains("(docs/troubleshooting.md)");
    assertThat(Files.readString(Monitoring.ROOT.resolve("docs/install.md"))).contains("(troubleshooting.md)");
  }
}
