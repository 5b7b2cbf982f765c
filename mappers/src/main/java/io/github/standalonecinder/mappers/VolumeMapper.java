package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import java.util.List;
import java.util.Set;

/**
 * Turns Cinder connection info of one {@code driver_volume_type} into a native PersistentVolume source and the
 * Secrets it needs, and names those Secrets again when the PV is deleted. A new backend is one new
 * implementation registered in {@link VolumeMapperRegistry}.
 *
 * <p>Implementations are pure: no I/O, no Kubernetes or Cinder calls. Secrets are created by the caller.
 */
public interface VolumeMapper {

  /** Cinder's {@code driver_volume_type} this mapper serves, e.g. {@code iscsi}, {@code rbd}, {@code fibre_channel}. */
  String driverVolumeType();

  /** StorageClass parameters this mapper reads; the controller rejects parameters no component declares. */
  Set<String> parameterNames();

  /** Checks the mapper's StorageClass parameters before any Cinder call is made. */
  void validateParameters(java.util.Map<String, String> parameters) throws MappingException;

  /** Builds the PV source and Secrets for a volume exported with {@code info}. */
  MappedVolume map(ConnectionInfo info, MappingRequest request) throws MappingException;

  /** Whether this mapper built {@code pv} (looks at which volume source is set). */
  boolean handles(PersistentVolume pv);

  /** The Secrets created for {@code pv} that must be removed when it is deleted (never a user-provided one). */
  List<SecretRef> ownedSecrets(PersistentVolume pv);
}
