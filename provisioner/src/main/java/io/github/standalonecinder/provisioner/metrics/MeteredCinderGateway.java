package io.github.standalonecinder.provisioner.metrics;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wraps a {@link CinderGateway} so every call is timed as
 * {@code openstack_api_request_duration_seconds{request=<method>, outcome=success|<error kind>}},
 * and counts the calls under way as {@code openstack_api_requests_in_flight}.
 * A proxy keeps the wrapper in step with the interface as it grows. A histogram, as cloud-provider-openstack's
 * metric of that name: Prometheus' default buckets (5 ms to 10 s), then 30 s and 1 min (the default read timeout).
 */
public final class MeteredCinderGateway {
  static final java.time.Duration[] REQUEST_BUCKETS = ControllerMetrics.seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1, 2.5, 5, 10, 30, 60);

  private MeteredCinderGateway() {}

  public static CinderGateway wrap(CinderGateway delegate, MeterRegistry registry) {
    AtomicInteger inFlight = new AtomicInteger();
    Gauge.builder("openstack_api_requests_in_flight", inFlight::get)
        .description("Cinder API calls under way").register(registry);
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
        outcome = cause instanceof CinderException ce ? ce.kind().name().toLowerCase() : "error";
        throw cause;
      } finally {
        inFlight.decrementAndGet();
        Timer.builder("openstack_api_request_duration")
            .description("Cinder API calls made by the provisioner")
            .tag("request", method.getName()).tag("outcome", outcome)
            .serviceLevelObjectives(REQUEST_BUCKETS)
            .register(registry).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }
}
