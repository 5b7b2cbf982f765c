package io.github.standalonecinder.provisioner.kube;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;

/**
 * The Kubernetes client's serialization with string values interned. Thousands of cached claims and PVs repeat the
 * same namespace, class, access mode, phase, portal and annotation values; JSON field names (and so map keys) are
 * already shared by Jackson, values are not. Interned strings are collected like others once nothing uses them.
 */
public final class CompactSerialization {
  /** Longer values (kubectl's last-applied-configuration, certificates) are unique: not worth the lookup. */
  static final int MAX_INTERNED_LENGTH = 128;

  private CompactSerialization() {}

  public static KubernetesSerialization create() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.registerModule(new SimpleModule("interned-strings").addDeserializer(String.class,
        new InterningStringDeserializer()));
    return new KubernetesSerialization(mapper, true);
  }

  static final class InterningStringDeserializer extends StringDeserializer {
    private static final long serialVersionUID = 1L;

    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      String s = super.deserialize(p, ctxt);
      return s != null && s.length() <= MAX_INTERNED_LENGTH ? s.intern() : s;
    }
  }
}
