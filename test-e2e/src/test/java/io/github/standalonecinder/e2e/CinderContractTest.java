package io.github.standalonecinder.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.standalonecinder.mappers.ConnectionInfo;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderBackup;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One scenario — create, wait, reserve, connection info, attachments, extend, snapshot, clone, delete, and the
 * errors Cinder returns for bad requests — run through the real gateway against the simulator and, when the lab
 * is up, against the real Cinder. Both must produce the same trace: the simulator is held to what Cinder does.
 */
class CinderContractTest {
  private static final Connector CONNECTOR = new Connector("contract-node", "127.0.0.1",
      "iqn.2004-10.com.example:contract", List.of(), List.of(), false, "x86_64", "linux2");
  /** The fields every iSCSI connection info must carry for the mapper. */
  private static final List<String> ISCSI_KEYS = List.of("target_portal", "target_iqn", "target_lun", "auth_method",
      "auth_username", "auth_password");

  @TempDir
  Path dir;

  @Test
  void simulatorFollowsTheContract() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
        .maxMicroversion("3.70").volumeType("contract", Map.of()).volumeType("contract-2", Map.of())
        .createDelay(Duration.ofMillis(200))
        .backendCapacityGiB(HUGE_GIB - 1).start()) {
      CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
          Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
      assertThat(scenario(g, "contract", "contract-2", sim.endpoint(), sim.noauthToken()))
          .containsExactlyElementsOf(EXPECTED);
    }
  }

  /** The lab in noauth mode (the test is skipped without one) and the real gateway to it. */
  private Lab noauthLab() {
    Optional<Lab> lab = Lab.find();
    org.junit.jupiter.api.Assumptions.assumeTrue(lab.isPresent() && !lab.get().keystone(),
        "needs the real-Cinder lab in noauth mode: " + Lab.whyMissing());
    return lab.get();
  }

  private CinderGateway connect(Lab lab) throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, lab.cloudConf(true));
    return CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()), GatewayOptions.defaults());
  }

  @Test
  void realCinderFollowsTheContract() throws Exception {
    Lab lab = noauthLab();
    CinderGateway g = connect(lab);
    assertThat(scenario(g, lab.get("CINDER_VOLUME_TYPE"), lab.get("CINDER_VOLUME_TYPE_2"),
        lab.get("CINDER_ENDPOINT_WITH_PROJECT"),
        lab.get("CINDER_NOAUTH_TOKEN"))).containsExactlyElementsOf(EXPECTED);
  }

  @Test
  void simulatorFollowsTheBackupContractWithAndWithoutCinderBackup() throws Exception {
    for (boolean service : new boolean[] {true, false}) {
      try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
          .maxMicroversion("3.70").volumeType("contract", Map.of()).createDelay(Duration.ofMillis(200))
          .backupService(service).start()) {
        CinderGateway g = CinderGateways.connect(CloudConfig.load(Optional.empty(),
            Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
        assertThat(backupScenario(g, "contract", sim.endpoint(), sim.noauthToken()))
            .containsExactlyElementsOf(service ? EXPECTED_BACKUPS : EXPECTED_NO_BACKUP_SERVICE);
      }
    }
  }

  /** The lab runs cinder-backup only with LAB_BACKUP=1: the contract of whichever it is. */
  @Test
  void realCinderFollowsTheBackupContract() throws Exception {
    Lab lab = noauthLab();
    CinderGateway g = connect(lab);
    boolean service = "1".equals(lab.env().get("CINDER_BACKUP_AVAILABLE"));
    assertThat(backupScenario(g, lab.get("CINDER_VOLUME_TYPE"), lab.get("CINDER_ENDPOINT_WITH_PROJECT"),
        lab.get("CINDER_NOAUTH_TOKEN")))
        .containsExactlyElementsOf(service ? EXPECTED_BACKUPS : EXPECTED_NO_BACKUP_SERVICE);
  }

  /** Cinder 21 with cinder-backup running (the lab's LAB_BACKUP=1: the posix driver). */
  static final List<String> EXPECTED_BACKUPS = List.of(
      "backup service up -> true",
      "backup of a snapshot -> creating",
      "wait -> available, 2 GiB",
      "its snapshot -> available",
      "its volume -> available",
      "found by name and metadata -> 1",
      "volume from it (backup_id) -> available, 2 GiB",
      "volume from it smaller than it -> BAD_REQUEST",
      "delete -> accepted",
      "get deleted -> empty");

  /**
   * Cinder 21 without cinder-backup: the create is accepted, the scheduler fails the backup, leaves its snapshot
   * backing-up and sets the volume's status to its empty previous_status; a delete is refused with 404.
   */
  static final List<String> EXPECTED_NO_BACKUP_SERVICE = List.of(
      "backup service up -> false",
      "backup of a snapshot -> creating",
      "wait -> error, \"Service not found for creating backup.\", no backup service: true",
      "its snapshot -> backing-up",
      "its volume -> null",
      "user messages -> [create backup:Backup failed to schedule. Service not found for creating backup.]",
      "found by name and metadata -> 1",
      "volume from it (backup_id) -> CONFLICT",
      "delete -> SERVER_ERROR, no backup service: true");

  /**
   * Without cinder-backup the failed backup cannot be deleted (Cinder refuses): on the lab it stays in Cinder's
   * database, in error, under a name of its own; the snapshot and volume are put back and deleted.
   */
  private List<String> backupScenario(CinderGateway g, String type, String endpoint, String token)
      throws Exception {
    List<String> trace = new ArrayList<>();
    String name = "contract-backup-" + java.util.UUID.randomUUID();
    String volumeId = g.createVolume(request("contract-bk", 2, type, null, null)).id();
    String restoredId = null;
    String snapshotId = null;
    try {
      await(g, volumeId, "available");
      trace.add("backup service up -> " + g.backupServiceUp().map(String::valueOf).orElse("unknown"));
      snapshotId = g.createSnapshot(volumeId, name, Map.of(), true).id();
      awaitSnapshot(g, snapshotId);
      CinderBackup created = g.createBackup(volumeId, snapshotId, name, Map.of("contract", "true"), true);
      trace.add("backup of a snapshot -> " + g.getBackup(created.id()).orElseThrow().status());
      CinderBackup b = awaitBackup(g, created.id());
      trace.add("wait -> " + b.status() + ("error".equals(b.status()) ? ", \"" + b.failReason()
          + "\", no backup service: " + CinderException.noBackupService(b.failReason()) : ", " + b.sizeGiB() + " GiB"));
      trace.add("its snapshot -> " + g.getSnapshot(snapshotId).orElseThrow().status());
      trace.add("its volume -> " + g.getVolume(volumeId).orElseThrow().status());
      if ("error".equals(b.status())) {
        trace.add("user messages -> " + awaitMessages(g, b.id()));
      }
      trace.add("found by name and metadata -> " + g.findBackups(name, Map.of("contract", "true")).size());
      String[] made = new String[1];
      String restore = kind(() -> made[0] = g.createVolume(new VolumeCreateRequest("contract-from-backup", 2, type,
          null, null, Map.of("contract", "true"), null, null, b.id(), Map.of())).id());
      restoredId = made[0];
      trace.add("volume from it (backup_id) -> " + ("accepted".equals(restore)
          ? await(g, restoredId, "available").status() + ", " + await(g, restoredId, "available").sizeGiB()
              + " GiB" : restore));
      if ("available".equals(b.status())) {
        trace.add("volume from it smaller than it -> " + kind(() -> g.createVolume(new VolumeCreateRequest(
            "contract-from-backup-small", 1, type, null, null, Map.of("contract", "true"), null, null, b.id(),
            Map.of()))));
      }
      String deleted;
      try {
        deleted = g.deleteBackup(b.id()) ? "accepted" : "already gone";
      } catch (CinderException e) {
        deleted = e.kind() + ", no backup service: " + e.noBackupService();
      }
      trace.add("delete -> " + deleted);
      if ("available".equals(b.status())) {
        Instant deadline = Instant.now().plusSeconds(60);
        while (g.getBackup(b.id()).isPresent() && Instant.now().isBefore(deadline)) {
          Thread.sleep(200);
        }
        trace.add("get deleted -> " + (g.getBackup(b.id()).isEmpty() ? "empty" : "present"));
      }
    } finally {
      if (snapshotId != null && "backing-up".equals(g.getSnapshot(snapshotId).map(CinderSnapshot::status)
          .orElse(""))) {
        send(endpoint, token, "/snapshots/" + snapshotId + "/action",
            "{\"os-reset_status\": {\"status\": \"available\"}}");
      }
      if (!"available".equals(status(g, volumeId))) {
        resetStatus(endpoint, token, volumeId, "available");
      }
      if (snapshotId != null) {
        g.deleteSnapshot(snapshotId);
        awaitSnapshotGone(g, snapshotId);
      }
      if (restoredId != null) {
        await(g, restoredId, "available");
        g.deleteVolume(restoredId);
      }
      g.deleteVolume(volumeId);
    }
    return trace;
  }

  private static CinderBackup awaitBackup(CinderGateway g, String id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(120);
    while (true) {
      CinderBackup b = g.getBackup(id).orElseThrow();
      if (!"creating".equals(b.status()) || Instant.now().isAfter(deadline)) {
        return b;
      }
      Thread.sleep(200);
    }
  }

  /** What Debian's Cinder 21 (Zed) answered, step by step; the simulator must answer the same. */
  static final List<String> EXPECTED = List.of(
      "create -> creating",
      "wait -> available, 1 GiB, type=TYPE",
      "create with unknown type -> NOT_FOUND",
      "create of 0 GiB -> rejected locally",
      "create in unknown zone -> BAD_REQUEST",
      "create larger than the backend -> error, says \"schedule allocate volume:Could not find any available "
          + "weighted backend.\"",
      "user messages of a good volume -> 0",
      "create beside a volume (same_host) -> available",
      // Cinder's default scheduler filters do not include SameBackendFilter / DifferentBackendFilter: hints are
      // accepted and ignored unless the operator enables them.
      "create away from a volume in its zone (different_host) -> available",
      "reserve -> attaching",
      "initialize_connection -> iscsi " + ISCSI_KEYS,
      "terminate_connection -> available",
      "unreserve -> available",
      "attachment create -> volume attaching",
      "attachments listed -> 1",
      "attachment complete -> in-use",
      "retype in use to another type of its backend -> in-use, type=TYPE2",
      "retype to its own type -> CONFLICT",
      "retype back -> in-use, type=TYPE",
      "attachment delete -> available",
      "attachment for a server, complete -> in-use, server listed",
      "reset detached -> available, 0 attachments",
      "extend to 2 -> available, 2 GiB",
      "extend to 1 -> BAD_REQUEST",
      "snapshot -> available",
      "delete volume with snapshot -> CONFLICT",
      "volume from snapshot -> available, 2 GiB",
      "clone -> available, 2 GiB",
      "reset to error, attach -> CONFLICT",
      "delete all -> gone",
      "get deleted -> empty");

  private List<String> scenario(CinderGateway g, String type, String type2, String endpoint, String token)
      throws Exception {
    List<String> trace = new ArrayList<>();
    List<String> made = new ArrayList<>();
    String snapshotId = null;
    try {
      CinderVolume created = g.createVolume(request("contract-a", 1, type, null, null));
      made.add(created.id());
      trace.add("create -> " + created.status());
      final CinderVolume v = await(g, created.id(), "available");
      trace.add("wait -> " + v.status() + ", " + v.sizeGiB() + " GiB, type=" + (type.equals(v.volumeType())
          ? "TYPE" : v.volumeType()));
      trace.add("create with unknown type -> " + kind(() -> g.createVolume(request("contract-x", 1,
          "no-such-type-" + System.nanoTime(), null, null))));
      trace.add("create of 0 GiB -> " + (rejectsLocally(() -> request("contract-0", 0, type, null, null))
          ? "rejected locally" : "sent"));
      trace.add("create in unknown zone -> " + kind(() -> g.createVolume(new VolumeCreateRequest("contract-z", 1,
          type, "no-such-zone-" + System.nanoTime(), null, Map.of("contract", "true"), null, null))));
      CinderVolume huge = g.createVolume(request("contract-huge", HUGE_GIB, type, null, null));
      made.add(huge.id());
      CinderVolume failed = await(g, huge.id(), "available");
      List<String> said = awaitMessages(g, huge.id());
      trace.add("create larger than the backend -> " + failed.status() + ", says "
          + said.stream().map(m -> "\"" + m + "\"").findFirst().orElse("nothing"));
      trace.add("user messages of a good volume -> " + g.listUserMessages(v.id()).size());
      CinderVolume beside = g.createVolume(new VolumeCreateRequest("contract-same", 1, type, null, null,
          Map.of("contract", "true"), null, null, Map.of("same_host", List.of(v.id()))));
      made.add(beside.id());
      trace.add("create beside a volume (same_host) -> " + await(g, beside.id(), "available").status());
      CinderVolume away = g.createVolume(new VolumeCreateRequest("contract-diff", 1, type, null, null,
          Map.of("contract", "true"), null, null, Map.of("different_host", List.of(v.id()))));
      made.add(away.id());
      trace.add("create away from a volume in its zone (different_host) -> " + await(g, away.id(), "available")
          .status());

      g.reserve(v.id());
      trace.add("reserve -> " + status(g, v.id()));
      ConnectionInfo info = g.initializeConnection(v.id(), CONNECTOR);
      trace.add("initialize_connection -> " + info.driverVolumeType() + " "
          + ISCSI_KEYS.stream().filter(info.data()::containsKey).toList());
      g.terminateConnection(v.id(), CONNECTOR);
      trace.add("terminate_connection -> " + status(g, v.id()));
      g.unreserve(v.id());
      trace.add("unreserve -> " + status(g, v.id()));

      var attachment = g.createAttachment(v.id(), CONNECTOR, CONNECTOR.host());
      trace.add("attachment create -> volume " + status(g, v.id()));
      trace.add("attachments listed -> " + g.listAttachments(v.id()).size());
      g.completeAttachment(attachment.id());
      trace.add("attachment complete -> " + status(g, v.id()));
      g.retypeVolume(v.id(), type2, "never");
      CinderVolume retyped = awaitNot(g, v.id(), "retyping");
      trace.add("retype in use to another type of its backend -> " + retyped.status() + ", type="
          + (type2.equals(retyped.volumeType()) ? "TYPE2" : retyped.volumeType()));
      trace.add("retype to its own type -> " + kind(() -> g.retypeVolume(v.id(), type2, "never")));
      g.retypeVolume(v.id(), type, "never");
      CinderVolume back = awaitNot(g, v.id(), "retyping");
      trace.add("retype back -> " + back.status() + ", type=" + (type.equals(back.volumeType()) ? "TYPE"
          : back.volumeType()));
      g.deleteAttachment(attachment.id());
      trace.add("attachment delete -> " + await(g, v.id(), "available").status());

      // A Nova server's attachment (instance uuid, the compute host's connector): what unexport must leave alone.
      CinderVolume served = await(g, createTracked(g, made, request("contract-n", 1, type, null, null)), "available");
      String novaAttachment = novaAttach(endpoint, token, served.id());
      send(endpoint, token, "/attachments/" + novaAttachment + "/action", "{\"os-complete\": null}");
      CinderVolume inUse = g.getVolume(served.id()).orElseThrow();
      trace.add("attachment for a server, complete -> " + inUse.status() + ", server "
          + (inUse.attachments().stream().anyMatch(a -> SERVER.equals(a.serverId())) ? "listed" : "missing"));
      send(endpoint, token, "/volumes/" + served.id() + "/action",
          "{\"os-reset_status\": {\"status\": \"available\", \"attach_status\": \"detached\"}}");
      trace.add("reset detached -> " + status(g, served.id()) + ", " + g.listAttachments(served.id()).size()
          + " attachments");

      g.extendVolume(v.id(), 2);
      CinderVolume extended = await(g, v.id(), "available");
      for (int i = 0; i < 50 && extended.sizeGiB() < 2; i++) {
        Thread.sleep(100);
        extended = await(g, v.id(), "available");
      }
      trace.add("extend to 2 -> " + extended.status() + ", " + extended.sizeGiB() + " GiB");
      trace.add("extend to 1 -> " + kind(() -> g.extendVolume(v.id(), 1)));

      var snapshot = g.createSnapshot(v.id(), "contract-snap", Map.of(), false);
      snapshotId = snapshot.id();
      trace.add("snapshot -> " + awaitSnapshot(g, snapshot.id()));
      trace.add("delete volume with snapshot -> " + kind(() -> g.deleteVolume(v.id())));
      CinderVolume fromSnapshot = g.createVolume(request("contract-s", 2, type, null, snapshot.id()));
      made.add(fromSnapshot.id());
      fromSnapshot = await(g, fromSnapshot.id(), "available");
      trace.add("volume from snapshot -> " + fromSnapshot.status() + ", " + fromSnapshot.sizeGiB() + " GiB");
      CinderVolume clone = g.createVolume(request("contract-c", 2, type, v.id(), null));
      made.add(clone.id());
      clone = await(g, clone.id(), "available");
      trace.add("clone -> " + clone.status() + ", " + clone.sizeGiB() + " GiB");

      resetStatus(endpoint, token, clone.id(), "error");
      String cloneId = clone.id();
      trace.add("reset to error, attach -> " + kind(() -> g.createAttachment(cloneId, CONNECTOR, "x")));
      resetStatus(endpoint, token, clone.id(), "available");
    } finally {
      if (snapshotId != null) {
        g.deleteSnapshot(snapshotId);
        awaitSnapshotGone(g, snapshotId);
      }
      for (String id : made) {
        for (var a : g.listAttachments(id)) {
          g.deleteAttachment(a.id());
        }
        await(g, id, "available");
        g.deleteVolume(id);
      }
    }
    Instant deadline = Instant.now().plusSeconds(60);
    while (made.stream().anyMatch(id -> g.getVolume(id).isPresent()) && Instant.now().isBefore(deadline)) {
      Thread.sleep(200);
    }
    trace.add("delete all -> " + (made.stream().allMatch(id -> g.getVolume(id).isEmpty()) ? "gone" : "still there"));
    trace.add("get deleted -> " + (g.getVolume(made.get(0)).isEmpty() ? "empty" : "present"));
    return trace;
  }

  /** A server's id, as Nova would send it. */
  private static final String SERVER = "4a1d1c6e-1f7b-4c5e-9d3f-0123456789ab";
  /** More than the lab's backend (and the simulator's, as the contract test builds it) has room for. */
  static final int HUGE_GIB = 60_000;

  private static String createTracked(CinderGateway g, List<String> made, VolumeCreateRequest r) {
    String id = g.createVolume(r).id();
    made.add(id);
    return id;
  }

  /** Cinder writes the user message a moment after the volume's status: wait a little for it. */
  private static List<String> awaitMessages(CinderGateway g, String id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(20);
    List<String> said = g.listUserMessages(id);
    while (said.isEmpty() && Instant.now().isBefore(deadline)) {
      Thread.sleep(200);
      said = g.listUserMessages(id);
    }
    return said;
  }

  private static String novaAttach(String endpoint, String token, String volumeId) throws Exception {
    String body = send(endpoint, token, "/attachments", "{\"attachment\": {\"volume_uuid\": \"" + volumeId
        + "\", \"instance_uuid\": \"" + SERVER + "\", \"connector\": {\"host\": \"compute-1\", \"ip\": "
        + "\"127.0.0.1\", \"initiator\": \"iqn.1993-08.org.debian:01:nova-compute-1\"}}}");
    return body.replaceAll("(?s).*\"attachment\"\\s*:\\s*\\{.*?\"id\"\\s*:\\s*\"([0-9a-f-]+)\".*", "$1");
  }

  private static String send(String endpoint, String token, String path, String json) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint + path))
        .header("X-Auth-Token", token).header("OpenStack-API-Version", "volume 3.44")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isLessThan(300);
    return r.body();
  }

  private static VolumeCreateRequest request(String name, int size, String type, String source, String snapshot) {
    return new VolumeCreateRequest(name, size, type, null, null, Map.of("contract", "true"), source, snapshot);
  }

  private static boolean rejectsLocally(Supplier<VolumeCreateRequest> build) {
    try {
      build.get();
      return false;
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  private static String kind(Runnable call) {
    try {
      call.run();
      return "accepted";
    } catch (CinderException e) {
      return e.kind().name();
    }
  }

  private static String status(CinderGateway g, String id) {
    return g.getVolume(id).map(CinderVolume::status).orElse("gone");
  }

  private static CinderVolume await(CinderGateway g, String id, String wanted) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    TreeSet<String> seen = new TreeSet<>();
    while (true) {
      CinderVolume v = g.getVolume(id).orElseThrow();
      seen.add(v.status());
      if (v.hasStatus(wanted) || v.status().startsWith("error") || Instant.now().isAfter(deadline)) {
        return v;
      }
      Thread.sleep(100);
    }
  }

  private static CinderVolume awaitNot(CinderGateway g, String id, String passing) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (true) {
      CinderVolume v = g.getVolume(id).orElseThrow();
      if (!v.hasStatus(passing) || Instant.now().isAfter(deadline)) {
        return v;
      }
      Thread.sleep(100);
    }
  }

  private static String awaitSnapshot(CinderGateway g, String id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (true) {
      String s = g.getSnapshot(id).orElseThrow().status();
      if (!s.equals("creating") || Instant.now().isAfter(deadline)) {
        return s;
      }
      Thread.sleep(100);
    }
  }

  private static void awaitSnapshotGone(CinderGateway g, String id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (g.getSnapshot(id).isPresent() && Instant.now().isBefore(deadline)) {
      Thread.sleep(100);
    }
  }

  /** os-reset_status is an admin action the provisioner never uses, so the gateway does not offer it. */
  private static void resetStatus(String endpoint, String token, String id, String status) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(endpoint + "/volumes/" + id + "/action"))
        .header("X-Auth-Token", token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"os-reset_status\": {\"status\": \"" + status + "\"}}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
  }
}
