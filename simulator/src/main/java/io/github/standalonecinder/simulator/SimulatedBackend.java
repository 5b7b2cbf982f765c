package io.github.standalonecinder.simulator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The storage backend whose {@code os-initialize_connection} answer the simulator imitates. The shapes follow
 * Cinder's {@code cinder/volume/targets/iscsi.py} ({@code _get_iscsi_properties}, tgt/LVM defaults),
 * {@code cinder/volume/drivers/rbd.py} ({@code initialize_connection}) and the usual FC zoning drivers, plus the
 * keys the volume manager adds ({@code access_mode}, {@code qos_specs}, {@code encrypted}).
 */
public enum SimulatedBackend {
  /** iSCSI (tgt/LVM) without CHAP. */
  ISCSI("iscsi"),
  /** iSCSI (tgt/LVM) with CHAP: {@code auth_method} "CHAP", random per-volume user name and password. */
  ISCSI_CHAP("iscsi"),
  /** iSCSI with CHAP and two portals; adds {@code target_portals/iqns/luns} when {@code connector.multipath}. */
  ISCSI_MULTIPATH("iscsi"),
  /** Ceph RBD with cephx ({@code auth_username} "cinder", {@code secret_uuid}), no keyring. */
  RBD("rbd"),
  /** Ceph RBD that also returns the {@code keyring} (rbd_keyring_conf set on the Cinder side). */
  RBD_KEYRING("rbd"),
  /** Fibre Channel: needs {@code connector.wwpns}, answers {@code target_wwn} and {@code initiator_target_map}. */
  FC("fibre_channel");

  /** Portal of single-path iSCSI and the first portal of multipath. */
  public static final String ISCSI_PORTAL = "127.0.0.1:3260";
  /** Second portal of {@link #ISCSI_MULTIPATH}. */
  public static final String ISCSI_PORTAL_2 = "127.0.0.2:3260";
  /** The LUN tgt uses for Cinder volumes. */
  public static final int ISCSI_LUN = 1;
  public static final List<String> RBD_HOSTS = List.of("10.0.0.1", "10.0.0.2", "10.0.0.3");
  public static final List<String> RBD_PORTS = List.of("6789", "6789", "6789");
  public static final String RBD_POOL = "volumes";
  public static final String RBD_USER = "cinder";
  public static final List<String> FC_TARGET_WWNS = List.of("500a098280feeba5", "500a098290feeba5");
  public static final int FC_LUN = 1;
  /** The secondary site of a replicated backend ({@link CinderSimulator.Builder#replication}): its iSCSI portal. */
  public static final String SECONDARY_ISCSI_PORTAL = "127.0.0.3:3260";
  public static final List<String> SECONDARY_RBD_HOSTS = List.of("10.0.1.1", "10.0.1.2", "10.0.1.3");
  public static final String SECONDARY_RBD_CLUSTER = "ceph-secondary";
  public static final String SECONDARY_RBD_USER = "cinder-secondary";
  public static final List<String> SECONDARY_FC_TARGET_WWNS = List.of("500a098280feebb5", "500a098290feebb5");

  private final String driverVolumeType;

  SimulatedBackend(String driverVolumeType) {
    this.driverVolumeType = driverVolumeType;
  }

  /** The {@code driver_volume_type} this backend answers: "iscsi", "rbd" or "fibre_channel". */
  public String driverVolumeType() {
    return driverVolumeType;
  }

  /** The IQN Cinder's LVM driver gives a volume: {@code iqn.2010-10.org.openstack:volume-<id>}. */
  public static String iqnFor(String volumeId) {
    return "iqn.2010-10.org.openstack:volume-" + volumeId;
  }

  /** The IQN the secondary site exports a failed-over volume under. */
  public static String secondaryIqnFor(String volumeId) {
    return "iqn.2010-10.org.openstack.secondary:volume-" + volumeId;
  }

  /** Whether {@code connection_info.data} carries CHAP credentials. */
  public boolean usesChap() {
    return this == ISCSI_CHAP || this == ISCSI_MULTIPATH;
  }

  /**
   * Builds {@code {"driver_volume_type": ..., "data": {...}}}.
   *
   * @throws ApiException 400 for FC without {@code wwpns} in the connector
   */
  Map<String, Object> connectionInfo(ConnectionSecrets secrets, String volumeId, Map<?, ?> connector, String mode) {
    Map<String, Object> data = new LinkedHashMap<>();
    switch (this) {
      case ISCSI, ISCSI_CHAP, ISCSI_MULTIPATH -> {
        String iqn = secrets.secondary() ? secondaryIqnFor(volumeId) : iqnFor(volumeId);
        String portal = secrets.secondary() ? SECONDARY_ISCSI_PORTAL : ISCSI_PORTAL;
        boolean multipath = this == ISCSI_MULTIPATH && connector != null && truthy(connector.get("multipath"));
        data.put("target_discovered", false);
        if (multipath) {
          data.put("target_portals", List.of(portal, ISCSI_PORTAL_2));
          data.put("target_iqns", List.of(iqn, iqn));
          data.put("target_luns", List.of(ISCSI_LUN, ISCSI_LUN));
        }
        data.put("target_portal", portal);
        data.put("target_iqn", iqn);
        data.put("target_lun", ISCSI_LUN);
        data.put("volume_id", volumeId);
        if (usesChap()) {
          data.put("auth_method", "CHAP");
          data.put("auth_username", secrets.chapUser());
          data.put("auth_password", secrets.chapPassword());
        }
        data.put("discard", false);
      }
      case RBD, RBD_KEYRING -> {
        data.put("name", RBD_POOL + "/volume-" + volumeId);
        data.put("hosts", secrets.secondary() ? SECONDARY_RBD_HOSTS : RBD_HOSTS);
        data.put("ports", RBD_PORTS);
        data.put("cluster_name", secrets.secondary() ? SECONDARY_RBD_CLUSTER : "ceph");
        data.put("auth_enabled", true);
        data.put("auth_username", secrets.secondary() ? SECONDARY_RBD_USER : RBD_USER);
        data.put("secret_type", "ceph");
        data.put("secret_uuid", secrets.cephSecretUuid());
        data.put("volume_id", volumeId);
        data.put("discard", true);
        if (this == RBD_KEYRING) {
          data.put("keyring", secrets.keyring());
        }
      }
      case FC -> {
        Object wwpns = connector == null ? null : connector.get("wwpns");
        if (!(wwpns instanceof List<?> list) || list.isEmpty()) {
          throw ApiException.invalidInput("Connector doesn't have required information: wwpns");
        }
        Map<String, Object> itMap = new LinkedHashMap<>();
        List<String> wwns = secrets.secondary() ? SECONDARY_FC_TARGET_WWNS : FC_TARGET_WWNS;
        for (Object initiator : list) {
          itMap.put(String.valueOf(initiator), wwns);
        }
        data.put("target_discovered", false);
        data.put("target_lun", FC_LUN);
        data.put("target_wwn", new ArrayList<>(wwns));
        data.put("initiator_target_map", itMap);
        data.put("volume_id", volumeId);
        data.put("discard", false);
      }
      default -> throw new IllegalStateException(name());
    }
    data.put("qos_specs", null);
    data.put("access_mode", mode == null ? "rw" : mode);
    data.put("encrypted", false);
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("driver_volume_type", driverVolumeType);
    info.put("data", data);
    return info;
  }

  static boolean truthy(Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    return value != null && ("true".equalsIgnoreCase(value.toString()) || "1".equals(value.toString()));
  }

  /**
   * The per-volume / per-simulator secrets handed out in connection info, and which site answers: the primary, or
   * the secondary of a failed-over replicated volume (its own portal, IQN, monitors, cluster, user and secrets).
   */
  record ConnectionSecrets(String chapUser, String chapPassword, String cephSecretUuid, String keyring,
      boolean secondary) {}
}
