package io.github.standalonecinder.mappers;

import java.util.Map;
import java.util.Objects;

/**
 * What a mapper needs to know besides the connection info: the PV it builds for, where its Secrets go, the
 * StorageClass parameters, and the connector the volume was exported to.
 *
 * @param pvName           name of the PersistentVolume being built ({@code pvc-<claim uid>})
 * @param claimNamespace   namespace of the claim
 * @param claimName        name of the claim
 * @param storageClassName the claim's StorageClass
 * @param secretNamespace  namespace where this PV's Secrets are created (the provisioner's own by default)
 * @param parameters       all StorageClass parameters; each mapper reads only those it declares
 * @param connector        the connector sent to Cinder ({@code initiatorName} on iSCSI PVs comes from it)
 * @param readOnly         the PV source's {@code readOnly}
 */
public record MappingRequest(
    String pvName,
    String claimNamespace,
    String claimName,
    String storageClassName,
    String secretNamespace,
    Map<String, String> parameters,
    Connector connector,
    boolean readOnly) {

  public MappingRequest {
    Objects.requireNonNull(pvName, "pvName");
    Objects.requireNonNull(secretNamespace, "secretNamespace");
    parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
  }

  public String parameter(String name) {
    return parameters.get(name);
  }
}
