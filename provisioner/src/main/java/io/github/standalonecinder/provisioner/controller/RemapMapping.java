package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.github.standalonecinder.mappers.MappingRequest;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a mapper needs to map a bound PV's volume again: from the PV (its name, claim, class, access modes) and its
 * StorageClass's parameters as the {@link ClaimPlanner} reads them (Secret placement, mapper parameters). A class
 * deleted since falls back to the defaults: Secrets in the provisioner's namespace, no mapper parameters.
 */
final class RemapMapping {
  private RemapMapping() {}

  static MappingRequest request(PersistentVolume pv, StorageClass storageClass, VolumeMapperRegistry mappers,
      ProvisionerSettings settings) {
    Map<String, String> params = storageClass == null || storageClass.getParameters() == null ? Map.of()
        : storageClass.getParameters();
    var claimRef = pv.getSpec().getClaimRef();
    boolean inClaimNamespace = "claim".equals(params.get(ClaimPlanner.PARAM_SECRET_NAMESPACE));
    MappingRequest.SecretPlacement placement = !inClaimNamespace ? MappingRequest.SecretPlacement.PROVISIONER
        : "true".equals(params.get(ClaimPlanner.PARAM_SHARED_SECRETS))
            ? MappingRequest.SecretPlacement.CLAIM_WITH_SHARED : MappingRequest.SecretPlacement.CLAIM;
    Map<String, String> mapperParams = new LinkedHashMap<>();
    params.forEach((k, v) -> {
      if (mappers.parameterNames().contains(k)) {
        mapperParams.put(k, v);
      }
    });
    List<String> modes = pv.getSpec().getAccessModes() == null ? List.of() : pv.getSpec().getAccessModes();
    boolean readOnly = modes.size() == 1 && modes.get(0).equals("ReadOnlyMany");
    return new MappingRequest(pv.getMetadata().getName(), claimRef.getNamespace(), claimRef.getName(),
        pv.getSpec().getStorageClassName(), inClaimNamespace ? claimRef.getNamespace() : settings.namespace(),
        mapperParams, settings.connector(), readOnly, placement);
  }
}
