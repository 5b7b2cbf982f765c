package io.github.standalonecinder.provisioner.metrics;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Each cloud's state as its latest Cinder call found it: down when Keystone or Cinder could not be reached or
 * refused the credentials (or the cloud never connected), up when it answered. Shown as
 * {@code standalone_cinder_cloud_up{cloud}} (1 or 0) and as one line per cloud in {@code /readyz}'s body; one cloud
 * down does not make the provisioner unready, since its other clouds still work.
 */
public final class CloudStates {
  /** Up, or down and why. */
  record State(boolean up, String why) {}

  private final Map<String, State> states = new ConcurrentSkipListMap<>();
  private final MeterRegistry registry;

  public CloudStates(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * {@code gateway} of cloud {@code cloud}, whose calls now update its state; {@code down} is why it is down at
   * start (null: up).
   */
  public CinderGateway track(String cloud, CinderGateway gateway, String down) {
    states.put(cloud, new State(down == null, down));
    Gauge.builder("standalone_cinder_cloud_up", () -> states.get(cloud).up() ? 1 : 0).tag("cloud", cloud)
        .description("1 when the cloud's latest Cinder call got an answer, 0 when Keystone or Cinder could not be "
            + "reached or refused the credentials").register(registry);
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return method.invoke(gateway, args);
          }
          try {
            Object result = method.invoke(gateway, args);
            states.put(cloud, new State(true, null));
            return result;
          } catch (InvocationTargetException e) {
            states.put(cloud, after(e.getCause()));
            throw e.getCause();
          }
        });
  }

  /** The state a failed call leaves: down for no answer or refused credentials, up for any other answer. */
  static State after(Throwable failure) {
    if (failure instanceof CinderException c && (c.kind() == CinderException.Kind.UNREACHABLE
        || c.kind() == CinderException.Kind.UNAUTHORIZED)) {
      return new State(false, c.getMessage());
    }
    return new State(true, null);
  }

  /** One line per cloud, for {@code /readyz}: {@code cloud fast: up} or {@code cloud slow: down (why)}. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    states.forEach((cloud, s) -> out.add("cloud " + cloud + ": " + (s.up() ? "up" : "down (" + s.why() + ")")));
    return out;
  }
}
