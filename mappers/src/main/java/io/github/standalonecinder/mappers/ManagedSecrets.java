package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecretReference;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Names, labels and builds the Secrets this project creates, and recognises them again on delete. */
public final class ManagedSecrets {
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "standalone-cinder";
  public static final String PV_LABEL = "standalone-cinder.openstack.org/pv";

  public static final String CHAP_SUFFIX = "-chap";
  public static final String CEPHX_SUFFIX = "-cephx";

  private ManagedSecrets() {
  }

  /** The labels on every Secret we create for {@code pvName}. */
  public static Map<String, String> labels(String pvName) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY_LABEL, MANAGED_BY_VALUE);
    labels.put(PV_LABEL, pvName);
    return labels;
  }

  /** A Secret with {@code data} base64-encoded (not stringData), so it compares equal to what the API returns. */
  static Secret build(String namespace, String name, String pvName, String type, Map<String, String> data) {
    Map<String, String> encoded = new LinkedHashMap<>();
    data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return new SecretBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels(pvName)).endMetadata()
        .withType(type)
        .withData(encoded)
        .build();
  }

  static SecretReference reference(Secret secret) {
    return new SecretReference(secret.getMetadata().getName(), secret.getMetadata().getNamespace());
  }

  /**
   * {@code ref} as a Secret to delete with the PV, but only if its name is the one we derive from the PV name
   * with {@code suffix}; a Secret the administrator named in the StorageClass is never ours.
   */
  static List<SecretRef> ownedIf(SecretReference ref, String pvName, String suffix) {
    if (ref == null || pvName == null || ref.getName() == null || ref.getNamespace() == null) {
      return List.of();
    }
    if (!ref.getName().equals(pvName + suffix)) {
      return List.of();
    }
    return List.of(new SecretRef(ref.getNamespace(), ref.getName()));
  }
}
