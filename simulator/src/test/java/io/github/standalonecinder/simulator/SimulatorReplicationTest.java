package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A replicated backend: replication fields, the admin failover API, and what new exports answer after it. */
class SimulatorReplicationTest {
  static final Map<String, Object> CONNECTOR = SimulatorConnectionInfoTest.ISCSI_CONNECTOR;

  static CinderSimulator replicated(SimulatedBackend backend) {
    return CinderSimulator.builder().backend(backend).replication("secondary")
        .volumeType("replicated", Map.of("replication_enabled", "<is> True"))
        .volumeType("plain", Map.of()).start();
  }

  static String create(SimClient c, String type) {
    SimClient.Res r = c.post("/volumes", Map.of("volume", Map.of("name", type, "size", 1, "volume_type", type)));
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    String id = r.json().path("volume").path("id").asText();
    await().atMost(Duration.ofSeconds(5)).until(() -> c.status(id).equals("available"));
    return id;
  }

  static JsonNode attach(SimClient c, String volumeId) {
    SimClient.Res r = c.post("/attachments", Map.of("attachment", Map.of("volume_uuid", volumeId,
        "connector", CONNECTOR)));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().path("attachment");
  }

  static SimClient.Res failover(SimClient c, String host, String backendId) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("host", host);
    body.put("backend_id", backendId);
    return c.put("/os-services/failover_host", body);
  }

  static JsonNode volumeService(SimClient c) {
    for (JsonNode s : c.get("/os-services").json().path("services")) {
      if (s.path("binary").asText().equals("cinder-volume")) {
        return s;
      }
    }
    throw new AssertionError("no cinder-volume service");
  }

  @Test
  void failoverSwitchesNewExportsToTheSecondaryAndFailbackBack() {
    try (CinderSimulator sim = replicated(SimulatedBackend.ISCSI_CHAP)) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken()).microversion("3.44");
      String rep = create(c, "replicated");
      String plain = create(c, "plain");
      assertThat(c.get("/volumes/" + rep).json().path("volume").path("replication_status").asText())
          .isEqualTo("enabled");
      assertThat(c.get("/volumes/" + plain).json().path("volume").path("replication_status").asText())
          .isEqualTo("disabled");
      JsonNode before = attach(c, rep);
      JsonNode service = volumeService(c);
      assertThat(service.path("host").asText()).isEqualTo(sim.serviceHost());
      assertThat(service.path("replication_status").asText()).isEqualTo("enabled");
      assertThat(service.path("active_backend_id").isNull()).isTrue();

      SimClient.Res r = failover(c, sim.serviceHost(), "secondary");
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(5)).until(() -> volumeService(c).path("replication_status").asText()
          .equals("failed-over"));
      assertThat(volumeService(c).path("active_backend_id").asText()).isEqualTo("secondary");
      assertThat(sim.volume(rep).replicationStatus()).isEqualTo("failed-over");
      assertThat(c.status(plain)).as("a volume that does not replicate is lost with its site").isEqualTo("error");
      assertThat(sim.volume(plain).replicationStatus()).isEqualTo("not-capable");

      // The old attachment keeps the old values; a new one answers the secondary's portal, IQN and CHAP pair.
      String oldId = before.path("id").asText();
      assertThat(c.get("/attachments/" + oldId).json().path("attachment").path("connection_info")
          .path("target_portal").asText()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);
      assertThat(c.delete("/attachments/" + oldId).status()).isEqualTo(200);
      JsonNode after = attach(c, rep).path("connection_info");
      assertThat(after.path("target_portal").asText()).isEqualTo(SimulatedBackend.SECONDARY_ISCSI_PORTAL);
      assertThat(after.path("target_iqn").asText()).isEqualTo(SimulatedBackend.secondaryIqnFor(rep));
      assertThat(after.path("auth_username").asText())
          .isNotEqualTo(before.path("connection_info").path("auth_username").asText());
      assertThat(after.path("auth_password").asText())
          .isNotEqualTo(before.path("connection_info").path("auth_password").asText());

      // Failing over again to the same site is refused by the manager (the service stays failed over).
      assertThat(failover(c, sim.serviceHost(), "secondary").status()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(5)).until(() -> volumeService(c).path("replication_status").asText()
          .equals("failed-over"));

      assertThat(failover(c, sim.serviceHost(), "default").status()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(5)).until(() -> volumeService(c).path("replication_status").asText()
          .equals("enabled"));
      assertThat(volumeService(c).path("active_backend_id").isNull()).isTrue();
      assertThat(sim.volume(rep).replicationStatus()).isEqualTo("enabled");
      JsonNode init = c.action(rep, "os-initialize_connection", Map.of("connector", CONNECTOR)).json()
          .path("connection_info").path("data");
      assertThat(init.path("target_portal").asText()).isEqualTo(SimulatedBackend.ISCSI_PORTAL);
      assertThat(init.path("target_iqn").asText()).isEqualTo(SimulatedBackend.iqnFor(rep));
      assertThat(init.path("auth_password").asText())
          .isEqualTo(before.path("connection_info").path("auth_password").asText());
    }
  }

  @Test
  void rbdFailoverAnswersTheSecondaryMonitorsClusterAndUser() {
    try (CinderSimulator sim = replicated(SimulatedBackend.RBD)) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      String rep = create(c, "replicated");
      assertThat(failover(c, sim.serviceHost(), null).status()).as("null: the only target").isEqualTo(202);
      await().atMost(Duration.ofSeconds(5)).until(() -> "failed-over".equals(sim.volume(rep).replicationStatus()));
      JsonNode d = c.action(rep, "os-initialize_connection", Map.of("connector", CONNECTOR)).json()
          .path("connection_info").path("data");
      assertThat(d.path("hosts").get(0).asText()).isEqualTo(SimulatedBackend.SECONDARY_RBD_HOSTS.get(0));
      assertThat(d.path("cluster_name").asText()).isEqualTo(SimulatedBackend.SECONDARY_RBD_CLUSTER);
      assertThat(d.path("auth_username").asText()).isEqualTo(SimulatedBackend.SECONDARY_RBD_USER);
    }
  }

  @Test
  void badFailoverRequestsAreRefusedAsCinderRefusesThem() {
    try (CinderSimulator sim = replicated(SimulatedBackend.ISCSI_CHAP);
        CinderSimulator plain = CinderSimulator.builder().start()) {
      SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
      SimClient.Res unknownHost = failover(c, "elsewhere@lvm", "secondary");
      assertThat(unknownHost.status()).isEqualTo(400);
      assertThat(unknownHost.raw().body()).contains("Service elsewhere@lvm could not be found.");
      assertThat(c.put("/os-services/failover_host", Map.of("host", sim.serviceHost(), "x", 1)).status())
          .isEqualTo(400);
      assertThat(c.put("/os-services/failover_host", Map.of("backend_id", "secondary")).status()).isEqualTo(400);
      assertThat(c.put("/os-services/frobnicate", Map.of("host", sim.serviceHost())).status()).isEqualTo(400);
      assertThat(c.get("/volumes/" + create(c, "replicated")).json().path("volume").path("replication_status")
          .asText()).isEqualTo("enabled");

      SimClient p = new SimClient(plain.endpoint(), plain.noauthToken());
      SimClient.Res notReplicating = failover(p, plain.serviceHost(), "secondary");
      assertThat(notReplicating.status()).isEqualTo(400);
      assertThat(notReplicating.raw().body()).contains("must be enabled or failed-over");
      assertThat(volumeService(p).path("replication_status").asText()).isEqualTo("not-capable");
      String id = p.createVolume("v", 1);
      assertThat(p.get("/volumes/" + id).json().path("volume").path("replication_status").isNull())
          .as("no replication configured: as before").isTrue();
    }
  }
}
