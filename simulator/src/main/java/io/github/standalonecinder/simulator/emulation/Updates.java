package io.github.standalonecinder.simulator.emulation;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Read-modify-write with optimistic locking: the update carries the resourceVersion it read, a conflict reads again.
 * Fabric8's {@code edit()} sends a JSON patch computed against a possibly stale copy, which breaks when another
 * writer (kube-controller-manager binding the claim) changed the same map meanwhile.
 *
 * <p>A copy of the provisioner's {@code kube.Updates} for the emulated binder: the binder stands in for
 * kube-controller-manager, which shares no code with the provisioner, and the simulator module depends on nothing
 * of the product.
 */
final class Updates {
  private static final int ATTEMPTS = 5;

  private Updates() {}

  /**
   * Applies {@code change} to the latest object and saves it through {@code bind} (the client's
   * {@code resource(object)}); returns the saved object, or null when the object is
   * gone. {@code change} returning null means nothing to change.
   */
  public static <T extends HasMetadata> T update(Resource<T> resource, Function<T, Resource<T>> bind,
      UnaryOperator<T> change) {
    return update(resource, bind, change, null);
  }

  /**
   * As {@link #update(Resource, Function, UnaryOperator)}, but the first attempt starts from {@code known} (the
   * informer's copy, or what our last write returned) instead of reading: usually it is current and the read is
   * saved; when it is stale its resourceVersion makes the write fail with 409 and the object is read as usual.
   */
  public static <T extends HasMetadata> T update(Resource<T> resource, Function<T, Resource<T>> bind,
      UnaryOperator<T> change, T known) {
    KubernetesClientException last = null;
    T current = known != null && known.getMetadata().getResourceVersion() != null ? known : null;
    for (int i = 0; i < ATTEMPTS; i++) {
      if (current == null) {
        current = resource.get();
        if (current == null) {
          return null;
        }
      }
      T changed = change.apply(current);
      if (changed == null) {
        return current;
      }
      try {
        return bind.apply(changed).update();
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return null;
        }
        if (e.getCode() != 409) {
          throw e;
        }
        last = e;
        current = null;
      }
    }
    throw last;
  }
}
