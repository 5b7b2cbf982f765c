package io.github.standalonecinder.provisioner.metrics;

import static org.assertj.core.api.Assertions.assertThat;

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
        .contains("openstack_api_request_duration_seconds_bucket{outcome=\"success\",request=\"listVolumeTypes\","
            + "le=\"0.005\"}");
  }
}
