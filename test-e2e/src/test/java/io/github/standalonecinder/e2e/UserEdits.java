package io.github.standalonecinder.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.util.function.UnaryOperator;

/**
 * A user's edit, as {@code kubectl edit} makes it: read, change, write with the read's resourceVersion. Fabric8's
 * {@code edit} locks on that version, so a write by the controller or the PV binder in between (the controller
 * clears its intent record right after a claim binds) answers 409; the user then reads again and re-applies.
 */
public final class UserEdits {
  private static final int ATTEMPTS = 10;

  private UserEdits() {}

  public static <T extends HasMetadata> T edit(Resource<T> resource, UnaryOperator<T> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        return resource.edit(change);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }
}
