package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.github.standalonecinder.mappers.MappedVolume;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.Map;

/** The PV for a claim's exported volume: the mapper's volume source, the plan's spec fields, our annotations. */
final class PvFactory {
  private PvFactory() {}

  /**
   * The PV to save. Its name is the plan's; it is bound to the claim by UID; it records the Cinder volume id, the
   * attachment id when the attachments API was used, and (reclaim Delete) our finalizer. With topology on, it is
   * for the nodes whose zone reaches the volume's AZ.
   */
  static PersistentVolume build(PersistentVolumeClaim claim, ProvisionPlan plan, CinderVolume volume,
      CinderExporter.Export export, MappedVolume mapped, ProvisionerSettings settings,
      Topology topology) {
    var spec = mapped.source();
    spec.setCapacity(Map.of("storage", new Quantity(volume.sizeGiB() + "Gi")));
    spec.setAccessModes(plan.accessModes());
    spec.setVolumeMode(plan.volumeMode());
    spec.setPersistentVolumeReclaimPolicy(plan.reclaimPolicy());
    spec.setStorageClassName(plan.storageClassName());
    spec.setMountOptions(plan.mountOptions().isEmpty() ? null : plan.mountOptions());
    var affinity = ZonePlacement.nodeAffinity(topology, volume.availabilityZone());
    if (affinity != null) {
      spec.setNodeAffinity(affinity); // only the nodes that reach the volume's AZ
    }
    spec.setClaimRef(new ObjectReferenceBuilder()
        .withApiVersion("v1").withKind("PersistentVolumeClaim")
        .withNamespace(claim.getMetadata().getNamespace()).withName(claim.getMetadata().getName())
        .withUid(claim.getMetadata().getUid()).build());
    var b = new PersistentVolumeBuilder()
        .withNewMetadata()
          .withName(plan.pvName())
          .addToAnnotations(Annotations.PROVISIONED_BY, settings.provisionerName())
          .addToAnnotations(Annotations.CINDER_VOLUME_ID, volume.id())
          .addToAnnotations(Annotations.PROVISIONER_IDENTITY, settings.identity())
          .addToLabels(Annotations.LABEL_MANAGED_BY, Annotations.MANAGED_BY)
        .endMetadata()
        .withSpec(spec);
    if (plan.namedCloud()) {
      b.editMetadata().addToAnnotations(Annotations.CLOUD, plan.cloud()).endMetadata();
    }
    if (volume.availabilityZone() != null) {
      b.editMetadata().addToLabels("topology.cinder.standalone-cinder.openstack.org/zone", volume.availabilityZone())
          .endMetadata();
    }
    if (export.attachmentId() != null) {
      b.editMetadata().addToAnnotations(ProvisionController.ATTACHMENT_ID, export.attachmentId()).endMetadata();
    }
    if ("Delete".equals(plan.reclaimPolicy())) {
      b.editMetadata().addToFinalizers(Annotations.PV_FINALIZER).endMetadata();
    }
    return b.build();
  }
}
