package io.github.standalonecinder.provisioner.kube;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.List;

/**
 * The Kubernetes client's serialization: string values interned, and only the provisioner's own kinds known by
 * name. Thousands of cached claims and PVs repeat the same namespace, class, access mode, phase, portal and
 * annotation values; JSON field names (and so map keys) are already shared by Jackson, values are not. Interned
 * strings are collected like others once nothing uses them.
 */
public final class CompactSerialization {
  /** Longer values (kubectl's last-applied-configuration, certificates) are unique: not worth the lookup. */
  static final int MAX_INTERNED_LENGTH = 128;

  private CompactSerialization() {}

  /**
   * The kinds the provisioner reads where the client resolves a type by kind (watch events); others read as
   * GenericKubernetesResource. Registering them spares the scan of every model class on the class path, which
   * loads some 600 classes the provisioner never uses.
   */
  static final List<Class<? extends KubernetesResource>> KINDS = List.of(PersistentVolumeClaim.class,
      PersistentVolume.class, StorageClass.class, Secret.class, Event.class, Lease.class, Status.class);

  public static KubernetesSerialization create() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.registerModule(new SimpleModule("interned-strings").addDeserializer(String.class,
        new InterningStringDeserializer()));
    KubernetesSerialization serialization = new KubernetesSerialization(mapper, false);
    KINDS.forEach(serialization::registerKubernetesResource);
    return serialization;
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
