package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Finds a claim's Cinder volumes: by their deterministic name and this cluster's id, and by the claim's UID. */
final class VolumeLookup {
  private final CinderGateway cinder;
  private final ProvisionerSettings settings;

  VolumeLookup(CinderGateway cinder, ProvisionerSettings settings) {
    this.cinder = cinder;
    this.settings = settings;
  }

  /**
   * The volumes of this name tagged with any of this cluster's ids (its own, and the legacy default when the id is
   * derived): one lookup, by name, the tags checked here.
   */
  List<CinderVolume> byName(String volumeName) {
    if (settings.clusterIds().size() == 1) {
      return cinder.findVolumes(volumeName, Map.of(Annotations.META_CLUSTER, settings.clusterId()));
    }
    return cinder.findVolumes(volumeName, Map.of()).stream()
        .filter(v -> settings.clusterIds().contains(v.metadata().get(Annotations.META_CLUSTER))).toList();
  }

  /**
   * The claim's volumes by name and, for a claim an earlier attempt worked on (it holds our intent), also by the
   * claim UID in their metadata: a volume made before {@code --volume-name-prefix} changed has another name. A new
   * claim costs no second look-up.
   */
  List<CinderVolume> ofClaim(String volumeName, PersistentVolumeClaim claim) {
    List<CinderVolume> byName = byName(volumeName);
    if (!ClaimIntent.holds(claim)) {
      return byName;
    }
    Map<String, CinderVolume> all = new LinkedHashMap<>();
    byName.forEach(v -> all.put(v.id(), v));
    cinder.listVolumes(Map.of(Annotations.META_CLAIM_UID, claim.getMetadata().getUid())).stream()
        .filter(v -> settings.clusterIds().contains(v.metadata().get(Annotations.META_CLUSTER)))
        .forEach(v -> all.putIfAbsent(v.id(), v));
    return List.copyOf(all.values());
  }
}
