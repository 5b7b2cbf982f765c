package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A minimal schema for the Prometheus Operator's monitoring.coreos.com/v1 PodMonitor (no Fabric8 model exists):
 * the fields the chart writes, no others, with their types, and a selector that matches the provisioner's pods.
 */
final class PodMonitorSchema {
  private static final Set<String> TOP = Set.of("apiVersion", "kind", "metadata", "spec");
  private static final Set<String> SPEC = Set.of("selector", "namespaceSelector", "podMetricsEndpoints", "jobLabel",
      "podTargetLabels", "sampleLimit");
  private static final Set<String> ENDPOINT = Set.of("port", "path", "interval", "scrapeTimeout", "scheme",
      "honorLabels", "relabelings", "metricRelabelings");
  private static final String DURATION = "[0-9]+(ms|s|m|h)";

  private PodMonitorSchema() {}

  @SuppressWarnings("unchecked")
  static void validate(Map<String, Object> monitor, Map<String, String> podLabels, String portName) {
    assertThat(monitor.keySet()).isSubsetOf(TOP);
    assertThat(monitor).containsEntry("apiVersion", "monitoring.coreos.com/v1").containsEntry("kind", "PodMonitor");
    Map<String, Object> metadata = (Map<String, Object>) monitor.get("metadata");
    assertThat((String) metadata.get("name")).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    assertThat(metadata.get("namespace")).isInstanceOf(String.class);
    Map<String, Object> spec = (Map<String, Object>) monitor.get("spec");
    assertThat(spec.keySet()).isSubsetOf(SPEC).contains("selector", "podMetricsEndpoints");
    Map<String, Object> selector = (Map<String, Object>) spec.get("selector");
    assertThat(selector.keySet()).containsExactly("matchLabels");
    Map<String, String> matchLabels = (Map<String, String>) selector.get("matchLabels");
    assertThat(matchLabels).isNotEmpty();
    assertThat(podLabels).containsAllEntriesOf(matchLabels);
    Map<String, Object> nsSelector = (Map<String, Object>) spec.get("namespaceSelector");
    assertThat((List<String>) nsSelector.get("matchNames")).containsExactly((String) metadata.get("namespace"));
    List<Map<String, Object>> endpoints = (List<Map<String, Object>>) spec.get("podMetricsEndpoints");
    assertThat(endpoints).singleElement().satisfies(e -> {
      assertThat(e.keySet()).isSubsetOf(ENDPOINT);
      assertThat(e).containsEntry("port", portName).containsEntry("path", "/metrics");
      assertThat((String) e.get("interval")).matches(DURATION);
      assertThat((String) e.get("scrapeTimeout")).matches(DURATION);
    });
  }
}
