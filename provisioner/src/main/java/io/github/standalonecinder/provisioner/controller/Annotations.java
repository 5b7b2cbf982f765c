package io.github.standalonecinder.provisioner.controller;

/** The wire contract with Kubernetes and with PVs made by the Go original, in one place. */
public final class Annotations {
  private Annotations() {}

  /** Written on every PV we make; names the provisioner (the StorageClass {@code provisioner}). */
  public static final String PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
  /** Set on a claim by kube-controller-manager when its class names an external provisioner. */
  public static final String STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
  public static final String BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
  /** Set by the scheduler on WaitForFirstConsumer claims. */
  public static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";
  public static final String BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";

  /** The Go original's PV annotations, kept so its PVs are deleted by us (drop-in replacement). */
  public static final String CINDER_VOLUME_ID = "cinderVolumeId";
  public static final String PROVISIONER_IDENTITY = "standaloneCinderProvisionerIdentity";

  /** The Cinder volume a PV names, or null for a PV without the annotation (not one of ours or the Go original's). */
  public static String cinderVolumeId(io.fabric8.kubernetes.api.model.PersistentVolume pv) {
    var a = pv.getMetadata().getAnnotations();
    return a == null ? null : a.get(CINDER_VOLUME_ID);
  }

  /** The provisioner library's PV finalizer: the Cinder volume goes before the PV object. */
  public static final String PV_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

  /**
   * Our claim finalizer, written before the first Cinder call: a claim deleted mid-provisioning stays until the
   * volume made for it is removed, so a crash at any step cannot leak it.
   */
  public static final String CLAIM_FINALIZER = "standalone-cinder.openstack.org/provisioning";
  /** On the claim while provisioning: the PV name we are making for it. */
  public static final String CLAIM_PROVISIONING = "standalone-cinder.openstack.org/provisioning-pv";

  /**
   * On a PV (and a VolumeSnapshotContent) whose volume lives in one of several named clouds: the cloud's name, so
   * deletion, the sweeper, expansion and snapshots talk to it even after its StorageClass is gone. Absent: the
   * default cloud (every PV made before there were several).
   */
  public static final String CLOUD = "standalone-cinder.openstack.org/cloud";
  /** On the claim while provisioning in a named cloud, beside {@link #CLAIM_PROVISIONING}: that cloud. */
  public static final String CLAIM_PROVISIONING_CLOUD = "standalone-cinder.openstack.org/provisioning-cloud";

  /** The cloud an object records ({@link #CLOUD}, or {@code key}), or the default cloud when it records none. */
  public static String cloudOf(io.fabric8.kubernetes.api.model.HasMetadata object, String key) {
    var a = object.getMetadata().getAnnotations();
    String cloud = a == null ? null : a.get(key);
    return cloud == null || cloud.isEmpty() ? io.github.standalonecinder.provisioner.config.CloudSet.DEFAULT : cloud;
  }

  /** Cinder volume metadata keys. */
  public static final String META_CLUSTER = "standalone-cinder.openstack.org/cluster";
  public static final String META_PROVISIONER = "standalone-cinder.openstack.org/provisioner";
  public static final String META_CLAIM_NAMESPACE = "standalone-cinder.openstack.org/pvc-namespace";
  public static final String META_CLAIM_NAME = "standalone-cinder.openstack.org/pvc-name";
  public static final String META_CLAIM_UID = "standalone-cinder.openstack.org/pvc-uid";
  public static final String META_PV_NAME = "standalone-cinder.openstack.org/pv-name";
  /**
   * The reclaim policy of the volume's PV ({@code Delete} or {@code Retain}), recorded at create from the
   * StorageClass and moved to {@code Retain} by the {@link OrphanSweeper} when an admin sets the PV to
   * {@code Retain}. The sweeper deletes only volumes that say {@code Delete}.
   */
  public static final String META_RECLAIM_POLICY = "standalone-cinder.openstack.org/reclaim-policy";
  /** Claim annotation: make this existing Cinder volume (its id) the claim's, instead of creating one. */
  public static final String ADOPT_VOLUME_ID = "standalone-cinder.openstack.org/adopt-volume-id";
  /** Volume metadata on an adopted volume: it was not made by us; a claim deleted mid-way gives it back. */
  public static final String META_ADOPTED = "standalone-cinder.openstack.org/adopted";

  /** Labels on objects we create. */
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "standalone-cinder";
}
