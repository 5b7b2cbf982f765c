package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.CSIPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.api.model.RBDPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretReference;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code driver_volume_type: rbd} to the in-tree {@code spec.rbd} source (default) or, because Kubernetes 1.31
 * removed the in-tree rbd plugin, to a ceph-csi static volume ({@code rbd-mode: csi}).
 *
 * <p>The cephx key comes from Cinder's {@code keyring} when it returns one (we create {@code <pv>-cephx}), else
 * from the Secret the StorageClass names in {@code cephx-secret-name}, which stays the administrator's.
 */
public final class RbdMapper implements VolumeMapper {
  public static final String DRIVER_VOLUME_TYPE = "rbd";
  public static final String MODE = "rbd-mode";
  public static final String MODE_IN_TREE = "in-tree";
  public static final String MODE_CSI = "csi";
  public static final String CSI_CLUSTER_ID = "csi-cluster-id";
  public static final String CSI_IMAGE_FEATURES = "csi-image-features";
  public static final String CEPHX_SECRET_NAME = "cephx-secret-name";
  public static final String CEPHX_SECRET_NAMESPACE = "cephx-secret-namespace";

  public static final String CSI_DRIVER = "rbd.csi.ceph.com";
  public static final String IN_TREE_SECRET_TYPE = "kubernetes.io/rbd";
  /** ceph-csi reads {@code userID}/{@code userKey} and ignores the Secret type. */
  public static final String CSI_SECRET_TYPE = "Opaque";
  static final String DEFAULT_IMAGE_FEATURES = "layering";

  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_LABEL = Pattern.compile("(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern FEATURES = Pattern.compile("[a-z][a-z-]*(,[a-z][a-z-]*)*");

  @Override
  public String driverVolumeType() {
    return DRIVER_VOLUME_TYPE;
  }

  @Override
  public Set<String> parameterNames() {
    return Set.of(Parameters.FS_TYPE, MODE, CSI_CLUSTER_ID, CSI_IMAGE_FEATURES, CEPHX_SECRET_NAME,
        CEPHX_SECRET_NAMESPACE);
  }

  @Override
  public void validateParameters(Map<String, String> parameters) throws MappingException {
    Parameters.validateFsType(parameters);
    String mode = parameters.get(MODE);
    if (mode != null && !mode.equals(MODE_IN_TREE) && !mode.equals(MODE_CSI)) {
      throw Parameters.invalid(MODE, "\"" + MODE_IN_TREE + "\" or \"" + MODE_CSI + "\"", mode);
    }
    if (MODE_CSI.equals(mode) && Parameters.value(parameters, CSI_CLUSTER_ID) == null) {
      throw new MappingException("StorageClass parameter \"" + CSI_CLUSTER_ID + "\" is required when \"" + MODE
          + "\" is \"" + MODE_CSI + "\"");
    }
    String features = parameters.get(CSI_IMAGE_FEATURES);
    if (features != null && !FEATURES.matcher(features).matches()) {
      throw Parameters.invalid(CSI_IMAGE_FEATURES, "a comma-separated list of RBD image features such as "
          + "\"layering,exclusive-lock\"", features);
    }
    String name = parameters.get(CEPHX_SECRET_NAME);
    if (name != null && !DNS_SUBDOMAIN.matcher(name).matches()) {
      throw Parameters.invalid(CEPHX_SECRET_NAME, "a Secret name (lower-case DNS subdomain)", name);
    }
    String namespace = parameters.get(CEPHX_SECRET_NAMESPACE);
    if (namespace != null) {
      if (!DNS_LABEL.matcher(namespace).matches()) {
        throw Parameters.invalid(CEPHX_SECRET_NAMESPACE, "a namespace name (lower-case DNS label)", namespace);
      }
      if (name == null) {
        throw new MappingException("StorageClass parameter \"" + CEPHX_SECRET_NAMESPACE + "\" needs \""
            + CEPHX_SECRET_NAME + "\"");
      }
    }
  }

  @Override
  public MappedVolume map(ConnectionInfo info, MappingRequest request) throws MappingException {
    validateParameters(request.parameters());
    RbdConnection conn = RbdConnection.parse(info);
    boolean csi = MODE_CSI.equals(request.parameter(MODE));
    Secret created = conn.key() == null ? null : keySecret(conn, request, csi);
    SecretReference ref = created != null ? ManagedSecrets.reference(created) : namedSecret(request);
    if (ref == null && (csi || conn.authEnabled())) {
      throw new MappingException("rbd volume " + conn.pool() + "/" + conn.image() + " needs a cephx key: Cinder "
          + "returned no \"keyring\" and StorageClass parameter \"" + CEPHX_SECRET_NAME + "\" is not set");
    }
    PersistentVolumeSpec spec = new PersistentVolumeSpec();
    if (csi) {
      spec.setCsi(csiSource(conn, request, ref));
    } else {
      spec.setRbd(inTreeSource(conn, request, ref));
    }
    return new MappedVolume(spec, created == null ? List.of() : List.of(created));
  }

  @Override
  public boolean handles(PersistentVolume pv) {
    PersistentVolumeSpec spec = pv.getSpec();
    return spec != null
        && (spec.getRbd() != null || (spec.getCsi() != null && CSI_DRIVER.equals(spec.getCsi().getDriver())));
  }

  @Override
  public List<SecretRef> ownedSecrets(PersistentVolume pv) {
    if (!handles(pv) || pv.getMetadata() == null) {
      return List.of();
    }
    PersistentVolumeSpec spec = pv.getSpec();
    SecretReference ref = spec.getRbd() != null ? spec.getRbd().getSecretRef() : spec.getCsi().getNodeStageSecretRef();
    return ManagedSecrets.ownedIf(ref, pv.getMetadata().getName(), ManagedSecrets.CEPHX_SUFFIX);
  }

  private static RBDPersistentVolumeSource inTreeSource(RbdConnection conn, MappingRequest request,
      SecretReference ref) {
    RBDPersistentVolumeSource rbd = new RBDPersistentVolumeSource();
    rbd.setMonitors(conn.monitors());
    rbd.setPool(conn.pool());
    rbd.setImage(conn.image());
    rbd.setUser(conn.user());
    rbd.setSecretRef(ref);
    rbd.setFsType(Parameters.value(request.parameters(), Parameters.FS_TYPE));
    rbd.setReadOnly(request.readOnly());
    return rbd;
  }

  private static CSIPersistentVolumeSource csiSource(RbdConnection conn, MappingRequest request,
      SecretReference ref) {
    // ceph-csi static volume (docs/static-pvc.md): the handle is the image name, monitors come from the
    // ceph-csi config entry named by clusterID, not from Cinder.
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("clusterID", request.parameter(CSI_CLUSTER_ID));
    attributes.put("pool", conn.pool());
    attributes.put("staticVolume", "true");
    String features = Parameters.value(request.parameters(), CSI_IMAGE_FEATURES);
    attributes.put("imageFeatures", features == null ? DEFAULT_IMAGE_FEATURES : features);
    CSIPersistentVolumeSource csi = new CSIPersistentVolumeSource();
    csi.setDriver(CSI_DRIVER);
    csi.setVolumeHandle(conn.image());
    csi.setVolumeAttributes(attributes);
    csi.setNodeStageSecretRef(ref);
    csi.setFsType(Parameters.value(request.parameters(), Parameters.FS_TYPE));
    csi.setReadOnly(request.readOnly());
    return csi;
  }

  private static Secret keySecret(RbdConnection conn, MappingRequest request, boolean csi) throws MappingException {
    // The keyring Cinder returns (rbd_keyring_conf) is its own client's: rwx on the whole pool.
    request.refuseShared("the cephx key Cinder returned (client." + (conn.user() == null ? "<auth_username>"
        : conn.user()) + ", for the whole pool " + conn.pool() + ")");
    String name = request.pvName() + ManagedSecrets.CEPHX_SUFFIX;
    if (!csi) {
      return ManagedSecrets.build(request.secretNamespace(), name, request.pvName(), IN_TREE_SECRET_TYPE,
          Map.of("key", conn.key()));
    }
    if (conn.user() == null) {
      throw new MappingException("rbd connection_info field \"auth_username\" is missing; ceph-csi needs the cephx "
          + "user of the key in \"keyring\"");
    }
    Map<String, String> data = new LinkedHashMap<>();
    data.put("userID", conn.user());
    data.put("userKey", conn.key());
    return ManagedSecrets.build(request.secretNamespace(), name, request.pvName(), CSI_SECRET_TYPE, data);
  }

  private static SecretReference namedSecret(MappingRequest request) {
    String name = Parameters.value(request.parameters(), CEPHX_SECRET_NAME);
    if (name == null) {
      return null;
    }
    String namespace = Parameters.value(request.parameters(), CEPHX_SECRET_NAMESPACE);
    return new SecretReference(name, namespace == null ? request.secretNamespace() : namespace);
  }
}
