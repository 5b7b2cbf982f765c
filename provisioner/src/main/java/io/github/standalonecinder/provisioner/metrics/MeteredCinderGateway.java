package io.github.standalonecinder.provisioner.metrics;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wraps a {@link CinderGateway} so every call is timed as
 * {@code openstack_api_request_duration_seconds{request=<method>, outcome=success|<error kind>}},
 * counts the calls under way as {@code openstack_api_requests_in_flight}, and the failed ones by what the
 * provisioner does about them as {@code standalone_cinder_cinder_failures_total{classification, outcome}}
 * ({@link #classification}).
 * A proxy keeps the wrapper in step with the interface as it grows. A histogram, as cloud-provider-openstack's
 * metric of that name: Prometheus' default buckets (5 ms to 10 s), then 30 s and 1 min (the default read timeout).
 */
public final class MeteredCinderGateway {
  static final java.time.Duration[] REQUEST_BUCKETS = ControllerMetrics.seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1, 2.5, 5, 10, 30, 60);

  private MeteredCinderGateway() {}

  /**
   * What a failure means for the provisioner: {@code quota} and {@code rate-limit} (retried; Cinder said so),
   * {@code retryable} (5xx, unreachable, 401 after re-authenticating: retried with backoff), {@code permanent}
   * (the same call would get the same answer: 400, 403, an answer not understood, an unexpected error). A 404 or
   * 409 is an answer the provisioner acts on ("already gone", "not in that state yet"), not a failure: empty.
   */
  static String classification(CinderException.Kind kind) {
    if (kind == null) {
      return "permanent";
    }
    return switch (kind) {
      case NOT_FOUND, CONFLICT -> "";
      case QUOTA_EXCEEDED -> "quota";
      case RATE_LIMITED -> "rate-limit";
      case UNAUTHORIZED, SERVER_ERROR, UNREACHABLE -> "retryable";
      case BAD_REQUEST, FORBIDDEN, PROTOCOL -> "permanent";
    };
  }

  private static String outcome(CinderException.Kind kind) {
    return kind == null ? "error" : kind.name().toLowerCase();
  }

  /** As {@link #wrap(CinderGateway, MeterRegistry, String)} for the default cloud. */
  public static CinderGateway wrap(CinderGateway delegate, MeterRegistry registry) {
    return wrap(delegate, registry, "default");
  }

  /** Every series carries {@code cloud}: the cloud of {@code delegate} (one of several, or "default"). */
  public static CinderGateway wrap(CinderGateway delegate, MeterRegistry registry, String cloud) {
    AtomicInteger inFlight = new AtomicInteger();
    Gauge.builder("openstack_api_requests_in_flight", inFlight::get).tag("cloud", cloud)
        .description("Cinder API calls under way").register(registry);
    // Every failure series up front at 0: a counter first seen at 1 shows no increase to Prometheus' increase().
    Map<String, Counter> failures = new HashMap<>();
    java.util.List<CinderException.Kind> kinds = new java.util.ArrayList<>(java.util.List.of(
        CinderException.Kind.values()));
    kinds.add(null); // not a CinderException: "error"
    for (CinderException.Kind kind : kinds) {
      if (!classification(kind).isEmpty()) {
        failures.put(outcome(kind), Counter.builder("standalone_cinder_cinder_failures")
            .description("Failed Cinder API calls, by what the provisioner does about them")
            .tag("cloud", cloud).tag("classification", classification(kind)).tag("outcome", outcome(kind)).register(registry));
      }
    }
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      long start = System.nanoTime();
      String outcome = "success";
      inFlight.incrementAndGet();
      try {
        return method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        CinderException.Kind kind = cause instanceof CinderException ce ? ce.kind() : null;
        outcome = outcome(kind);
        Counter failed = failures.get(outcome);
        if (failed != null) {
          failed.increment();
        }
        throw cause;
      } finally {
        inFlight.decrementAndGet();
        Timer.builder("openstack_api_request_duration")
            .description("Cinder API calls made by the provisioner")
            .tag("cloud", cloud).tag("request", method.getName()).tag("outcome", outcome)
            .serviceLevelObjectives(REQUEST_BUCKETS)
            .register(registry).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }
}
