package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A gateway that "dies" right after {@code step} succeeded for the first time: that call's effect is in Cinder but
 * its answer is lost, and every later call fails, as if the process had been killed.
 */
final class CrashingGateway {
  private final CinderGateway delegate;
  private final String step;
  private final AtomicBoolean crashed = new AtomicBoolean();

  CrashingGateway(CinderGateway delegate, String step) {
    this.delegate = delegate;
    this.step = step;
  }

  boolean crashed() {
    return crashed.get();
  }

  CinderGateway proxy() {
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (p, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return method.invoke(delegate, args);
          }
          if (crashed.get() && !method.getName().equals("apiVersion")) {
            throw new IllegalStateException("simulated crash: the process is gone");
          }
          Object result;
          try {
            result = method.invoke(delegate, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals(step) && crashed.compareAndSet(false, true)) {
            throw new IllegalStateException("simulated crash after " + step);
          }
          return result;
        });
  }
}
