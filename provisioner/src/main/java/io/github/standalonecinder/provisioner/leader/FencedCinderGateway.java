package io.github.standalonecinder.provisioner.leader;

import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Wraps a {@link CinderGateway} so every call that changes Cinder checks the {@link Fence} first. Reads pass
 * through (they are what a standby or a deposed replica may still do). A proxy, so a method added to the gateway
 * later is fenced by default: only names that start with a read verb are exempt.
 */
public final class FencedCinderGateway {
  private FencedCinderGateway() {}

  public static CinderGateway wrap(CinderGateway delegate, Fence fence) {
    if (fence == Fence.OPEN) {
      return delegate;
    }
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getDeclaringClass() != Object.class && !isRead(method)) {
        fence.check("Cinder " + method.getName());
      }
      try {
        return method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, handler);
  }

  static boolean isRead(Method m) {
    String n = m.getName();
    return n.startsWith("get") || n.startsWith("find") || n.startsWith("list") || n.equals("apiVersion");
  }
}
