package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Chooses the {@link VolumeMapper} for a connection (provision) or for an existing PV (delete). */
public final class VolumeMapperRegistry {
  private final List<VolumeMapper> mappers;

  public VolumeMapperRegistry(List<VolumeMapper> mappers) {
    this.mappers = List.copyOf(mappers);
    Set<String> types = new HashSet<>();
    for (VolumeMapper m : this.mappers) {
      if (!types.add(m.driverVolumeType().toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("two mappers for driver_volume_type " + m.driverVolumeType());
      }
    }
  }

  /** iSCSI, RBD and FC. */
  public static VolumeMapperRegistry defaults() {
    return new VolumeMapperRegistry(List.of(new IscsiMapper(), new RbdMapper(), new FcMapper()));
  }

  public VolumeMapper forConnection(ConnectionInfo info) throws MappingException {
    for (VolumeMapper m : mappers) {
      if (m.driverVolumeType().equalsIgnoreCase(info.driverVolumeType())) {
        return m;
      }
    }
    throw new MappingException("unsupported driver_volume_type \"" + info.driverVolumeType() + "\"; supported: "
        + String.join(", ", supportedTypes()));
  }

  public Optional<VolumeMapper> forVolume(PersistentVolume pv) {
    return mappers.stream().filter(m -> m.handles(pv)).findFirst();
  }

  /** The union of every mapper's parameter names. */
  public Set<String> parameterNames() {
    Set<String> names = new TreeSet<>();
    mappers.forEach(m -> names.addAll(m.parameterNames()));
    return Collections.unmodifiableSet(names);
  }

  /** Runs every mapper's parameter validation. */
  public void validateParameters(Map<String, String> parameters) throws MappingException {
    for (VolumeMapper m : mappers) {
      m.validateParameters(parameters == null ? Map.of() : parameters);
    }
  }

  public List<VolumeMapper> mappers() {
    return mappers;
  }

  private List<String> supportedTypes() {
    return mappers.stream().map(VolumeMapper::driverVolumeType).sorted().toList();
  }
}
