package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.standalonecinder.e2e.bench.ControllerProcess;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The JVM flags are written in five places — the Dockerfile, the Jib image, the chart, the plain manifests and the
 * benchmark that measures them — and must say the same, or the numbers in docs/benchmarks.md describe another JVM.
 */
class ImageJvmFlagsTest {
  private static List<String> between(List<String> command, String first, String last) {
    int from = -1;
    for (int i = 0; i < command.size(); i++) {
      if (command.get(i).endsWith(first)) {
        from = i + 1;
        break;
      }
    }
    assertThat(from).as("%s in %s", first, command).isPositive();
    int to = command.indexOf(last);
    assertThat(to).as("%s in %s", last, command).isGreaterThan(from);
    return command.subList(from, to);
  }

  private static List<String> yamlList(String yaml, String key) {
    List<String> items = new ArrayList<>();
    boolean in = false;
    for (String line : yaml.lines().toList()) {
      if (line.strip().equals(key + ":")) {
        in = true;
      } else if (in && line.strip().startsWith("- ")) {
        items.add(line.strip().substring(2).replace("\"", ""));
      } else if (in && !line.isBlank() && !line.strip().startsWith("#")) {
        break;
      }
    }
    return items;
  }

  @Test
  void dockerfileJibChartManifestsAndBenchmarkRunTheSameJvm() throws Exception {
    List<String> expected = ControllerProcess.IMAGE_JVM_FLAGS;

    String dockerfile = Files.readString(ChartFixture.ROOT.resolve("Dockerfile"));
    Matcher entrypoint = Pattern.compile("ENTRYPOINT (\\[[^\\]]*\\])").matcher(dockerfile.replace("\\\n", " "));
    assertThat(entrypoint.find()).isTrue();
    List<String> docker = Arrays.asList(new ObjectMapper().readValue(entrypoint.group(1), String[].class));
    assertThat(between(docker, "java", "-jar")).as("Dockerfile ENTRYPOINT").isEqualTo(expected);

    String pom = Files.readString(ChartFixture.ROOT.resolve("cmd/pom.xml"));
    Matcher jib = Pattern.compile("<entrypoint>(.*?)</entrypoint>", Pattern.DOTALL).matcher(pom);
    assertThat(jib.find()).isTrue();
    List<String> jibArgs = Pattern.compile("<arg>(.*?)</arg>").matcher(jib.group(1)).results()
        .map(r -> r.group(1)).toList();
    assertThat(between(jibArgs, "/java", "-jar")).as("Jib entrypoint").isEqualTo(expected);

    assertThat(yamlList(Files.readString(ChartFixture.CHART.resolve("values.yaml")), "jvmOptions"))
        .as("chart jvmOptions").isEqualTo(expected);
    assertThat(between(yamlList(Files.readString(ChartFixture.ROOT.resolve("deploy/standalone-cinder.yaml")),
        "command"), "java", "-jar")).as("deploy/standalone-cinder.yaml command").isEqualTo(expected);

    ControllerProcess.IMAGE_ENV.forEach((name, value) -> {
      assertThat(dockerfile).as("Dockerfile ENV").contains("ENV " + name + "=" + value);
      assertThat(pom).as("Jib environment").contains("<" + name + ">" + value + "</" + name + ">");
    });
  }
}
