package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.List;
import java.util.Objects;

/**
 * A mapper's result.
 *
 * @param source  a PersistentVolumeSpec with only the volume source set ({@code iscsi}, {@code rbd}, {@code fc}
 *                or {@code csi}); the controller fills in everything else
 * @param secrets the Secrets that must exist before the PV is saved (created or verified by {@link SecretStore})
 */
public record MappedVolume(PersistentVolumeSpec source, List<Secret> secrets) {
  public MappedVolume {
    Objects.requireNonNull(source, "source");
    secrets = secrets == null ? List.of() : List.copyOf(secrets);
  }

  @Override
  public String toString() {
    // Secrets hold CHAP passwords and cephx keys: name them, never print them.
    return "MappedVolume[secrets=" + secrets.stream()
        .map(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()).toList() + "]";
  }
}
