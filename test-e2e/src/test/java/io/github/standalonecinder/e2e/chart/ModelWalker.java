package io.github.standalonecinder.e2e.chart;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Finds fields Fabric8's model did not recognise. Its classes keep unknown JSON properties in
 * {@code getAdditionalProperties()} instead of failing, so a misspelt or misplaced key in a template would pass a
 * plain parse; this walks the whole object graph and reports each one with its path.
 */
final class ModelWalker {
  private ModelWalker() {}

  static List<String> unknownFields(Object root) {
    List<String> found = new ArrayList<>();
    walk(root, "", found);
    return found;
  }

  private static void walk(Object o, String path, List<String> found) {
    if (o == null) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        walk(e, path + "[" + i++ + "]", found);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> walk(v, path + "[" + k + "]", found));
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() == Object.class
          || !(m.getName().startsWith("get") || m.getName().startsWith("is"))) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(o);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(m.toString(), e);
      }
      if (m.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(k -> found.add(path + "." + k));
        }
        continue;
      }
      String name = m.getName().startsWith("is") ? m.getName().substring(2) : m.getName().substring(3);
      walk(value, path + "." + Character.toLowerCase(name.charAt(0)) + name.substring(1), found);
    }
  }
}
