package io.github.standalonecinder.provisioner.kube;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Gives every Fabric8 model object under a root one shared, immutable empty {@code additionalProperties} map in
 * place of its own. Each model object is built with a {@code LinkedHashMap} for fields the model does not know,
 * nearly always empty: 15 of them for a PV and its claim, a tenth of the informer caches' heap. Only for objects
 * nobody changes in place (cached ones): builders made from them copy the map.
 */
final class SharedEmptyMaps {
  private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model";
  private static final Map<String, Object> EMPTY = Collections.emptyMap();
  private static final MethodType GETTER = MethodType.methodType(Object.class, Object.class);
  private static final MethodType SETTER = MethodType.methodType(void.class, Object.class, Map.class);

  /** How to reach a model class's own map and the model objects it holds; null for other classes. */
  private record Shape(MethodHandle extra, MethodHandle setExtra, List<MethodHandle> children) {}

  private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
    @Override
    protected Shape computeValue(Class<?> type) {
      return shapeOf(type);
    }
  };

  private SharedEmptyMaps() {}

  static void share(Object root) {
    if (root == null) {
      return;
    }
    Shape shape = SHAPES.get(root.getClass());
    if (shape == null) {
      return;
    }
    try {
      if (shape.extra() != null) {
        Object extra = shape.extra().invokeExact(root);
        if (extra instanceof Map<?, ?> m && m.isEmpty() && m != EMPTY) {
          shape.setExtra().invokeExact(root, (Map<?, ?>) EMPTY);
        }
      }
      for (MethodHandle child : shape.children()) {
        Object value = child.invokeExact(root);
        if (value instanceof Collection<?> items) {
          items.forEach(SharedEmptyMaps::share);
        } else if (value instanceof Map<?, ?> map) {
          map.values().forEach(SharedEmptyMaps::share);
        } else {
          share(value);
        }
      }
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  private static Shape shapeOf(Class<?> type) {
    if (!isModel(type)) {
      return null;
    }
    MethodHandles.Lookup lookup = MethodHandles.publicLookup();
    MethodHandle extra = null;
    MethodHandle setExtra = null;
    List<MethodHandle> children = new ArrayList<>();
    try {
      for (Method m : type.getMethods()) {
        if (Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() == Object.class) {
          continue;
        }
        if (m.getName().equals("setAdditionalProperties") && m.getParameterCount() == 1
            && m.getParameterTypes()[0] == Map.class) {
          setExtra = lookup.unreflect(m).asType(SETTER);
        } else if (m.getParameterCount() == 0 && m.getName().startsWith("get")) {
          Class<?> r = m.getReturnType();
          if (m.getName().equals("getAdditionalProperties")) {
            extra = lookup.unreflect(m).asType(GETTER);
          } else if (isModel(r) || Collection.class.isAssignableFrom(r) || Map.class.isAssignableFrom(r)) {
            children.add(lookup.unreflect(m).asType(GETTER));
          }
        }
      }
    } catch (IllegalAccessException e) {
      return null;
    }
    return new Shape(setExtra == null ? null : extra, setExtra, List.copyOf(children));
  }

  private static boolean isModel(Class<?> type) {
    return !type.isPrimitive() && !type.isArray() && type.getPackageName().startsWith(MODEL_PACKAGE)
        && Modifier.isPublic(type.getModifiers());
  }
}
