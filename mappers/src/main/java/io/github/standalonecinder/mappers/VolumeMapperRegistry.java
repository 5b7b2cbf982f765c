package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Chooses the {@link VolumeMapper} for a connection (provision) or for an existing PV (delete). */
public final class VolumeMapperRegistry {
  private final List<VolumeMapper> mappers;

  public VolumeMapperRegistry(List<VolumeMapper> mappers) {
    this.mappers = List.copyOf(mappers);
  }

  /** iSCSI, RBD and FC. */
  public static VolumeMapperRegistry defaults() {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  public VolumeMapper forConnection(ConnectionInfo info) throws MappingException {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  public Optional<VolumeMapper> forVolume(PersistentVolume pv) {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  /** The union of every mapper's parameter names. */
  public Set<String> parameterNames() {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  /** Runs every mapper's parameter validation. */
  public void validateParameters(Map<String, String> parameters) throws MappingException {
    throw new UnsupportedOperationException("TODO(issue 3)");
  }

  public List<VolumeMapper> mappers() {
    return mappers;
  }
}
