package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and removes the Secrets mappers ask for. Create-or-verify: an existing identical Secret is success
 * (a retry after a crash), a different one is an error. Delete treats 404 as done.
 *
 * <p>Only names are ever logged or put in messages, never data. API failures other than the 409 that
 * create-or-verify handles propagate as {@link KubernetesClientException} so the caller can retry them.
 */
public final class SecretStore {
  private static final Logger LOG = LoggerFactory.getLogger(SecretStore.class);

  private final KubernetesClient client;

  public SecretStore(KubernetesClient client) {
    this.client = client;
  }

  /** Creates {@code secret}, or verifies that the existing one has the same type and data. */
  public void ensure(Secret secret) throws MappingException {
    ensure(secret, existing -> false);
  }

  /**
   * As {@link #ensure(Secret)}, but an existing Secret that differs is replaced when {@code replaceable} says it
   * may be (a stale Secret of our own). The replacement is conditional on the version read, so a Secret changed
   * meanwhile is not overwritten blindly (the 409 propagates and the caller retries).
   */
  public void ensure(Secret secret, Predicate<Secret> replaceable) throws MappingException {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    try {
      client.secrets().inNamespace(namespace).resource(secret).create();
      LOG.info("Created Secret {}/{}", namespace, name);
      return;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
    Secret existing = client.secrets().inNamespace(namespace).withName(name).get();
    if (existing == null) {
      // Deleted between our create and get: one more create settles it (or fails loudly).
      client.secrets().inNamespace(namespace).resource(secret).create();
      LOG.info("Created Secret {}/{}", namespace, name);
      return;
    }
    List<String> differences = differences(secret, existing);
    if (!differences.isEmpty() && replaceable.test(existing)) {
      Secret replacement = new SecretBuilder(secret).editMetadata()
          .withResourceVersion(existing.getMetadata().getResourceVersion()).endMetadata().build();
      client.secrets().inNamespace(namespace).resource(replacement).update();
      LOG.warn("Replaced stale Secret {}/{} (its {} differed)", namespace, name, String.join(" and ", differences));
      return;
    }
    if (!differences.isEmpty()) {
      throw new MappingException("Secret " + namespace + "/" + name + " already exists with a different "
          + String.join(" and ", differences) + "; refusing to overwrite it");
    }
    LOG.debug("Secret {}/{} already exists and matches", namespace, name);
  }

  /** Deletes the Secret; absent is success. */
  public void delete(SecretRef ref) {
    // Fabric8 answers a 404 on delete with an empty result, not an exception.
    boolean deleted = !client.secrets().inNamespace(ref.namespace()).withName(ref.name()).delete().isEmpty();
    LOG.info(deleted ? "Deleted Secret {}" : "Secret {} already gone", ref);
  }

  KubernetesClient client() {
    return client;
  }

  /** What differs, by aspect only (type, data, labels): values are secret. */
  private static List<String> differences(Secret wanted, Secret existing) {
    List<String> out = new ArrayList<>();
    if (!Objects.equals(typeOf(wanted), typeOf(existing))) {
      out.add("type (" + typeOf(existing) + ", want " + typeOf(wanted) + ")");
    }
    Map<String, String> wantedData = data(wanted);
    Map<String, String> existingData = data(existing);
    if (!wantedData.equals(existingData)) {
      out.add(wantedData.keySet().equals(existingData.keySet()) ? "data (same keys, different values)"
          : "data (keys " + new java.util.TreeSet<>(existingData.keySet()) + ", want "
              + new java.util.TreeSet<>(wantedData.keySet()) + ")");
    }
    Map<String, String> wantedLabels = orEmpty(wanted.getMetadata().getLabels());
    Map<String, String> existingLabels = orEmpty(existing.getMetadata().getLabels());
    if (!existingLabels.entrySet().containsAll(wantedLabels.entrySet())) {
      out.add("labels (" + existingLabels + ", want " + wantedLabels + ")");
    }
    return out;
  }

  private static String typeOf(Secret s) {
    // The API server defaults an empty type to Opaque.
    return s.getType() == null || s.getType().isEmpty() ? "Opaque" : s.getType();
  }

  /** {@code data} plus {@code stringData} encoded the way the API server stores it. */
  private static Map<String, String> data(Secret s) {
    Map<String, String> out = new LinkedHashMap<>(orEmpty(s.getData()));
    orEmpty(s.getStringData()).forEach((k, v) ->
        out.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return out;
  }

  private static Map<String, String> orEmpty(Map<String, String> m) {
    return m == null ? Map.of() : m;
  }
}
