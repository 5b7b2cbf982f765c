package io.github.standalonecinder.provisioner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scrape has {@code _bucket} series for every duration, so {@code histogram_quantile} works on them. */
class HistogramScrapeTest {
  @Test
  void durationsAreHistogramsWithBuckets() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ControllerMetrics metrics = new ControllerMetrics(registry);
    metrics.provisioned("fast", Duration.ofMillis(700));
    metrics.deleted("fast", Duration.ofSeconds(40));
    CinderGateway fake = (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (p, m, a) -> m.getReturnType() == List.class ? List.of() : null);
    MeteredCinderGateway.wrap(fake, registry).listVolumeTypes();
    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("# TYPE controller_persistentvolumeclaim_provision_duration_seconds histogram")
        .contains("controller_persistentvolumeclaim_provision_duration_seconds_bucket{class=\"fast\",le=\"0.5\"} 0")
        .contains("controller_persistentvolumeclaim_provision_duration_seconds_bucket{class=\"fast\",le=\"1.0\"} 1")
        .contains("controller_persistentvolumeclaim_provision_duration_seconds_bucket{class=\"fast\",le=\"+Inf\"} 1")
        .contains("controller_persistentvolumeclaim_provision_duration_seconds_count{class=\"fast\"} 1")
        .contains("# TYPE controller_persistentvolume_delete_duration_seconds histogram")
        .contains("controller_persistentvolume_delete_duration_seconds_bucket{class=\"fast\",le=\"30.0\"} 0")
        .contains("controller_persistentvolume_delete_duration_seconds_bucket{class=\"fast\",le=\"60.0\"} 1")
        .contains("# TYPE openstack_api_request_duration_seconds histogram")
        .contains("openstack_api_request_duration_seconds_bucket{cloud=\"default\",outcome=\"success\",request=\"listVolumeTypes\","
            + "le=\"0.005\"}");
  }

  @Test
  void gaugesForTheDashboardAreScraped() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ControllerMetrics metrics = new ControllerMetrics(registry);
    java.util.concurrent.atomic.AtomicBoolean leading = new java.util.concurrent.atomic.AtomicBoolean();
    ControllerMetrics.leader(registry, leading::get);
    metrics.workQueueDepth(() -> 7);
    java.time.Instant now = java.time.Instant.parse("2024-01-01T00:10:00Z");
    List<java.time.Instant> failing = new java.util.ArrayList<>(List.of(now.minusSeconds(90), now.minusSeconds(30)));
    metrics.failingClaims(() -> failing, java.time.Clock.fixed(now, java.time.ZoneOffset.UTC));
    assertThat(registry.scrape()).contains("standalone_cinder_volumes_stuck_total 0.0");
    metrics.volumeStuck();
    metrics.volumeStuck();
    assertThat(registry.scrape())
        .contains("standalone_cinder_leader 0.0")
        .contains("standalone_cinder_work_queue_depth 7.0")
        .contains("standalone_cinder_claims_failing 2.0")
        .contains("standalone_cinder_claims_failing_oldest_seconds 90.0")
        .contains("standalone_cinder_volumes_stuck_total 2.0");
    leading.set(true);
    failing.clear();
    assertThat(registry.scrape())
        .contains("standalone_cinder_leader 1.0")
        .contains("standalone_cinder_claims_failing 0.0")
        .contains("standalone_cinder_claims_failing_oldest_seconds 0.0");
  }

  @Test
  void cinderCallsUnderWayAreCounted() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String[] during = new String[1];
    CinderGateway fake = (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (p, m, a) -> {
          during[0] = registry.scrape();
          return m.getReturnType() == List.class ? List.of() : null;
        });
    MeteredCinderGateway.wrap(fake, registry).listVolumeTypes();
    assertThat(during[0]).contains("openstack_api_requests_in_flight{cloud=\"default\"} 1.0");
    assertThat(registry.scrape()).contains("openstack_api_requests_in_flight{cloud=\"default\"} 0.0");
  }

  @Test
  void cinderFailuresAreCountedByClassificationFromZero() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CinderException.Kind[] next = {CinderException.Kind.QUOTA_EXCEEDED};
    CinderGateway fake = (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (p, m, a) -> {
          throw next[0] == null ? new IllegalStateException("boom")
              : new CinderException(next[0], 413, "refused", null, null);
        });
    CinderGateway metered = MeteredCinderGateway.wrap(fake, registry);
    String before = registry.scrape();
    for (String[] c : new String[][] {{"quota", "quota_exceeded"}, {"rate-limit", "rate_limited"},
        {"retryable", "server_error"}, {"retryable", "unreachable"}, {"retryable", "unauthorized"},
        {"permanent", "bad_request"}, {"permanent", "forbidden"}, {"permanent", "protocol"},
        {"permanent", "error"}}) {
      assertThat(before).contains("standalone_cinder_cinder_failures_total{classification=\"" + c[0]
          + "\",cloud=\"default\",outcome=\"" + c[1] + "\"} 0.0");
    }
    assertThat(before).doesNotContain("outcome=\"not_found\"").doesNotContain("outcome=\"conflict\"");
    for (CinderException.Kind k : new CinderException.Kind[] {CinderException.Kind.QUOTA_EXCEEDED,
        CinderException.Kind.QUOTA_EXCEEDED, CinderException.Kind.NOT_FOUND, null}) {
      next[0] = k;
      org.assertj.core.api.Assertions.assertThatThrownBy(metered::listVolumeTypes);
    }
    assertThat(registry.scrape())
        .contains("standalone_cinder_cinder_failures_total{classification=\"quota\",cloud=\"default\",outcome=\"quota_exceeded\"} 2.0")
        .contains("standalone_cinder_cinder_failures_total{classification=\"permanent\",cloud=\"default\",outcome=\"error\"} 1.0")
        .doesNotContain("standalone_cinder_cinder_failures_total{classification=\"\"")
        .contains("openstack_api_request_duration_seconds_count{cloud=\"default\",outcome=\"not_found\",request=\"listVolumeTypes\"} 1");
  }
}
