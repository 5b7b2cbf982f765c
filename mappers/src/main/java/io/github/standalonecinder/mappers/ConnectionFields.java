package io.github.standalonecinder.mappers;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of {@link ConnectionInfo#data()}. Every failure is a {@link MappingException} naming the
 * {@code driver_volume_type}, the field and the offending value; secret fields never show their value.
 */
final class ConnectionFields {
  private static final int MAX_SHOWN = 120;

  private final String type;
  private final Map<String, Object> data;

  ConnectionFields(ConnectionInfo info) {
    this.type = info.driverVolumeType();
    this.data = info.data();
  }

  boolean has(String field) {
    return data.get(field) != null;
  }

  String requireString(String field) throws MappingException {
    String s = optionalString(field);
    if (s == null) {
      throw missing(field, "a non-empty string");
    }
    return s;
  }

  /** Absent, null or blank is null; anything but a string is an error. */
  String optionalString(String field) throws MappingException {
    Object v = data.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw error(field, "a string", v);
    }
    return s.isBlank() ? null : s;
  }

  /** Like {@link #requireString} for passwords and keys: messages name the field, never the value. */
  String requireSecret(String field) throws MappingException {
    Object v = data.get(field);
    if (v == null || (v instanceof String s && s.isEmpty())) {
      throw missing(field, "a non-empty string");
    }
    if (!(v instanceof String s)) {
      throw new InvalidConnectionException(prefix(field) + " must be a string, got a " + kind(v)
          + " (value not shown)");
    }
    return s;
  }

  String optionalSecret(String field) throws MappingException {
    return has(field) ? requireSecret(field) : null;
  }

  Boolean optionalBoolean(String field) throws MappingException {
    Object v = data.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Boolean b)) {
      throw error(field, "a boolean", v);
    }
    return b;
  }

  int requireInt(String field, int min, int max) throws MappingException {
    if (!has(field)) {
      throw missing(field, "an integer from " + min + " to " + max);
    }
    return toInt(field, data.get(field), min, max);
  }

  /** A string, or a list of strings ({@code target_wwn} comes as either). Absent or null is an empty list. */
  List<String> stringOrList(String field) throws MappingException {
    Object v = data.get(field);
    if (v == null) {
      return List.of();
    }
    if (v instanceof String s) {
      return s.isBlank() ? List.of() : List.of(s);
    }
    return stringList(field);
  }

  /** A list of non-blank strings; absent or null is an empty list. */
  List<String> stringList(String field) throws MappingException {
    Object v = data.get(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw error(field, "a list of strings", v);
    }
    List<String> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof String s) || s.isBlank()) {
        throw error(field + "[" + i + "]", "a non-empty string", list.get(i));
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  /** A list of integers; numeric strings are accepted because some backends send them. */
  List<Integer> intList(String field, int min, int max) throws MappingException {
    Object v = data.get(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw error(field, "a list of integers", v);
    }
    List<Integer> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(toInt(field + "[" + i + "]", list.get(i), min, max));
    }
    return List.copyOf(out);
  }

  /** The raw value, for fields that are only checked for shape. */
  Object raw(String field) {
    return data.get(field);
  }

  MappingException error(String field, String expected, Object value) {
    return new InvalidConnectionException(prefix(field) + " must be " + expected + ", got " + show(value));
  }

  /** A free-form problem with {@code field}; {@code text} must not contain secret values. */
  MappingException problem(String field, String text) {
    return new InvalidConnectionException(prefix(field) + " " + text);
  }

  MappingException missing(String field, String expected) {
    return new InvalidConnectionException(prefix(field) + " is missing; it must be " + expected);
  }

  private int toInt(String field, Object v, int min, int max) throws MappingException {
    long n;
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      n = ((Number) v).longValue();
    } else if (v instanceof BigInteger b && b.bitLength() < 63) {
      n = b.longValue();
    } else if (v instanceof String s && s.strip().matches("\\d{1,9}")) {
      n = Long.parseLong(s.strip());
    } else {
      throw error(field, "an integer from " + min + " to " + max, v);
    }
    if (n < min || n > max) {
      throw error(field, "an integer from " + min + " to " + max, v);
    }
    return (int) n;
  }

  private String prefix(String field) {
    return type + " connection_info field \"" + field + "\"";
  }

  static String show(Object v) {
    String s;
    if (v == null) {
      s = "null";
    } else if (v instanceof String str) {
      s = "\"" + str + "\"";
    } else if (v instanceof Number || v instanceof Boolean) {
      s = v.toString();
    } else {
      s = kind(v) + " " + v;
    }
    return s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s;
  }

  private static String kind(Object v) {
    if (v instanceof List<?>) {
      return "list";
    }
    if (v instanceof Map<?, ?>) {
      return "object";
    }
    if (v instanceof Number) {
      return "number";
    }
    if (v instanceof Boolean) {
      return "boolean";
    }
    return "string";
  }
}
