package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimulatorConnectionInfoTest {
  static final Map<String, Object> ISCSI_CONNECTOR =
      Map.of("ip", "127.0.0.1", "host", "localhost", "initiator", "iqn.1994-05.com.redhat:a13fc3d1cc22");

  static JsonNode connect(SimulatedBackend backend, Map<String, Object> connector, String[] idOut) {
    try (CinderSimulator sim = CinderSimulator.builder().backend(backend).seed(42).start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      String id = c.createVolume("v", 1);
      idOut[0] = id;
      SimClient.Res r = c.action(id, "os-initialize_connection", Map.of("connector", connector));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      JsonNode again = c.action(id, "os-initialize_connection", Map.of("connector", connector)).json();
      assertThat(again).as("stable per volume").isEqualTo(r.json());
      assertThat(sim.volume(id).connector()).containsEntry("host", connector.get("host"));
      return r.json().path("connection_info");
    }
  }

  @Test
  void iscsiWithChap() {
    String[] id = new String[1];
    JsonNode info = connect(SimulatedBackend.ISCSI_CHAP, ISCSI_CONNECTOR, id);
    assertThat(info.path("driver_volume_type").asText()).isEqualTo("iscsi");
    JsonNode d = info.path("data");
    assertThat(d.path("target_portal").asText()).isEqualTo("127.0.0.1:3260");
    assertThat(d.path("target_iqn").asText()).isEqualTo("iqn.2010-10.org.openstack:volume-" + id[0]);
    assertThat(d.path("target_lun").asInt()).isEqualTo(1);
    assertThat(d.path("target_discovered").asBoolean()).isFalse();
    assertThat(d.path("volume_id").asText()).isEqualTo(id[0]);
    assertThat(d.path("auth_method").asText()).isEqualTo("CHAP");
    assertThat(d.path("auth_username").asText()).hasSize(20);
    assertThat(d.path("auth_password").asText()).hasSize(16);
    assertThat(d.path("access_mode").asText()).isEqualTo("rw");
    assertThat(d.has("encrypted")).isTrue();
    assertThat(d.has("qos_specs")).isTrue();
    assertThat(d.has("target_portals")).isFalse();
  }

  @Test
  void iscsiWithoutChapAndSeedDeterminism() {
    String[] id = new String[1];
    JsonNode d = connect(SimulatedBackend.ISCSI, ISCSI_CONNECTOR, id).path("data");
    assertThat(d.has("auth_method")).isFalse();
    String[] id2 = new String[1];
    connect(SimulatedBackend.ISCSI, ISCSI_CONNECTOR, id2);
    assertThat(id2[0]).as("same seed, same ids").isEqualTo(id[0]);
  }

  @Test
  void iscsiMultipathOnlyWhenConnectorAsks() {
    String[] id = new String[1];
    JsonNode single = connect(SimulatedBackend.ISCSI_MULTIPATH, ISCSI_CONNECTOR, id).path("data");
    assertThat(single.has("target_portals")).isFalse();
    Map<String, Object> mp = new java.util.HashMap<>(ISCSI_CONNECTOR);
    mp.put("multipath", true);
    JsonNode d = connect(SimulatedBackend.ISCSI_MULTIPATH, mp, id).path("data");
    assertThat(d.path("target_portals")).hasSize(2);
    assertThat(d.path("target_iqns").get(1).asText()).isEqualTo(d.path("target_iqn").asText());
    assertThat(d.path("target_luns").get(0).asInt()).isEqualTo(1);
  }

  @Test
  void rbdAndKeyring() {
    String[] id = new String[1];
    JsonNode info = connect(SimulatedBackend.RBD, ISCSI_CONNECTOR, id);
    assertThat(info.path("driver_volume_type").asText()).isEqualTo("rbd");
    JsonNode d = info.path("data");
    assertThat(d.path("name").asText()).isEqualTo("volumes/volume-" + id[0]);
    assertThat(d.path("hosts")).hasSize(3);
    assertThat(d.path("ports").get(0).asText()).isEqualTo("6789");
    assertThat(d.path("cluster_name").asText()).isEqualTo("ceph");
    assertThat(d.path("auth_enabled").asBoolean()).isTrue();
    assertThat(d.path("auth_username").asText()).isEqualTo("cinder");
    assertThat(d.path("secret_type").asText()).isEqualTo("ceph");
    assertThat(d.path("secret_uuid").asText()).hasSize(36);
    assertThat(d.has("keyring")).isFalse();
    JsonNode k = connect(SimulatedBackend.RBD_KEYRING, ISCSI_CONNECTOR, id).path("data");
    assertThat(k.path("keyring").asText()).startsWith("[client.cinder]");
  }

  @Test
  void fibreChannelNeedsWwpns() {
    String[] id = new String[1];
    JsonNode info = connect(SimulatedBackend.FC, Map.of("host", "n1", "wwpns", List.of("21000024ff3a5e00")), id);
    assertThat(info.path("driver_volume_type").asText()).isEqualTo("fibre_channel");
    JsonNode d = info.path("data");
    assertThat(d.path("target_wwn")).hasSize(2);
    assertThat(d.path("target_lun").asInt()).isEqualTo(1);
    assertThat(d.path("initiator_target_map").path("21000024ff3a5e00")).hasSize(2);
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.FC).start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      String vid = c.createVolume("fc", 1);
      SimClient.Res r = c.action(vid, "os-initialize_connection", Map.of("connector", ISCSI_CONNECTOR));
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.json().path("badRequest").path("message").asText()).contains("wwpns");
    }
  }
}
