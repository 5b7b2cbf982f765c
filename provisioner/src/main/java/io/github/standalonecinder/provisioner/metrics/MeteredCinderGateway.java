package io.github.standalonecinder.provisioner.metrics;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * Wraps a {@link CinderGateway} so every call is timed as
 * {@code openstack_api_request_duration_seconds{request=<method>, outcome=success|<error kind>}}.
 * A proxy keeps the wrapper in step with the interface as it grows.
 */
public final class MeteredCinderGateway {
  private MeteredCinderGateway() {}

  public static CinderGateway wrap(CinderGateway delegate, MeterRegistry registry) {
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(delegate, args);
      }
      long start = System.nanoTime();
      String outcome = "success";
      try {
        return method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        outcome = cause instanceof CinderException ce ? ce.kind().name().toLowerCase() : "error";
        throw cause;
      } finally {
        Timer.builder("openstack_api_request_duration")
            .description("Cinder API calls made by the provisioner")
            .tag("request", method.getName()).tag("outcome", outcome)
            .register(registry).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }
}
