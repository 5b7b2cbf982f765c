package io.github.standalonecinder.provisioner.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.stream.Stream;

/**
 * An informer store that keeps objects lean: it drops {@code metadata.managedFields} (on a real API server often
 * the largest part of an object; nothing here reads it) and shares one empty map for the model's unknown fields
 * ({@link SharedEmptyMaps}). Safe for writes from the cached copy too: an update that omits managedFields leaves
 * the server's as they are.
 */
public final class LeanItemStore<T extends HasMetadata> implements ItemStore<T> {
  private final BasicItemStore<T> items = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  @Override
  public String getKey(T obj) {
    return items.getKey(obj);
  }

  @Override
  public T put(String key, T obj) {
    if (obj.getMetadata() != null) {
      obj.getMetadata().setManagedFields(null);
    }
    SharedEmptyMaps.share(obj);
    return items.put(key, obj);
  }

  @Override
  public T remove(String key) {
    return items.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet();
  }

  @Override
  public Stream<T> values() {
    return items.values();
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public T get(String key) {
    return items.get(key);
  }
}
