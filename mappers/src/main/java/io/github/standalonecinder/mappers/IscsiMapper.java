package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.ISCSIPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code driver_volume_type: iscsi} to {@code spec.iscsi}, with a {@code kubernetes.io/iscsi-chap} Secret
 * {@code <pv>-chap} when Cinder returns session or discovery CHAP.
 *
 * <p>Multipath: Kubernetes takes one IQN and one LUN for all portals, so the first path Cinder lists is the
 * {@code targetPortal} and only the other portals with that same IQN and LUN become {@code portals}. Paths with
 * another IQN or LUN (e.g. one IQN per controller node) would make kubelet log in with the wrong IQN; they are
 * dropped, which keeps the volume usable over the primary's paths instead of failing the claim.
 */
public final class IscsiMapper implements VolumeMapper {
  public static final String DRIVER_VOLUME_TYPE = "iscsi";
  public static final String ISCSI_INTERFACE = "iscsiInterface";
  /**
   * {@code per-volume} (the default: Cinder's LVM and most drivers make a CHAP pair per volume) or {@code shared}
   * (the backend uses one pair for every volume, e.g. cinder.conf {@code chap_username}/{@code chap_password}).
   */
  public static final String CHAP_CREDENTIALS = "chap-credentials";
  public static final String SECRET_TYPE = "kubernetes.io/iscsi-chap";
  static final String SESSION_USERNAME = "node.session.auth.username";
  static final String SESSION_PASSWORD = "node.session.auth.password";
  static final String DISCOVERY_USERNAME = "discovery.sendtargets.auth.username";
  static final String DISCOVERY_PASSWORD = "discovery.sendtargets.auth.password";

  private static final Logger LOG = LoggerFactory.getLogger(IscsiMapper.class);
  // open-iscsi iface names: no whitespace or path separators.
  private static final Pattern IFACE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  @Override
  public String driverVolumeType() {
    return DRIVER_VOLUME_TYPE;
  }

  @Override
  public Set<String> parameterNames() {
    return Set.of(Parameters.FS_TYPE, ISCSI_INTERFACE, CHAP_CREDENTIALS);
  }

  @Override
  public void validateParameters(Map<String, String> parameters) throws MappingException {
    Parameters.validateFsType(parameters);
    String iface = parameters.get(ISCSI_INTERFACE);
    if (iface != null && !IFACE.matcher(iface).matches()) {
      throw Parameters.invalid(ISCSI_INTERFACE, "an open-iscsi interface name such as \"default\"", iface);
    }
    String chap = parameters.get(CHAP_CREDENTIALS);
    if (chap != null && !chap.equals("per-volume") && !chap.equals("shared")) {
      throw Parameters.invalid(CHAP_CREDENTIALS, "\"per-volume\" or \"shared\"", chap);
    }
  }

  @Override
  public MappedVolume map(ConnectionInfo info, MappingRequest request) throws MappingException {
    validateParameters(request.parameters());
    IscsiConnection conn = IscsiConnection.parse(info);
    IscsiConnection.Path primary = conn.primary();

    ISCSIPersistentVolumeSource iscsi = new ISCSIPersistentVolumeSource();
    iscsi.setTargetPortal(primary.portal());
    iscsi.setIqn(primary.iqn());
    iscsi.setLun(primary.lun());
    List<String> portals = secondaryPortals(conn, request.pvName());
    if (!portals.isEmpty()) {
      iscsi.setPortals(portals);
    }
    iscsi.setIscsiInterface(Parameters.value(request.parameters(), ISCSI_INTERFACE));
    iscsi.setInitiatorName(initiatorName(request));
    iscsi.setFsType(Parameters.value(request.parameters(), Parameters.FS_TYPE));
    iscsi.setReadOnly(request.readOnly());

    List<Secret> secrets = new ArrayList<>();
    if (conn.discovery() != null) {
      // Discovery CHAP guards the portal, not one target: every volume behind it.
      request.refuseShared("the discovery CHAP credentials Cinder returned (they guard the whole portal "
          + primary.portal() + ")");
    }
    if (conn.session() != null && "shared".equals(request.parameter(CHAP_CREDENTIALS))) {
      request.refuseShared("the backend's CHAP credentials (one pair for every volume: \"" + CHAP_CREDENTIALS
          + "\": \"shared\")");
    }
    if (conn.session() != null || conn.discovery() != null) {
      Secret secret = chapSecret(conn, request);
      iscsi.setChapAuthSession(conn.session() != null);
      iscsi.setChapAuthDiscovery(conn.discovery() != null);
      iscsi.setSecretRef(ManagedSecrets.reference(secret));
      secrets.add(secret);
    }
    PersistentVolumeSpec spec = new PersistentVolumeSpec();
    spec.setIscsi(iscsi);
    return new MappedVolume(spec, secrets);
  }

  @Override
  public boolean handles(PersistentVolume pv) {
    return pv.getSpec() != null && pv.getSpec().getIscsi() != null;
  }

  @Override
  public List<SecretRef> ownedSecrets(PersistentVolume pv) {
    if (!handles(pv) || pv.getMetadata() == null) {
      return List.of();
    }
    return ManagedSecrets.ownedIf(pv.getSpec().getIscsi().getSecretRef(), pv.getMetadata().getName(),
        ManagedSecrets.CHAP_SUFFIX);
  }

  private static List<String> secondaryPortals(IscsiConnection conn, String pvName) {
    IscsiConnection.Path primary = conn.primary();
    Set<String> portals = new LinkedHashSet<>();
    for (IscsiConnection.Path p : conn.paths().subList(1, conn.paths().size())) {
      if (p.iqn().equals(primary.iqn()) && p.lun() == primary.lun()) {
        if (!p.portal().equals(primary.portal())) {
          portals.add(p.portal());
        }
      } else {
        LOG.info("PV {}: dropping iSCSI path {} {} lun {}: Kubernetes uses one IQN and LUN ({} lun {}) for all "
            + "portals", pvName, p.portal(), p.iqn(), p.lun(), primary.iqn(), primary.lun());
      }
    }
    return List.copyOf(portals);
  }

  private static String initiatorName(MappingRequest request) throws MappingException {
    if (request.connector() == null || request.connector().initiator() == null
        || request.connector().initiator().isBlank()) {
      return null;
    }
    String initiator = request.connector().initiator();
    var problem = KubernetesIscsiNames.problem(initiator);
    if (problem.isPresent()) {
      throw new MappingException("connector initiator \"" + initiator + "\" is refused by Kubernetes as an "
          + "iSCSI initiatorName: it " + problem.get());
    }
    return initiator;
  }

  private static Secret chapSecret(IscsiConnection conn, MappingRequest request) {
    Map<String, String> data = new LinkedHashMap<>();
    if (conn.session() != null) {
      data.put(SESSION_USERNAME, conn.session().username());
      data.put(SESSION_PASSWORD, conn.session().password());
    }
    if (conn.discovery() != null) {
      data.put(DISCOVERY_USERNAME, conn.discovery().username());
      data.put(DISCOVERY_PASSWORD, conn.discovery().password());
    }
    return ManagedSecrets.build(request.secretNamespace(), request.pvName() + ManagedSecrets.CHAP_SUFFIX,
        request.pvName(), SECRET_TYPE, data);
  }
}
