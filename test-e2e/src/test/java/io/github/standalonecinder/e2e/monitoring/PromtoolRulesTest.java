package io.github.standalonecinder.e2e.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.metrics.MeteredCinderGateway;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The alert rules under deploy/monitoring/ checked and unit-tested by Debian's promtool
 * ({@code test-e2e/src/test/resources/monitoring/alerts-test.yaml}: for every alert a case where it fires and one
 * where it stays quiet), and what every alert must carry: a severity, a summary, a description and a runbook_url
 * into docs/troubleshooting.md whose anchor exists. Skips, saying so, where promtool is not installed.
 */
class PromtoolRulesTest {
  static final Path UNIT_TESTS = Monitoring.ROOT.resolve("test-e2e/src/test/resources/monitoring/alerts-test.yaml");
  static final String RUNBOOK = "https://github.com/standalone-cinder/standalone-cinder/blob/main/docs/"
      + "troubleshooting.md#";

  private static Path promtool() {
    var p = Monitoring.tool("promtool");
    if (p.isEmpty()) {
      System.out.println("PromtoolRulesTest: " + Monitoring.missing("promtool"));
    }
    Assumptions.assumeTrue(p.isPresent(), Monitoring.missing("promtool"));
    return p.get();
  }

  @Test
  void promtoolChecksEveryRuleFile() throws Exception {
    Path promtool = promtool();
    List<String> cmd = new ArrayList<>(List.of(promtool.toString(), "check", "rules"));
    try (var files = Files.list(Monitoring.DIR)) {
      files.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(f -> cmd.add(f.toString()));
    }
    assertThat(cmd).hasSizeGreaterThan(3);
    Monitoring.Run r = Monitoring.run(Monitoring.ROOT, cmd);
    System.out.print(r.output());
    assertThat(r.exitCode()).as(r.output()).isZero();
    int alerts = Monitoring.alerts(Files.readString(Monitoring.RULES)).size();
    assertThat(r.output()).contains("SUCCESS: " + alerts + " rules found");
  }

  @Test
  void promtoolUnitTestsPass() throws Exception {
    Path promtool = promtool();
    Monitoring.Run r = Monitoring.run(UNIT_TESTS.getParent(), List.of(promtool.toString(), "test", "rules",
        UNIT_TESTS.getFileName().toString()));
    System.out.print(r.output());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyAlertFiresAndStaysQuietInTheUnitTests() throws Exception {
    Map<String, Object> tests = Monitoring.SERIALIZATION.unmarshal(Files.readString(UNIT_TESTS), Map.class);
    Set<String> fired = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (Map<String, Object> t : (List<Map<String, Object>>) tests.get("tests")) {
      for (Map<String, Object> a : (List<Map<String, Object>>) t.get("alert_rule_test")) {
        (((List<?>) a.get("exp_alerts")).isEmpty() ? quiet : fired).add((String) a.get("alertname"));
      }
    }
    List<String> names = Monitoring.alerts(Files.readString(Monitoring.RULES)).stream()
        .map(a -> (String) a.get("alert")).toList();
    assertThat(names).doesNotHaveDuplicates().hasSizeGreaterThanOrEqualTo(9);
    assertThat(fired).as("alerts with a firing case").containsAll(names);
    assertThat(quiet).as("alerts with a quiet case").containsAll(names);
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyAlertHasSeveritySummaryDescriptionAndARunbookThatExists() throws Exception {
    List<String> anchors = Monitoring.anchors(Files.readString(Monitoring.GUIDE));
    for (Map<String, Object> alert : Monitoring.alerts(Files.readString(Monitoring.RULES))) {
      String name = (String) alert.get("alert");
      Map<String, String> labels = (Map<String, String>) alert.get("labels");
      Map<String, String> annotations = (Map<String, String>) alert.get("annotations");
      assertThat(labels).as(name).containsKey("severity");
      assertThat(labels.get("severity")).as(name).isIn("critical", "warning", "info");
      assertThat(annotations).as(name).containsKeys("summary", "description", "runbook_url");
      assertThat(annotations.get("runbook_url")).as(name).isEqualTo(RUNBOOK + name.toLowerCase());
      assertThat(anchors).as("docs/troubleshooting.md has a heading for " + name).contains(name.toLowerCase());
    }
  }

  /** The classifications the provisioner counts Cinder failures under, each covered by an alert. */
  @Test
  void everyCinderFailureClassificationHasAnAlert() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MeteredCinderGateway.wrap((CinderGateway) java.lang.reflect.Proxy.newProxyInstance(
        CinderGateway.class.getClassLoader(), new Class<?>[] {CinderGateway.class}, (p, m, a) -> null), registry);
    Set<String> emitted = new TreeSet<>();
    Matcher m = Pattern.compile("standalone_cinder_cinder_failures_total\\{classification=\"([a-z-]+)\"")
        .matcher(registry.scrape());
    while (m.find()) {
      emitted.add(m.group(1));
    }
    assertThat(emitted).containsExactlyInAnyOrder("permanent", "quota", "rate-limit", "retryable");
    Set<String> alerted = new TreeSet<>();
    Matcher r = Pattern.compile("standalone_cinder_cinder_failures_total\\{classification=\"([a-z-]+)\"}")
        .matcher(Files.readString(Monitoring.RULES));
    while (r.find()) {
      alerted.add(r.group(1));
    }
    assertThat(alerted).isEqualTo(emitted);
  }
}
