package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimulatorVolumeLifecycleTest {
  static CinderSimulator sim;
  SimClient c;

  @BeforeAll
  static void start() {
    sim = CinderSimulator.builder().projectId("p1").createDelay(Duration.ofMillis(50))
        .volumeType("fast", Map.of("volume_backend_name", "lvm"))
        .volumeType("multi", Map.of("multiattach", "<is> True"))
        .availabilityZones("nova", "az2").start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @BeforeEach
  void client() {
    c = new SimClient(sim.endpoint(), sim.noauthToken());
  }

  String available(String name, int size) {
    String id = c.createVolume(name, size);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(id).equals("available"));
    return id;
  }

  @Test
  void fullProvisionerLifecycleGoesThroughCinderStatuses() {
    SimClient.Res created = c.post("/volumes", Map.of("volume",
        Map.of("name", "pvc-1", "display_name", "pvc-1", "size", 2, "metadata", Map.of("pvc", "ns/claim"))));
    assertThat(created.status()).isEqualTo(202);
    var v = created.json().path("volume");
    assertThat(v.path("status").asText()).isEqualTo("creating");
    assertThat(v.path("name").asText()).isEqualTo("pvc-1");
    assertThat(v.path("bootable").asText()).isEqualTo("false");
    assertThat(v.path("volume_type").asText()).isEqualTo("__DEFAULT__");
    assertThat(v.path("availability_zone").asText()).isEqualTo("nova");
    assertThat(v.path("os-vol-tenant-attr:tenant_id").asText()).isEqualTo("p1");
    assertThat(v.path("metadata").path("pvc").asText()).isEqualTo("ns/claim");
    assertThat(v.path("links").get(0).path("href").asText()).isEqualTo(sim.endpoint() + "/volumes/" + v.path("id")
        .asText());
    String id = v.path("id").asText();
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(id).equals("available"));

    assertThat(c.action(id, "os-reserve", Map.of()).status()).isEqualTo(202);
    assertThat(c.status(id)).isEqualTo("attaching");
    SimClient.Res init = c.action(id, "os-initialize_connection",
        Map.of("connector", Map.of("ip", "127.0.0.1", "host", "localhost", "initiator", "iqn.1994-05.com.redhat:x")));
    assertThat(init.status()).isEqualTo(200);
    assertThat(init.json().path("connection_info").path("driver_volume_type").asText()).isEqualTo("iscsi");
    assertThat(c.action(id, "os-attach", Map.of("mountpoint", "/k8s.io/standalone-cinder",
        "host_name", "standalone-cinder.k8s.io", "mode", "rw")).status()).isEqualTo(202);
    var attached = c.get("/volumes/" + id).json().path("volume");
    assertThat(attached.path("status").asText()).isEqualTo("in-use");
    assertThat(attached.path("attachments")).hasSize(1);
    assertThat(attached.path("attachments").get(0).path("host_name").asText()).isEqualTo("standalone-cinder.k8s.io");
    assertThat(attached.path("attachments").get(0).path("device").asText()).isEqualTo("/k8s.io/standalone-cinder");

    assertThat(c.action(id, "os-begin_detaching", Map.of()).status()).isEqualTo(202);
    assertThat(c.action(id, "os-detach", Map.of()).status()).isEqualTo(202);
    assertThat(c.action(id, "os-terminate_connection", Map.of("connector", Map.of("host", "localhost"))).status())
        .isEqualTo(202);
    assertThat(c.action(id, "os-unreserve", Map.of()).status()).isEqualTo(202);
    assertThat(c.status(id)).isEqualTo("available");
    assertThat(c.delete("/volumes/" + id).status()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.get("/volumes/" + id).status() == 404);
    assertThat(sim.statusHistory(id)).containsExactly("creating", "available", "attaching", "in-use", "detaching",
        "available", "deleting", "deleted");
    SimClient.Res gone = c.get("/volumes/" + id);
    assertThat(gone.json().path("itemNotFound").path("message").asText())
        .isEqualTo("Volume " + id + " could not be found.");
    assertThat(gone.json().path("itemNotFound").path("code").asInt()).isEqualTo(404);
  }

  @Test
  void wrongStateActionsFailLikeCinder() {
    String id = available("wrong-state", 1);
    SimClient.Res detaching = c.action(id, "os-begin_detaching", Map.of());
    assertThat(detaching.status()).isEqualTo(400);
    assertThat(detaching.json().path("badRequest").path("message").asText()).isEqualTo("Invalid volume: Unable to"
        + " detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
    c.action(id, "os-reserve", Map.of());
    SimClient.Res again = c.action(id, "os-reserve", Map.of());
    assertThat(again.status()).isEqualTo(400);
    assertThat(again.json().path("badRequest").path("message").asText())
        .isEqualTo("Invalid volume: Volume status must be available to reserve, but the status is attaching.");
    SimClient.Res del = c.delete("/volumes/" + id);
    assertThat(del.status()).isEqualTo(400);
    assertThat(del.json().path("badRequest").path("message").asText()).startsWith("Invalid volume: Volume status"
        + " must be available or error or error_restoring or error_extending or error_managing and must not be"
        + " migrating, attached");
    c.action(id, "os-attach", Map.of("mountpoint", "/m", "host_name", "h1"));
    SimClient.Res second = c.action(id, "os-attach", Map.of("mountpoint", "/m", "host_name", "h2"));
    assertThat(second.status()).isEqualTo(400);
    assertThat(second.json().path("badRequest").path("message").asText()).contains("volume is already attached");
    assertThat(c.delete("/volumes/" + id).status()).isEqualTo(400);
    SimClient.Res forced = c.action(id, "os-force_delete", Map.of());
    assertThat(forced.status()).as("attached volumes cannot even be force-deleted").isEqualTo(400);
    assertThat(c.action(id, "os-unknown", Map.of()).json().path("badRequest").path("message").asText())
        .isEqualTo("There is no such action: os-unknown");
    assertThat(c.action("nope", "os-reserve", Map.of()).status()).isEqualTo(404);
    assertThat(c.action(id, "os-initialize_connection", Map.of()).status()).isEqualTo(400);
  }

  @Test
  void extendHonoursStatusAndMicroversion() {
    String id = available("ext", 1);
    SimClient.Res same = c.action(id, "os-extend", Map.of("new_size", 1));
    assertThat(same.status()).isEqualTo(400);
    assertThat(same.json().path("badRequest").path("message").asText()).isEqualTo("Invalid input received: New size"
        + " for extend must be greater than current size. (current: 1, extended: 1).");
    assertThat(c.action(id, "os-extend", Map.of("new_size", 3)).status()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(3)).until(() -> sim.volume(id).size() == 3
        && sim.volume(id).status().equals("available"));
    assertThat(sim.statusHistory(id)).containsSubsequence("available", "extending", "available");

    c.action(id, "os-reserve", Map.of());
    c.action(id, "os-attach", Map.of("mountpoint", "/m", "host_name", "h"));
    SimClient.Res inUse = c.action(id, "os-extend", Map.of("new_size", 4));
    assertThat(inUse.status()).isEqualTo(400);
    assertThat(inUse.json().path("badRequest").path("message").asText()).isEqualTo("Invalid volume: Volume " + id
        + " status must be '{'status': 'available'}' to extend, currently in-use.");
    SimClient c342 = new SimClient(sim.endpoint(), sim.noauthToken()).microversion("3.42");
    assertThat(c342.action(id, "os-extend", Map.of("new_size", 4)).status()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(3)).until(() -> sim.volume(id).size() == 4
        && sim.volume(id).status().equals("in-use"));
  }

  @Test
  void detachAndResetStatusAndRollDetaching() {
    String id = available("multi", 1);
    c.action(id, "os-attach", Map.of("mountpoint", "/a", "host_name", "h1"));
    c.action(id, "os-begin_detaching", Map.of());
    assertThat(c.status(id)).isEqualTo("detaching");
    c.action(id, "os-roll_detaching", Map.of());
    assertThat(c.status(id)).isEqualTo("in-use");
    SimClient.Res reset = c.action(id, "os-reset_status", Map.of("status", "deleting"));
    assertThat(reset.status()).isEqualTo(400);
    assertThat(c.action(id, "os-reset_status", Map.of("status", "available", "attach_status", "detached")).status())
        .isEqualTo(202);
    var v = sim.volume(id);
    assertThat(v.status()).isEqualTo("available");
    assertThat(v.attachments()).isEmpty();
    SimClient.Res inUse = c.action(id, "os-reset_status", Map.of("status", "in-use"));
    assertThat(inUse.json().path("badRequest").path("message").asText())
        .isEqualTo("Cannot reset-state to in-use because volume does not have any attachments.");
    sim.faults().failVolume(id);
    assertThat(c.status(id)).isEqualTo("error");
    assertThat(c.delete("/volumes/" + id).status()).as("error volumes can be deleted").isEqualTo(202);
  }

  @Test
  void multiattachTypeAllowsTwoAttachmentsAndNeedsAttachmentIdToDetach() {
    String id = c.post("/volumes", Map.of("volume", Map.of("name", "shared", "size", 1, "volume_type", "multi")))
        .json().path("volume").path("id").asText();
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(id).equals("available"));
    assertThat(c.get("/volumes/" + id).json().path("volume").path("multiattach").asBoolean()).isTrue();
    c.action(id, "os-attach", Map.of("mountpoint", "/a", "host_name", "h1"));
    assertThat(c.action(id, "os-reserve", Map.of()).status()).isEqualTo(202);
    assertThat(c.action(id, "os-attach", Map.of("mountpoint", "/a", "host_name", "h2")).status()).isEqualTo(202);
    SimClient.Res ambiguous = c.action(id, "os-detach", Map.of());
    assertThat(ambiguous.status()).isEqualTo(400);
    assertThat(ambiguous.json().path("badRequest").path("message").asText()).contains("More than one attachment");
    List<SimAttachment> atts = sim.volume(id).attachments();
    assertThat(c.action(id, "os-detach", Map.of("attachment_id", atts.get(0).id())).status()).isEqualTo(202);
    assertThat(c.status(id)).isEqualTo("in-use");
    assertThat(c.action(id, "os-detach", Map.of("attachment_id", atts.get(1).id())).status()).isEqualTo(202);
    assertThat(c.status(id)).isEqualTo("available");
  }

  @Test
  void createValidation() {
    SimClient.Res type = c.post("/volumes", Map.of("volume", Map.of("size", 1, "volume_type", "gold")));
    assertThat(type.status()).isEqualTo(404);
    assertThat(type.json().path("itemNotFound").path("message").asText())
        .isEqualTo("Volume type with name gold could not be found.");
    SimClient.Res az = c.post("/volumes", Map.of("volume", Map.of("size", 1, "availability_zone", "moon")));
    assertThat(az.status()).isEqualTo(400);
    assertThat(az.json().path("badRequest").path("message").asText()).isEqualTo("Availability zone 'moon' is invalid.");
    assertThat(c.post("/volumes", Map.of("volume", Map.of("size", 0))).status()).isEqualTo(400);
    assertThat(c.post("/volumes", Map.of("nothing", Map.of())).status()).isEqualTo(400);
    assertThat(c.post("/volumes", "{not json").status()).isEqualTo(400);
    SimClient.Res ok = c.post("/volumes", Map.of("volume", Map.of("size", 1, "volume_type", "fast",
        "availability_zone", "az2", "display_name", "legacy")));
    assertThat(ok.json().path("volume").path("volume_type").asText()).isEqualTo("fast");
    assertThat(ok.json().path("volume").path("name").asText()).isEqualTo("legacy");
    assertThat(ok.json().path("volume").path("availability_zone").asText()).isEqualTo("az2");
  }

  @Test
  void snapshotsClonesAndDeleteProtection() {
    String id = available("src", 2);
    String snapBody = "{\"snapshot\": {\"volume_id\": \"" + id + "\", \"name\": \"s1\", \"metadata\": {\"k\": \"v\"}}}";
    SimClient.Res snap = c.post("/snapshots", snapBody);
    assertThat(snap.status()).isEqualTo(202);
    String snapId = snap.json().path("snapshot").path("id").asText();
    await().atMost(Duration.ofSeconds(3)).until(() -> c.get("/snapshots/" + snapId).json().path("snapshot")
        .path("status").asText().equals("available"));
    SimClient.Res blocked = c.delete("/volumes/" + id);
    assertThat(blocked.status()).isEqualTo(400);
    assertThat(blocked.json().path("badRequest").path("message").asText()).contains("have snapshots");
    SimClient.Res small = c.post("/volumes", Map.of("volume", Map.of("size", 1, "snapshot_id", snapId)));
    assertThat(small.status()).isEqualTo(400);
    SimClient.Res fromSnap = c.post("/volumes", Map.of("volume", Map.of("snapshot_id", snapId)));
    assertThat(fromSnap.status()).isEqualTo(202);
    assertThat(fromSnap.json().path("volume").path("size").asInt()).isEqualTo(2);
    assertThat(fromSnap.json().path("volume").path("snapshot_id").asText()).isEqualTo(snapId);
    SimClient.Res clone = c.post("/volumes", Map.of("volume", Map.of("size", 5, "source_volid", id)));
    assertThat(clone.json().path("volume").path("source_volid").asText()).isEqualTo(id);
    assertThat(c.get("/snapshots/detail?metadata=" + java.net.URLEncoder.encode("{\"k\":\"v\"}",
        java.nio.charset.StandardCharsets.UTF_8)).json().path("snapshots")).hasSize(1);

    c.action(id, "os-attach", Map.of("mountpoint", "/m", "host_name", "h"));
    SimClient.Res inUse = c.post("/snapshots", Map.of("snapshot", Map.of("volume_id", id)));
    assertThat(inUse.status()).isEqualTo(400);
    assertThat(inUse.json().path("badRequest").path("message").asText()).isEqualTo("Invalid volume: Volume " + id
        + " status must be available, but current status is: in-use.");
    assertThat(c.post("/snapshots", Map.of("snapshot", Map.of("volume_id", id, "force", true))).status())
        .isEqualTo(202);
    assertThat(c.delete("/snapshots/" + snapId).status()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.get("/snapshots/" + snapId).status() == 404);
  }

  @Test
  void metadataEndpoints() {
    String id = c.createVolume("md", 1);
    assertThat(c.put("/volumes/" + id + "/metadata", Map.of("metadata", Map.of("a", "1"))).json()
        .path("metadata").path("a").asText()).isEqualTo("1");
    c.post("/volumes/" + id + "/metadata", Map.of("metadata", Map.of("b", "2")));
    assertThat(c.get("/volumes/" + id + "/metadata").json().path("metadata").size()).isEqualTo(2);
    assertThat(sim.volume(id).metadata()).containsEntry("a", "1").containsEntry("b", "2");
  }
}
