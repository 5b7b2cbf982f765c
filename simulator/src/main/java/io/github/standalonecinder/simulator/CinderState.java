package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Resources and state machine of the simulated Cinder. Statuses, checks and messages follow
 * {@code cinder/volume/api.py}, {@code cinder/volume/manager.py}, {@code cinder/api/contrib/volume_actions.py},
 * {@code admin_actions.py} and {@code cinder/api/v3/attachments.py}; views follow {@code cinder/api/v3/views/}.
 * Every mutation of a volume happens while holding that volume's monitor.
 */
final class CinderState {
  static final DateTimeFormatter CINDER_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);
  static final List<String> DELETABLE =
      List.of("available", "error", "error_restoring", "error_extending", "error_managing");
  static final String DEFAULT_TYPE = "__DEFAULT__";

  private final CinderSimulator.Builder cfg;
  private final ScheduledExecutorService scheduler;
  private final SimulatorFaults faults;
  private final ObjectMapper mapper;
  private final Random random;
  private final AtomicLong seq = new AtomicLong();
  private final Object quotaLock = new Object();
  final Map<String, Vol> volumes = new ConcurrentHashMap<>();
  final Map<String, Snap> snapshots = new ConcurrentHashMap<>();
  final BackupState backups;
  final Map<String, Att> attachments = new ConcurrentHashMap<>();
  final Map<String, List<String>> histories = new ConcurrentHashMap<>();
  /** Volume types by id, in configuration order. */
  final Map<String, VolType> types = new LinkedHashMap<>();
  final String cephSecretUuid;
  final String keyring;
  /** The secondary site's cephx secret and keyring (a replicated backend's volumes after failover). */
  final String secondaryCephSecretUuid;
  final String secondaryKeyring;
  /** The cinder-volume service's replication state ({@link CinderSimulator.Builder#replication}). */
  final Replication replication;
  /** Where volume creates and deletes are worked on: as many at once as the backend's capacity allows. */
  final BackendCapacity.Slots backend;

  CinderState(CinderSimulator.Builder cfg, ScheduledExecutorService scheduler, SimulatorFaults faults,
      ObjectMapper mapper) {
    this.cfg = cfg;
    this.scheduler = scheduler;
    this.faults = faults;
    this.mapper = mapper;
    this.random = cfg.seed == null ? new Random() : new Random(cfg.seed);
    this.backups = new BackupState(this, cfg);
    this.backend = new BackendCapacity.Slots(cfg.capacity, this::schedule);
    VolType def = new VolType(newId(), DEFAULT_TYPE, "Default Volume Type", Map.of());
    types.put(def.id, def);
    cfg.volumeTypes.forEach((name, specs) -> {
      VolType t = new VolType(newId(), name, null, specs);
      types.put(t.id, t);
    });
    this.cephSecretUuid = newId();
    byte[] key = new byte[28];
    random.nextBytes(key);
    this.keyring = "[client." + SimulatedBackend.RBD_USER + "]\n\tkey = "
        + java.util.Base64.getEncoder().encodeToString(key) + "\n";
    this.secondaryCephSecretUuid = newId();
    random.nextBytes(key);
    this.secondaryKeyring = "[client." + SimulatedBackend.SECONDARY_RBD_USER + "]\n\tkey = "
        + java.util.Base64.getEncoder().encodeToString(key) + "\n";
    this.replication = new Replication(serviceHost(), cfg.replicationTarget);
  }

  /** The cinder-volume service's host, as {@code os-services} lists it and {@code failover_host} names it. */
  String serviceHost() {
    return "simulator@" + cfg.backend.name().toLowerCase(java.util.Locale.ROOT);
  }

  // ------------------------------------------------------------------ model

  static final class VolType {
    final String id;
    final String name;
    final String description;
    final Map<String, String> extraSpecs;

    VolType(String id, String name, String description, Map<String, String> extraSpecs) {
      this.id = id;
      this.name = name;
      this.description = description;
      this.extraSpecs = Map.copyOf(extraSpecs);
    }

    boolean multiattach() {
      return isTrue("multiattach");
    }

    /** {@code replication_enabled='<is> True'}: volumes of this type are replicated to the secondary site. */
    boolean replicated() {
      return isTrue("replication_enabled");
    }

    private boolean isTrue(String spec) {
      String v = extraSpecs.get(spec);
      return v != null && v.replace("<is>", "").trim().equalsIgnoreCase("true");
    }
  }

  static final class Vol {
    final String id;
    final long seq;
    final String projectId;
    final String userId;
    String name;
    String description;
    int size;
    final String az;
    String typeId;
    String status;
    String attachStatus = "detached";
    final Instant createdAt;
    Instant updatedAt;
    final Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, List<String>> schedulerHints = Map.of();
    final String snapshotId;
    final String sourceVolid;
    /** The backup it was made from ({@code backup_id}), or null. */
    String backupId;
    final boolean multiattach;
    boolean bootable;
    final List<Att> atts = new ArrayList<>();
    Map<String, Object> connector;
    final String chapUser;
    final String chapPassword;
    boolean gone;
    /** Cinder's replication_status; null on a simulator without replication. */
    String replicationStatus;
    /** The CHAP pair the secondary site exports this volume with. */
    String secondaryChapUser;
    String secondaryChapPassword;

    Vol(String id, long seq, String projectId, String userId, String az, String typeId, String snapshotId,
        String sourceVolid, boolean multiattach, String chapUser, String chapPassword) {
      this.id = id;
      this.seq = seq;
      this.projectId = projectId;
      this.userId = userId;
      this.az = az;
      this.typeId = typeId;
      this.snapshotId = snapshotId;
      this.sourceVolid = sourceVolid;
      this.multiattach = multiattach;
      this.chapUser = chapUser;
      this.chapPassword = chapPassword;
      this.createdAt = Instant.now();
      this.updatedAt = createdAt;
    }
  }

  static final class Att {
    final String id;
    final String volumeId;
    String instanceUuid;
    String hostName;
    String mountpoint;
    String attachStatus;
    String mode;
    Map<String, Object> connector;
    Map<String, Object> connectionInfo;
    Instant attachTime;

    Att(String id, String volumeId) {
      this.id = id;
      this.volumeId = volumeId;
    }
  }

  static final class Snap {
    final String id;
    final long seq;
    final String volumeId;
    final String projectId;
    final String userId;
    String name;
    String description;
    String status;
    final int size;
    final Map<String, String> metadata = new LinkedHashMap<>();
    final Instant createdAt = Instant.now();
    Instant updatedAt = createdAt;

    Snap(String id, long seq, String volumeId, String projectId, String userId, int size) {
      this.id = id;
      this.seq = seq;
      this.volumeId = volumeId;
      this.projectId = projectId;
      this.userId = userId;
      this.size = size;
    }
  }

  record Resp(int status, Object body) {}

  // ------------------------------------------------------------------ helpers

  String newId() {
    if (cfg.seed == null) {
      return UUID.randomUUID().toString();
    }
    synchronized (random) {
      return new UUID((random.nextLong() & ~0xF000L) | 0x4000L,
          (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L).toString();
    }
  }

  private String randomString(int length) {
    String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    StringBuilder sb = new StringBuilder(length);
    synchronized (random) {
      for (int i = 0; i < length; i++) {
        sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
    }
    return sb.toString();
  }

  static String time(Instant t) {
    return t == null ? null : CINDER_TIME.format(t);
  }

  void setStatus(Vol v, String status) {
    v.status = status;
    v.updatedAt = Instant.now();
    List<String> h = histories.get(v.id);
    synchronized (h) {
      h.add(status);
    }
  }

  Vol vol(String id) {
    Vol v = volumes.get(id);
    if (v == null) {
      throw ApiException.volumeNotFound(id);
    }
    return v;
  }

  static JsonNode object(JsonNode body, String key) {
    JsonNode n = body == null ? null : body.get(key);
    if (n == null || !n.isObject()) {
      throw ApiException.badRequest("Missing required element '" + key + "' in request body.");
    }
    return n;
  }

  static String text(JsonNode n, String key) {
    JsonNode v = n == null ? null : n.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  Map<String, String> stringMap(JsonNode n, String what) {
    if (n == null || n.isNull()) {
      return new LinkedHashMap<>();
    }
    if (!n.isObject()) {
      throw ApiException.badRequest("Invalid input for field/attribute " + what + ". Value: " + n
          + ". " + n + " is not of type 'object'");
    }
    Map<String, String> out = new LinkedHashMap<>();
    n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
        : e.getValue().toString()));
    return out;
  }

  void schedule(Runnable r, Duration delay) {
    scheduler.schedule(() -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        CinderSimulator.LOG.warn("simulator task failed", e);
      }
    }, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Moves {@code v} from {@code from} to {@code to} unless its status changed meanwhile. */
  private void transitionLater(Vol v, String from, String to, Duration delay, Runnable alsoUnderLock) {
    schedule(transition(v, from, to, alsoUnderLock), delay);
  }

  /** Moves {@code v} from {@code from} to {@code to} when run, unless its status changed meanwhile. */
  private Runnable transition(Vol v, String from, String to, Runnable alsoUnderLock) {
    return () -> {
      synchronized (v) {
        if (!v.gone && from.equals(v.status)) {
          if (alsoUnderLock != null) {
            alsoUnderLock.run();
          }
          setStatus(v, to);
        }
      }
    };
  }

  VolType typeOf(Vol v) {
    return types.get(v.typeId);
  }

  // ------------------------------------------------------------------ views

  Map<String, Object> volumeDetail(Req req, Vol v) {
    Map<String, Object> m = new LinkedHashMap<>();
    VolType type = typeOf(v);
    m.put("id", v.id);
    m.put("status", v.status);
    m.put("size", v.size);
    m.put("availability_zone", v.az);
    m.put("created_at", time(v.createdAt));
    m.put("updated_at", time(v.updatedAt));
    m.put("name", v.name);
    m.put("description", v.description);
    m.put("volume_type", type == null ? null : type.name);
    m.put("snapshot_id", v.snapshotId);
    m.put("source_volid", v.sourceVolid);
    m.put("metadata", new LinkedHashMap<>(v.metadata));
    m.put("links", links(req, "volumes", v.id));
    m.put("user_id", v.userId);
    m.put("bootable", String.valueOf(v.bootable));
    m.put("encrypted", false);
    m.put("replication_status", v.replicationStatus);
    m.put("consistencygroup_id", null);
    m.put("multiattach", v.multiattach);
    List<Map<String, Object>> atts = new ArrayList<>();
    for (Att a : v.atts) {
      if ("attached".equals(a.attachStatus)) {
        Map<String, Object> am = new LinkedHashMap<>();
        am.put("id", v.id);
        am.put("attachment_id", a.id);
        am.put("volume_id", v.id);
        am.put("server_id", a.instanceUuid);
        am.put("host_name", a.hostName);
        am.put("device", a.mountpoint);
        am.put("attached_at", time(a.attachTime));
        atts.add(am);
      }
    }
    m.put("attachments", atts);
    m.put("migration_status", null);
    m.put("os-vol-tenant-attr:tenant_id", v.projectId);
    m.put("os-vol-host-attr:host", "simulator@" + cfg.backend.name().toLowerCase(java.util.Locale.ROOT) + "#pool");
    m.put("os-vol-mig-status-attr:migstat", null);
    m.put("os-vol-mig-status-attr:name_id", null);
    if (!req.v2) {
      if (req.atLeast(3, 13)) {
        m.put("group_id", null);
      }
      if (req.atLeast(3, 21)) {
        m.put("provider_id", null);
      }
      if (req.atLeast(3, 48)) {
        m.put("shared_targets", true);
        m.put("service_uuid", "5e4a8c1b-1e8f-4b19-9a3d-2f2d5c0a0a01");
      }
      if (req.atLeast(3, 61)) {
        m.put("cluster_name", null);
      }
      if (req.atLeast(3, 63)) {
        m.put("volume_type_id", v.typeId);
      }
      if (req.atLeast(3, 65)) {
        m.put("consumes_quota", true);
      }
    }
    return m;
  }

  private Map<String, Object> volumeSummary(Req req, Vol v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", v.id);
    m.put("name", v.name);
    m.put("links", links(req, "volumes", v.id));
    return m;
  }

  List<Map<String, String>> links(Req req, String collection, String id) {
    return List.of(
        Map.of("rel", "self", "href", req.apiPrefix + "/" + collection + "/" + id),
        Map.of("rel", "bookmark", "href", req.bookmarkPrefix + "/" + collection + "/" + id));
  }

  Map<String, Object> attachmentDetail(Att a) {
    Map<String, Object> m = attachmentSummary(a);
    m.put("attached_at", a.attachTime == null ? "" : time(a.attachTime));
    m.put("detached_at", "");
    m.put("attach_mode", a.mode);
    m.put("connection_info", a.connectionInfo == null ? Map.of() : a.connectionInfo);
    return m;
  }

  Map<String, Object> attachmentSummary(Att a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.id);
    m.put("status", a.attachStatus);
    m.put("instance", a.instanceUuid);
    m.put("volume_id", a.volumeId);
    return m;
  }

  Map<String, Object> snapshotView(Req req, Snap s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id);
    m.put("created_at", time(s.createdAt));
    m.put("updated_at", time(s.updatedAt));
    m.put("name", s.name);
    m.put("description", s.description);
    m.put("volume_id", s.volumeId);
    m.put("status", s.status);
    m.put("size", s.size);
    m.put("metadata", new LinkedHashMap<>(s.metadata));
    m.put("os-extended-snapshot-attributes:progress", "available".equals(s.status) ? "100%" : "0%");
    m.put("os-extended-snapshot-attributes:project_id", s.projectId);
    if (!req.v2 && req.atLeast(3, 14)) {
      m.put("group_snapshot_id", null);
    }
    if (!req.v2 && req.atLeast(3, 41)) {
      m.put("user_id", s.userId);
    }
    if (!req.v2 && req.atLeast(3, 65)) {
      m.put("consumes_quota", true);
    }
    return m;
  }

  Map<String, Object> typeView(Req req, VolType t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.id);
    m.put("name", t.name);
    m.put("description", t.description);
    m.put("is_public", true);
    m.put("os-volume-type-access:is_public", true);
    m.put("qos_specs_id", null);
    m.put("extra_specs", new LinkedHashMap<>(t.extraSpecs));
    return m;
  }

  SimVolume snapshotOf(Vol v) {
    synchronized (v) {
      List<SimAttachment> atts = v.atts.stream().map(CinderState::snapshotOf).toList();
      VolType t = typeOf(v);
      return new SimVolume(v.id, v.projectId, v.name, v.description, v.status, v.attachStatus, v.size, v.az,
          t == null ? null : t.name, Map.copyOf(v.metadata), atts, v.multiattach, v.bootable, v.snapshotId,
          v.sourceVolid, v.connector == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(v.connector)),
          v.createdAt, v.updatedAt, v.schedulerHints, v.replicationStatus, v.backupId);
    }
  }

  static SimAttachment snapshotOf(Att a) {
    return new SimAttachment(a.id, a.volumeId, a.instanceUuid, a.hostName, a.mountpoint, a.attachStatus, a.mode,
        a.connector == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(a.connector)),
        a.connectionInfo == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(a.connectionInfo)),
        a.attachTime);
  }

  // ------------------------------------------------------------------ volumes

  Resp createVolume(Req req) {
    JsonNode v = object(req.json(mapper), "volume");
    String name = text(v, "name") != null ? text(v, "name") : text(v, "display_name");
    String description = text(v, "description") != null ? text(v, "description") : text(v, "display_description");
    JsonNode sizeNode = v.get("size");
    Integer size = null;
    if (sizeNode != null && !sizeNode.isNull()) {
      if (!sizeNode.canConvertToInt() && !sizeNode.isTextual()) {
        throw ApiException.invalidInput("Volume size '" + sizeNode.asText() + "' must be an integer and greater"
            + " than 0");
      }
      try {
        size = sizeNode.isTextual() ? Integer.parseInt(sizeNode.asText().trim()) : sizeNode.asInt();
      } catch (NumberFormatException e) {
        throw ApiException.invalidInput("Volume size '" + sizeNode.asText() + "' must be an integer and greater"
            + " than 0");
      }
    }
    // volume type: by id or by name
    String typeRef = text(v, "volume_type");
    VolType type;
    if (typeRef == null) {
      type = types.values().stream().filter(t -> t.name.equals(cfg.defaultVolumeType)).findFirst()
          .orElseGet(() -> types.values().iterator().next());
    } else {
      type = types.get(typeRef);
      if (type == null) {
        type = types.values().stream().filter(t -> t.name.equals(typeRef)).findFirst()
            .orElseThrow(() -> ApiException.notFound("Volume type with name " + typeRef + " could not be found."));
      }
    }
    String az = text(v, "availability_zone");
    if (az == null) {
      az = cfg.availabilityZones.get(0);
    } else if (!cfg.availabilityZones.contains(az)) {
      throw ApiException.badRequest("Availability zone '" + az + "' is invalid.");
    }
    String snapshotId = text(v, "snapshot_id");
    String sourceVolid = text(v, "source_volid");
    int minSize = 0;
    if (snapshotId != null) {
      Snap s = snapshots.get(snapshotId);
      if (s == null) {
        throw ApiException.notFound("Snapshot " + snapshotId + " could not be found.");
      }
      if (!"available".equals(s.status)) {
        throw new ApiException(400, "Invalid snapshot: Originating snapshot status must be one of 'available'"
            + " values");
      }
      minSize = s.size;
      if (size == null) {
        size = s.size;
      } else if (size < s.size) {
        throw ApiException.invalidInput("Volume size '" + size + "'GB cannot be smaller than the snapshot size "
            + s.size + "GB. They must be >= original snapshot size.");
      }
    }
    if (sourceVolid != null) {
      Vol src = vol(sourceVolid);
      String srcStatus;
      int srcSize;
      synchronized (src) {
        srcStatus = src.status;
        srcSize = src.size;
      }
      if (!"available".equals(srcStatus) && !"in-use".equals(srcStatus)) {
        throw ApiException.invalidVolume("Unable to clone volumes that are in an error state");
      }
      minSize = srcSize;
      if (size == null) {
        size = srcSize;
      } else if (size < srcSize) {
        throw ApiException.invalidInput("Volume size '" + size + "'GB cannot be smaller than original volume size "
            + srcSize + "GB. They must be >= original volume size.");
      }
    }
    String backupId = !req.v2 && req.atLeast(3, 47) ? text(v, "backup_id") : null;
    if (backupId != null) {
      minSize = backups.restorableSize(backupId);
      size = backups.sizeOfRestore(size, minSize);
    }
    if (size == null || size <= 0 || size < minSize) {
      throw ApiException.invalidInput("Volume size '" + size + "' must be an integer and greater than 0");
    }
    Map<String, String> metadata = stringMap(v.get("metadata"), "metadata");
    Map<String, List<String>> hints = schedulerHints(req.json(mapper).get("OS-SCH-HNT:scheduler_hints"));
    boolean multiattach = type.multiattach() || SimulatedBackend.truthy(text(v, "multiattach"));
    String id = newId();
    Vol vol = new Vol(id, seq.incrementAndGet(), req.projectId, req.userId, az, type.id, snapshotId, sourceVolid,
        multiattach, randomString(20), randomString(16));
    vol.name = name;
    vol.description = description;
    vol.size = size;
    vol.metadata.putAll(metadata);
    vol.schedulerHints = hints;
    if (replication.configured()) {
      // As a replicating driver's create_volume answers: enabled for a replicated type, disabled otherwise.
      vol.replicationStatus = type.replicated() ? "enabled" : "disabled";
      vol.secondaryChapUser = randomString(20);
      vol.secondaryChapPassword = randomString(16);
    }
    vol.backupId = backupId;
    vol.status = "creating";
    SimulatorFaults.VolumeFate fate = faults.fateFor(name);
    if (fate != null && fate.stay) {
      vol.status = fate.status;
    }
    synchronized (quotaLock) {
      checkQuota(req.projectId, 1, size);
      histories.put(id, Collections.synchronizedList(new ArrayList<>(List.of(vol.status))));
      volumes.put(id, vol);
    }
    // No backend has room: Cinder's scheduler fails the volume (the API accepted it).
    boolean noRoom = fate == null && (cfg.backendCapacityGiB >= 0 && usedGiB() > cfg.backendCapacityGiB
        || cfg.schedulerHintFilters && !hintsSatisfied(hints, vol.az));
    if (fate == null || !fate.stay) {
      String target = noRoom ? "error" : fate == null ? "available" : fate.status;
      // As Cinder's scheduler does when no backend takes the volume: the reason goes to the user messages API.
      Runnable created = transition(vol, "creating", target, "error".equals(target)
          ? () -> addMessage(req.projectId, id, NO_VALID_BACKEND) : null);
      try {
        backend.submit(cfg.createDelay, created);
      } catch (ApiException refused) { // an overloaded Cinder's front refuses it: no volume is made
        synchronized (quotaLock) {
          volumes.remove(id);
          histories.remove(id);
        }
        throw refused;
      }
    }
    Map<String, Object> view;
    synchronized (vol) {
      view = volumeDetail(req, vol);
    }
    return new Resp(202, Map.of("volume", view));
  }

  /**
   * {@code OS-SCH-HNT:scheduler_hints}: {@code same_host} / {@code different_host}, a volume id or a list of them.
   * Cinder checks them only as UUIDs here; the scheduler's filters apply them.
   */
  private static Map<String, List<String>> schedulerHints(JsonNode hints) {
    if (hints == null || hints.isNull()) {
      return Map.of();
    }
    if (!hints.isObject()) {
      throw ApiException.invalidInput("Invalid input for field/attribute OS-SCH-HNT:scheduler_hints.");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String key : List.of("same_host", "different_host")) {
      JsonNode n = hints.get(key);
      if (n == null || n.isNull()) {
        continue;
      }
      List<String> ids = new ArrayList<>();
      for (JsonNode id : n.isArray() ? n : List.of(n)) {
        if (!id.isTextual() || !id.asText().matches("[0-9a-fA-F-]{32,36}")) {
          throw ApiException.invalidInput("Invalid input for field/attribute " + key + ".");
        }
        ids.add(id.asText());
      }
      out.put(key, List.copyOf(ids));
    }
    return Map.copyOf(out);
  }

  /**
   * Whether the one backend of {@code az} passes the hints, as Cinder's SameBackendFilter and DifferentBackendFilter
   * judge it when they are enabled ({@code schedulerHintFilters}; they are not in Cinder's default filters) (each AZ of the simulator is one backend): every {@code same_host} volume exists there, no
   * {@code different_host} volume does. A hint naming no volume fails the filter, as in Cinder.
   */
  private boolean hintsSatisfied(Map<String, List<String>> hints, String az) {
    for (String id : hints.getOrDefault("same_host", List.of())) {
      Vol other = volumes.get(id);
      if (other == null || !Objects.equals(other.az, az)) {
        return false;
      }
    }
    for (String id : hints.getOrDefault("different_host", List.of())) {
      Vol other = volumes.get(id);
      if (other == null || Objects.equals(other.az, az)) {
        return false;
      }
    }
    return true;
  }

  /** GiB held by volumes on the backend (those that did not fail), the new one included. */
  private long usedGiB() {
    return volumes.values().stream().filter(v -> !"error".equals(v.status)).mapToLong(v -> v.size).sum();
  }

  private void checkQuota(String projectId, int newVolumes, int newGigabytes) {
    if (cfg.maxVolumes < 0 && cfg.maxGigabytes < 0) {
      return;
    }
    int count = 0;
    long gigabytes = 0;
    for (Vol v : volumes.values()) {
      if (v.projectId.equals(projectId)) {
        count++;
        gigabytes += v.size;
      }
    }
    if (newVolumes > 0 && cfg.maxVolumes >= 0 && count + newVolumes > cfg.maxVolumes) {
      throw quotaError("VolumeLimitExceeded: Maximum number of volumes allowed (" + cfg.maxVolumes
          + ") exceeded for quota 'volumes'.");
    }
    if (cfg.maxGigabytes >= 0 && gigabytes + newGigabytes > cfg.maxGigabytes) {
      throw quotaError("VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes"
          + " quota. Requested " + newGigabytes + "G, quota is " + cfg.maxGigabytes + "G and " + gigabytes
          + "G has been consumed.");
    }
  }

  private static ApiException quotaError(String message) {
    return new ApiException(413, message).header("Retry-After", "0");
  }

  Resp getVolume(Req req, String id) {
    Vol v = vol(id);
    synchronized (v) {
      return new Resp(200, Map.of("volume", volumeDetail(req, v)));
    }
  }

  Resp updateVolume(Req req, String id) {
    JsonNode body = object(req.json(mapper), "volume");
    Vol v = vol(id);
    synchronized (v) {
      if (body.has("name") || body.has("display_name")) {
        v.name = text(body, body.has("name") ? "name" : "display_name");
      }
      if (body.has("description") || body.has("display_description")) {
        v.description = text(body, body.has("description") ? "description" : "display_description");
      }
      if (body.has("metadata")) {
        v.metadata.clear();
        v.metadata.putAll(stringMap(body.get("metadata"), "metadata"));
      }
      v.updatedAt = Instant.now();
      return new Resp(200, Map.of("volume", volumeDetail(req, v)));
    }
  }

  Resp listVolumes(Req req, boolean detail) {
    Map<String, String> q = req.query;
    boolean allTenants = SimulatedBackend.truthy(q.get("all_tenants"));
    String project = allTenants ? q.get("project_id") : req.projectId;
    String name = q.containsKey("name") ? q.get("name") : q.get("display_name");
    String status = q.get("status");
    String az = q.get("availability_zone");
    String bootable = q.get("bootable");
    Map<String, String> metadata = q.containsKey("metadata") ? parseMetadataFilter(q.get("metadata")) : Map.of();
    Comparator<Vol> order = volumeOrder(q);
    List<Vol> selected = new ArrayList<>();
    for (Vol v : volumes.values()) {
      synchronized (v) {
        if (project != null && !project.equals(v.projectId)) {
          continue;
        }
        if (name != null && !name.equals(v.name)) {
          continue;
        }
        if (status != null && !status.equals(v.status)) {
          continue;
        }
        if (az != null && !az.equals(v.az)) {
          continue;
        }
        if (bootable != null && SimulatedBackend.truthy(bootable) != v.bootable) {
          continue;
        }
        if (!metadata.entrySet().stream().allMatch(e -> e.getValue().equals(v.metadata.get(e.getKey())))) {
          continue;
        }
      }
      selected.add(v);
    }
    selected.sort(order);
    List<Vol> page = page(req, selected, order, id -> volumes.get(id), "Marker");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Vol v : page) {
      synchronized (v) {
        out.add(detail ? volumeDetail(req, v) : volumeSummary(req, v));
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("volumes", out);
    List<Map<String, String>> next = nextLinks(req, page.isEmpty() ? null : page.get(page.size() - 1).id,
        page.size(), detail ? "volumes/detail" : "volumes");
    if (!next.isEmpty()) {
      body.put("volumes_links", next);
    }
    if (!req.v2 && req.atLeast(3, 45) && SimulatedBackend.truthy(q.get("with_count"))) {
      body.put("count", selected.size());
    }
    return new Resp(200, body);
  }

  Map<String, String> parseMetadataFilter(String raw) {
    try {
      return mapper.readValue(raw, new TypeReference<LinkedHashMap<String, String>>() {});
    } catch (Exception e) {
      try {
        // Cinder evaluates the value as a Python literal, so {'k': 'v'} is accepted too.
        return mapper.readValue(raw.replace('\'', '"'), new TypeReference<LinkedHashMap<String, String>>() {});
      } catch (Exception e2) {
        throw ApiException.invalidInput("Invalid filter metadata: " + raw);
      }
    }
  }

  private Comparator<Vol> volumeOrder(Map<String, String> q) {
    String sort = q.get("sort");
    if (sort == null && q.containsKey("sort_key")) {
      sort = q.get("sort_key") + ":" + q.getOrDefault("sort_dir", "desc");
    }
    if (sort == null || sort.isBlank()) {
      sort = "created_at:desc";
    }
    Comparator<Vol> result = null;
    for (String part : sort.split(",")) {
      String[] kd = part.trim().split(":");
      String key = kd[0];
      boolean asc = kd.length > 1 && "asc".equalsIgnoreCase(kd[1]);
      Comparator<Vol> c = switch (key) {
        case "created_at" -> Comparator.comparingLong(v -> v.seq);
        case "id" -> Comparator.comparing(v -> v.id);
        case "name", "display_name" -> Comparator.comparing(v -> v.name == null ? "" : v.name);
        case "size" -> Comparator.comparingInt(v -> v.size);
        case "status" -> Comparator.comparing(v -> v.status);
        case "updated_at" -> Comparator.comparing(v -> v.updatedAt);
        default -> throw ApiException.invalidInput("Invalid sort key " + key);
      };
      c = asc ? c : c.reversed();
      result = result == null ? c : result.thenComparing(c);
    }
    // Cinder appends created_at and id (desc) to make the order total
    return result.thenComparing(Comparator.comparingLong((Vol v) -> v.seq).reversed());
  }

  <T> List<T> page(Req req, List<T> sorted, Comparator<T> order, java.util.function.Function<String, T> find,
      String what) {
    int limit = parseLimit(req.query.get("limit"));
    String marker = req.query.get("marker");
    int start = 0;
    if (marker != null) {
      T m = find.apply(marker);
      if (m == null) {
        throw ApiException.notFound(what + " " + marker + " could not be found.");
      }
      start = sorted.size();
      for (int i = 0; i < sorted.size(); i++) {
        if (order.compare(sorted.get(i), m) > 0) {
          start = i;
          break;
        }
      }
    }
    int offset = 0;
    if (req.query.containsKey("offset")) {
      try {
        offset = Integer.parseInt(req.query.get("offset"));
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("offset param must be an integer");
      }
      if (offset < 0) {
        throw ApiException.badRequest("offset param must be positive");
      }
    }
    start = Math.min(sorted.size(), start + offset);
    return new ArrayList<>(sorted.subList(start, Math.min(sorted.size(), start + limit)));
  }

  private int parseLimit(String raw) {
    if (raw == null) {
      return cfg.maxLimit;
    }
    int limit;
    try {
      limit = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("limit param must be an integer");
    }
    if (limit < 0) {
      throw ApiException.badRequest("limit param must be positive");
    }
    return Math.min(limit == 0 ? cfg.maxLimit : limit, cfg.maxLimit);
  }

  /** Cinder's rule: a next link when the page is as long as the (effective) limit and not empty. */
  List<Map<String, String>> nextLinks(Req req, String lastId, int pageSize, String collection) {
    int limit = parseLimit(req.query.get("limit"));
    if (lastId == null || pageSize < limit) {
      return List.of();
    }
    Map<String, String> params = new LinkedHashMap<>(req.query);
    params.put("marker", lastId);
    String qs = params.entrySet().stream()
        .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
        .collect(Collectors.joining("&"));
    return List.of(Map.of("rel", "next", "href", req.apiPrefix + "/" + collection + "?" + qs));
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  Resp deleteVolume(Req req, String id, boolean force) {
    Vol v = vol(id);
    synchronized (v) {
      boolean attached = "attached".equals(v.attachStatus);
      boolean hasSnapshots = snapshots.values().stream().anyMatch(s -> s.volumeId.equals(id));
      boolean statusOk = force || DELETABLE.contains(v.status);
      if (attached || hasSnapshots || !statusOk) {
        String status = force ? "" : "status must be " + String.join(" or ", DELETABLE) + " and";
        throw ApiException.invalidVolume("Volume " + status + " must not be migrating, attached, belong to a"
            + " group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume"
            + " transfer.");
      }
      // an overloaded Cinder's front refuses it before the volume changes
      backend.submit(cfg.deleteDelay, () -> {
        synchronized (v) {
          if (!v.gone && "deleting".equals(v.status)) {
            v.gone = true;
            volumes.remove(v.id);
            List<String> h = histories.get(v.id);
            synchronized (h) {
              h.add("deleted");
            }
          }
        }
      });
      setStatus(v, "deleting");
    }
    return new Resp(202, null);
  }

  void forceStatus(String id, String status) {
    Vol v = vol(id);
    synchronized (v) {
      setStatus(v, status);
    }
  }

  Resp getMetadata(String id) {
    Vol v = vol(id);
    synchronized (v) {
      return new Resp(200, Map.of("metadata", new LinkedHashMap<>(v.metadata)));
    }
  }

  Resp setMetadata(Req req, String id, boolean replace) {
    Map<String, String> md = stringMap(object(req.json(mapper), "metadata"), "metadata");
    Vol v = vol(id);
    synchronized (v) {
      if (replace) {
        v.metadata.clear();
      }
      v.metadata.putAll(md);
      v.updatedAt = Instant.now();
      return new Resp(200, Map.of("metadata", new LinkedHashMap<>(v.metadata)));
    }
  }

  Resp deleteMetadataKey(String id, String key) {
    Vol v = vol(id);
    synchronized (v) {
      if (v.metadata.remove(key) == null) {
        throw ApiException.notFound("Volume " + id + " has no metadata with key " + key + ".");
      }
      return new Resp(200, null);
    }
  }

  // ------------------------------------------------------------------ volume actions

  /** The action name of an action body ({@code {"os-reserve": {}}} gives "os-reserve"), or null. */
  static String actionName(JsonNode body) {
    if (body == null || !body.isObject() || body.size() == 0) {
      return null;
    }
    Iterator<String> it = body.fieldNames();
    return it.next();
  }

  Resp volumeAction(Req req, String id) {
    JsonNode body = req.json(mapper);
    String action = actionName(body);
    if (action == null) {
      throw ApiException.badRequest("Malformed request body");
    }
    JsonNode args = body.get(action);
    Vol v = vol(id);
    switch (action) {
      case "os-reserve" -> reserve(v);
      case "os-unreserve" -> {
        synchronized (v) {
          unreserve(v);
        }
      }
      case "os-initialize_connection" -> {
        return initializeConnection(v, args);
      }
      case "os-terminate_connection" -> terminateConnection(v, args);
      case "os-attach" -> attach(v, args);
      case "os-begin_detaching" -> beginDetaching(v);
      case "os-roll_detaching" -> {
        synchronized (v) {
          if ("detaching".equals(v.status)) {
            setStatus(v, "in-use");
          }
        }
      }
      case "os-detach" -> detach(v, text(args, "attachment_id"));
      case "os-extend" -> extend(req, v, args);
      case "os-retype" -> retype(v, args);
      case "os-force_delete" -> {
        return deleteVolume(req, id, true);
      }
      case "os-reset_status" -> resetStatus(v, args);
      case "os-set_bootable" -> {
        synchronized (v) {
          v.bootable = SimulatedBackend.truthy(text(args, "bootable"));
        }
        return new Resp(200, null);
      }
      case "os-update_readonly_flag" -> {
        // accepted, not modelled
      }
      default -> throw ApiException.badRequest("There is no such action: " + action);
    }
    return new Resp(202, null);
  }

  private void reserve(Vol v) {
    synchronized (v) {
      List<String> expected = v.multiattach ? List.of("available", "in-use") : List.of("available");
      if (!expected.contains(v.status)) {
        throw ApiException.invalidVolume("Volume status must be " + String.join(" or ", expected)
            + " to reserve, but the status is " + v.status + ".");
      }
      setStatus(v, "attaching");
    }
  }

  private void unreserve(Vol v) {
    if ("attaching".equals(v.status)) {
      setStatus(v, v.atts.isEmpty() ? "available" : "in-use");
    }
  }

  private static Map<String, Object> connectorOf(JsonNode args, ObjectMapper mapper) {
    JsonNode c = args == null ? null : args.get("connector");
    if (c == null || !c.isObject()) {
      throw ApiException.badRequest("Invalid input for field/attribute connector. Value: "
          + (c == null ? "None" : c.toString()) + ". 'connector' is a required property");
    }
    return mapper.convertValue(c, new TypeReference<LinkedHashMap<String, Object>>() {});
  }

  private Resp initializeConnection(Vol v, JsonNode args) {
    Map<String, Object> connector = connectorOf(args, mapper);
    synchronized (v) {
      if ("maintenance".equals(v.status)) {
        throw ApiException.invalidVolume("The volume connection cannot be initialized in maintenance mode.");
      }
      Map<String, Object> info = connectionInfo(v, connector, connector.get("mode") instanceof String s ? s : "rw");
      v.connector = connector;
      info.put("enforce_multipath", SimulatedBackend.truthy(connector.get("enforce_multipath")));
      return new Resp(200, Map.of("connection_info", info));
    }
  }

  /** The backend's connection info, with the iSCSI target prefix an operator configured, if any. */
  private Map<String, Object> connectionInfo(Vol v, Map<?, ?> connector, String mode) {
    Map<String, Object> info = cfg.backend.connectionInfo(secrets(v), v.id, connector, mode);
    String prefix = faults.iscsiTargetPrefix();
    if (prefix != null && info.get("data") instanceof Map<?, ?> d) {
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) d;
      String iqn = prefix + "volume-" + v.id;
      data.computeIfPresent("target_iqn", (k, old) -> iqn);
      data.computeIfPresent("target_iqns", (k, old) -> ((List<?>) old).stream().map(x -> iqn).toList());
    }
    return info;
  }

  private SimulatedBackend.ConnectionSecrets secrets(Vol v) {
    // Some drivers issue new CHAP credentials with every export (initialize_connection / attachment update).
    boolean secondary = "failed-over".equals(v.replicationStatus);
    String password = faults.chapPerExport() ? java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16)
        : secondary ? v.secondaryChapPassword : v.chapPassword;
    return secondary
        ? new SimulatedBackend.ConnectionSecrets(v.secondaryChapUser, password, secondaryCephSecretUuid,
            secondaryKeyring, true)
        : new SimulatedBackend.ConnectionSecrets(v.chapUser, password, cephSecretUuid, keyring, false);
  }

  private void terminateConnection(Vol v, JsonNode args) {
    connectorOf(args, mapper);
    synchronized (v) {
      v.connector = null;
      unreserve(v);
    }
  }

  private void attach(Vol v, JsonNode args) {
    if (args == null || !args.isObject() || text(args, "mountpoint") == null) {
      throw ApiException.badRequest("Invalid input for field/attribute os-attach. 'mountpoint' is a required"
          + " property");
    }
    String instance = text(args, "instance_uuid");
    String host = text(args, "host_name");
    String mode = args.has("mode") ? text(args, "mode") : "rw";
    if (!"rw".equals(mode) && !"ro".equals(mode)) {
      throw ApiException.badRequest("Invalid input for field/attribute mode. Value: " + mode
          + ". '" + mode + "' is not one of ['rw', 'ro']");
    }
    if (instance == null && host == null) {
      throw ApiException.badRequest("Invalid request to attach volume to an invalid target");
    }
    synchronized (v) {
      if ("maintenance".equals(v.status)) {
        throw ApiException.invalidVolume("The volume cannot be attached in maintenance mode.");
      }
      for (Att a : v.atts) {
        if ((instance != null && instance.equals(a.instanceUuid)) || (instance == null && host.equals(a.hostName))) {
          setStatus(v, "in-use");
          return;
        }
      }
      if ("in-use".equals(v.status) && !v.multiattach) {
        throw ApiException.badRequest("Error attaching volume - InvalidVolume: Invalid volume: volume is already"
            + " attached and multiple attachments are not enabled");
      }
      // Stricter than Cinder's manager (which would attach any status): only reservable states.
      if (!List.of("available", "attaching", "reserved", "in-use").contains(v.status)) {
        throw ApiException.badRequest("Error attaching volume - InvalidVolume: Invalid volume: Volume status must"
            + " be available or attaching to attach, but the status is " + v.status + ".");
      }
      Att a = new Att(newId(), v.id);
      a.instanceUuid = instance;
      a.hostName = host;
      a.mountpoint = text(args, "mountpoint");
      a.mode = mode;
      a.attachStatus = "attached";
      a.attachTime = Instant.now();
      a.connector = v.connector;
      v.atts.add(a);
      attachments.put(a.id, a);
      v.attachStatus = "attached";
      setStatus(v, "in-use");
    }
  }

  private void beginDetaching(Vol v) {
    synchronized (v) {
      if (!"in-use".equals(v.status) || !"attached".equals(v.attachStatus)) {
        throw ApiException.invalidVolume("Unable to detach volume. Volume status must be 'in-use' and"
            + " attach_status must be 'attached' to detach.");
      }
      setStatus(v, "detaching");
    }
  }

  private void detach(Vol v, String attachmentId) {
    synchronized (v) {
      if ("maintenance".equals(v.status)) {
        throw ApiException.invalidVolume("The volume cannot be detached in maintenance mode.");
      }
      Att target = null;
      if (attachmentId != null) {
        for (Att a : v.atts) {
          if (a.id.equals(attachmentId)) {
            target = a;
          }
        }
        if (target == null) {
          // Cinder: "Volume detach called, but volume not attached." and fixes the status
          finishDetach(v, null);
          return;
        }
      } else if (v.atts.size() > 1) {
        throw ApiException.badRequest("Error detaching volume - InvalidVolume: Invalid volume: Detach volume"
            + " failed: More than one attachment, but no attachment_id provided.");
      } else if (v.atts.size() == 1) {
        target = v.atts.get(0);
      }
      finishDetach(v, target);
    }
  }

  /** Cinder's {@code volume_detached}: drop the attachment, in-use if others remain, else available. */
  private void finishDetach(Vol v, Att a) {
    if (a != null) {
      v.atts.remove(a);
      attachments.remove(a.id);
    }
    boolean anyAttached = v.atts.stream().anyMatch(x -> "attached".equals(x.attachStatus));
    if (v.atts.isEmpty()) {
      v.attachStatus = "detached";
      if (List.of("in-use", "detaching", "attaching", "reserved").contains(v.status)) {
        setStatus(v, "available");
      }
    } else {
      v.attachStatus = anyAttached ? "attached" : "detached";
      setStatus(v, anyAttached ? "in-use" : "reserved");
    }
  }

  private void extend(Req req, Vol v, JsonNode args) {
    JsonNode ns = args == null ? null : args.get("new_size");
    if (ns == null || !(ns.canConvertToInt() || ns.isTextual())) {
      throw ApiException.badRequest("Invalid input for field/attribute new_size. 'new_size' is a required"
          + " property");
    }
    int newSize;
    try {
      newSize = ns.isTextual() ? Integer.parseInt(ns.asText().trim()) : ns.asInt();
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("Invalid input for field/attribute new_size.");
    }
    String previous;
    synchronized (v) {
      if (newSize - v.size <= 0) {
        throw ApiException.invalidInput("New size for extend must be greater than current size. (current: "
            + v.size + ", extended: " + newSize + ").");
      }
      boolean attached = !req.v2 && req.atLeast(3, 42) && "in-use".equals(v.status);
      String expected = attached ? "in-use" : "available";
      if (!expected.equals(v.status)) {
        throw ApiException.invalidVolume("Volume " + v.id + " status must be '{'status': '" + expected
            + "'}' to extend, currently " + v.status + ".");
      }
      synchronized (quotaLock) {
        try {
          checkQuota(v.projectId, 0, newSize - v.size);
        } catch (ApiException e) {
          throw e;
        }
      }
      previous = v.status;
      setStatus(v, "extending");
    }
    transitionLater(v, "extending", previous, cfg.extendDelay, () -> v.size = newSize);
  }

  /**
   * {@code os-retype}: to another type on the same backend (the simulator has one), which Cinder asks the driver to
   * do in place: {@code retyping}, then the previous status with the new type.
   */
  private void retype(Vol v, JsonNode args) {
    String typeRef = args == null ? null : text(args, "new_type");
    if (typeRef == null) {
      throw ApiException.badRequest("Invalid input for field/attribute new_type.");
    }
    String policy = text(args, "migration_policy");
    if (policy != null && !policy.equals("never") && !policy.equals("on-demand")) {
      throw ApiException.badRequest("Invalid input for field/attribute migration_policy.");
    }
    VolType type = types.get(typeRef);
    if (type == null) {
      type = types.values().stream().filter(t -> t.name.equals(typeRef)).findFirst().orElseThrow(() ->
          ApiException.notFound("Volume type with name " + typeRef + " could not be found."));
    }
    String newTypeId = type.id;
    String previous;
    synchronized (v) {
      // Cinder 21 answers both with one message (a conditional update that did not match).
      if (!"available".equals(v.status) && !"in-use".equals(v.status) || newTypeId.equals(v.typeId)) {
        throw ApiException.invalidVolume("Retype needs volume to be in available or in-use state, not be part of "
            + "an active migration or a consistency group, requested type has to be different that the one from "
            + "the volume, and for in-use volumes front-end qos specs cannot change.");
      }
      previous = v.status;
      setStatus(v, "retyping");
    }
    transitionLater(v, "retyping", previous, cfg.extendDelay, () -> v.typeId = newTypeId);
  }

  private void resetStatus(Vol v, JsonNode args) {
    if (args == null || !args.isObject()) {
      throw ApiException.badRequest("Invalid input for field/attribute os-reset_status.");
    }
    String status = text(args, "status");
    String attachStatus = text(args, "attach_status");
    synchronized (v) {
      if (status != null) {
        status = status.toLowerCase(java.util.Locale.ROOT);
        if ("deleting".equals(status) || "error_deletingdetaching".equals(status)) {
          throw ApiException.badRequest("Cannot reset-state to " + status);
        }
        if ("in-use".equals(status) && v.atts.isEmpty()) {
          throw ApiException.badRequest("Cannot reset-state to in-use because volume does not have any"
              + " attachments.");
        }
      }
      if (attachStatus != null) {
        v.attachStatus = attachStatus.toLowerCase(java.util.Locale.ROOT);
        if ("detached".equals(v.attachStatus)) {
          for (Att a : v.atts) {
            attachments.remove(a.id);
          }
          v.atts.clear();
        }
      }
      if (status != null) {
        setStatus(v, status);
      }
    }
  }

  // ------------------------------------------------------------------ attachments (3.27+)

  Resp createAttachment(Req req) {
    JsonNode a = object(req.json(mapper), "attachment");
    String volumeId = text(a, "volume_uuid");
    if (volumeId == null) {
      throw ApiException.badRequest("Invalid input for field/attribute attachment. 'volume_uuid' is a required"
          + " property");
    }
    String instance = text(a, "instance_uuid");
    String mode = "null";
    if (a.has("mode")) {
      if (!req.atLeast(3, 54)) {
        throw ApiException.badRequest("Invalid input for field/attribute attachment. Additional properties are not"
            + " allowed ('mode' was unexpected)");
      }
      mode = text(a, "mode");
      if (!"rw".equals(mode) && !"ro".equals(mode)) {
        throw ApiException.badRequest("Invalid input for field/attribute mode. Value: " + mode + ". '" + mode
            + "' is not one of ['rw', 'ro']");
      }
    }
    Map<String, Object> connector = a.has("connector") && a.get("connector").isObject()
        ? mapper.convertValue(a.get("connector"), new TypeReference<LinkedHashMap<String, Object>>() {}) : null;
    Vol v = vol(volumeId);
    synchronized (v) {
      if (v.status.contains("error")) {
        throw ApiException.invalidVolume("Volume attachments can not be created if the volume is in an error"
            + " state. The Volume " + v.id + " currently has a status of: " + v.status + " ");
      }
      List<String> expected = v.multiattach ? List.of("available", "in-use", "downloading")
          : List.of("available", "downloading");
      boolean override = false;
      if (!expected.contains(v.status)) {
        if (instance != null && List.of("in-use", "reserved").contains(v.status)) {
          override = v.atts.stream().anyMatch(x -> instance.equals(x.instanceUuid));
        }
        if (!override) {
          throw ApiException.invalidVolume("Volume " + v.id + " status must be " + String.join(" or ", expected)
              + " to reserve, but the current status is " + v.status + ".");
        }
      }
      if (!override) {
        setStatus(v, "reserved");
      }
      Att att = new Att(newId(), v.id);
      att.instanceUuid = instance;
      att.attachStatus = "reserved";
      att.mode = mode;
      v.atts.add(att);
      attachments.put(att.id, att);
      if (connector != null) {
        connect(v, att, connector);
      }
      return new Resp(200, Map.of("attachment", attachmentDetail(att)));
    }
  }

  /** The manager's attachment_update: connection info flattened (data keys + driver_volume_type + ids). */
  private void connect(Vol v, Att att, Map<String, Object> connector) {
    String mode = "null".equals(att.mode) ? "rw" : att.mode;
    Map<String, Object> info = connectionInfo(v, connector, mode);
    @SuppressWarnings("unchecked")
    Map<String, Object> flat = new LinkedHashMap<>((Map<String, Object>) info.remove("data"));
    flat.putAll(info);
    flat.put("attachment_id", att.id);
    flat.put("enforce_multipath", SimulatedBackend.truthy(connector.get("enforce_multipath")));
    att.connector = connector;
    att.connectionInfo = flat;
    att.attachStatus = "attaching";
    att.hostName = connector.get("host") instanceof String h ? h : null;
    v.connector = connector;
    // As Debian's Cinder 21 answers (CinderContractTest): a connector moves a reserved volume on to attaching.
    if ("reserved".equals(v.status)) {
      setStatus(v, "attaching");
    }
  }

  Att att(String id) {
    Att a = attachments.get(id);
    if (a == null) {
      throw ApiException.notFound("Volume attachment could not be found with filter: attachment_id = " + id + ".");
    }
    return a;
  }

  Resp getAttachment(String id) {
    Att a = att(id);
    Vol v = vol(a.volumeId);
    synchronized (v) {
      return new Resp(200, Map.of("attachment", attachmentDetail(a)));
    }
  }

  Resp listAttachments(Req req, boolean detail) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Vol v : volumes.values()) {
      synchronized (v) {
        if (!v.projectId.equals(req.projectId) && !SimulatedBackend.truthy(req.query.get("all_tenants"))) {
          continue;
        }
        String volFilter = req.query.get("volume_id");
        for (Att a : v.atts) {
          if (volFilter == null || volFilter.equals(a.volumeId)) {
            out.add(detail ? attachmentDetail(a) : attachmentSummary(a));
          }
        }
      }
    }
    return new Resp(200, Map.of("attachments", out));
  }

  Resp updateAttachment(Req req, String id) {
    JsonNode body = object(req.json(mapper), "attachment");
    JsonNode c = body.get("connector");
    if (c == null || !c.isObject()) {
      throw ApiException.badRequest("Invalid input for field/attribute attachment. 'connector' is a required"
          + " property");
    }
    Map<String, Object> connector = mapper.convertValue(c, new TypeReference<LinkedHashMap<String, Object>>() {});
    Att a = att(id);
    Vol v = vol(a.volumeId);
    synchronized (v) {
      if (v.status.contains("error")) {
        throw new ApiException(409, "Resource conflict: Volume attachments can not be updated if the volume is in"
            + " an error state. The Volume " + v.id + " currently has a status of: " + v.status + " ");
      }
      connect(v, a, connector);
      return new Resp(200, Map.of("attachment", attachmentDetail(a)));
    }
  }

  Resp completeAttachment(String id) {
    Att a = att(id);
    Vol v = vol(a.volumeId);
    synchronized (v) {
      a.attachStatus = "attached";
      a.attachTime = Instant.now();
      v.attachStatus = "attached";
      setStatus(v, "in-use");
    }
    return new Resp(204, null);
  }

  Resp deleteAttachment(String id) {
    Att a = att(id);
    Vol v = vol(a.volumeId);
    synchronized (v) {
      finishDetach(v, a);
      List<Map<String, Object>> rest = v.atts.stream().map(this::attachmentSummary).toList();
      return new Resp(200, Map.of("attachments", rest));
    }
  }

  // ------------------------------------------------------------------ snapshots

  Resp createSnapshot(Req req) {
    JsonNode s = object(req.json(mapper), "snapshot");
    String volumeId = text(s, "volume_id");
    if (volumeId == null) {
      throw ApiException.badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required"
          + " property");
    }
    boolean force = SimulatedBackend.truthy(text(s, "force"));
    Vol v = vol(volumeId);
    Snap snap;
    synchronized (v) {
      if ("maintenance".equals(v.status)) {
        throw ApiException.invalidVolume("The snapshot cannot be created when the volume is in maintenance mode.");
      }
      if ("error".equals(v.status)) {
        throw ApiException.invalidVolume("The snapshot cannot be created when the volume is in error status.");
      }
      boolean allowInUse = !req.v2 && req.atLeast(3, 66);
      List<String> valid = force || allowInUse ? List.of("available", "in-use") : List.of("available");
      if (!valid.contains(v.status)) {
        throw ApiException.invalidVolume("Volume " + v.id + " status must be " + String.join(", ", valid)
            + ", but current status is: " + v.status + ".");
      }
      snap = new Snap(newId(), seq.incrementAndGet(), v.id, req.projectId, req.userId, v.size);
      snap.name = text(s, "name") != null ? text(s, "name") : text(s, "display_name");
      snap.description = text(s, "description") != null ? text(s, "description") : text(s, "display_description");
      snap.metadata.putAll(stringMap(s.get("metadata"), "metadata"));
      snap.status = "creating";
      snapshots.put(snap.id, snap);
    }
    Snap created = snap;
    schedule(() -> {
      synchronized (created) {
        if ("creating".equals(created.status)) {
          created.status = "available";
          created.updatedAt = Instant.now();
        }
      }
    }, cfg.createDelay);
    synchronized (snap) {
      return new Resp(202, Map.of("snapshot", snapshotView(req, snap)));
    }
  }

  Snap snap(String id) {
    Snap s = snapshots.get(id);
    if (s == null) {
      throw ApiException.notFound("Snapshot " + id + " could not be found.");
    }
    return s;
  }

  Resp getSnapshot(Req req, String id) {
    Snap s = snap(id);
    synchronized (s) {
      return new Resp(200, Map.of("snapshot", snapshotView(req, s)));
    }
  }

  Resp listSnapshots(Req req, boolean detail) {
    Map<String, String> q = req.query;
    boolean allTenants = SimulatedBackend.truthy(q.get("all_tenants"));
    Map<String, String> metadata = q.containsKey("metadata") ? parseMetadataFilter(q.get("metadata")) : Map.of();
    Comparator<Snap> order = Comparator.comparingLong((Snap s) -> s.seq).reversed();
    List<Snap> selected = new ArrayList<>();
    for (Snap s : snapshots.values()) {
      synchronized (s) {
        if (!allTenants && !s.projectId.equals(req.projectId)) {
          continue;
        }
        if (q.containsKey("volume_id") && !q.get("volume_id").equals(s.volumeId)) {
          continue;
        }
        if (q.containsKey("status") && !q.get("status").equals(s.status)) {
          continue;
        }
        if (q.containsKey("name") && !q.get("name").equals(s.name)) {
          continue;
        }
        if (!metadata.entrySet().stream().allMatch(e -> e.getValue().equals(s.metadata.get(e.getKey())))) {
          continue;
        }
      }
      selected.add(s);
    }
    selected.sort(order);
    List<Snap> page = page(req, selected, order, snapshots::get, "Marker");
    List<Map<String, Object>> out = new ArrayList<>();
    for (Snap s : page) {
      synchronized (s) {
        Map<String, Object> view = snapshotView(req, s);
        if (!detail) {
          view.remove("os-extended-snapshot-attributes:progress");
          view.remove("os-extended-snapshot-attributes:project_id");
        }
        out.add(view);
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("snapshots", out);
    List<Map<String, String>> next = nextLinks(req, page.isEmpty() ? null : page.get(page.size() - 1).id,
        page.size(), detail ? "snapshots/detail" : "snapshots");
    if (!next.isEmpty()) {
      body.put("snapshots_links", next);
    }
    return new Resp(200, body);
  }

  /** Admin {@code os-reset_status} on a snapshot: the status, unchecked. */
  Resp resetSnapshotStatus(String id, String status) {
    if (status == null) {
      throw ApiException.badRequest("Must specify 'status'");
    }
    Snap s = snap(id);
    synchronized (s) {
      s.status = status;
      s.updatedAt = Instant.now();
    }
    return new Resp(202, null);
  }

  Resp deleteSnapshot(String id) {
    Snap s = snap(id);
    synchronized (s) {
      if (!"available".equals(s.status) && !"error".equals(s.status)) {
        throw new ApiException(400, "Invalid snapshot: Volume Snapshot status must be available or error and must"
            + " not be part of a group.");
      }
      s.status = "deleting";
      s.updatedAt = Instant.now();
    }
    schedule(() -> {
      synchronized (s) {
        if ("deleting".equals(s.status)) {
          snapshots.remove(s.id);
        }
      }
    }, cfg.deleteDelay);
    return new Resp(202, null);
  }

  // ------------------------------------------------------------------ types, zones, limits

  Resp listTypes(Req req) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (VolType t : types.values()) {
      out.add(typeView(req, t));
    }
    return new Resp(200, Map.of("volume_types", out));
  }

  Resp getType(Req req, String idOrDefault) {
    VolType t;
    if ("default".equals(idOrDefault)) {
      t = types.values().stream().filter(x -> x.name.equals(cfg.defaultVolumeType)).findFirst()
          .orElseGet(() -> types.values().iterator().next());
    } else {
      t = types.get(idOrDefault);
    }
    if (t == null) {
      throw ApiException.notFound("Volume type " + idOrDefault + " could not be found.");
    }
    return new Resp(200, Map.of("volume_type", typeView(req, t)));
  }

  /** Cinder's user message for a volume no backend would take (event VOLUME_000001, action 001, detail 002). */
  static final String NO_VALID_BACKEND = "schedule allocate volume:Could not find any available weighted backend.";
  private final List<Map<String, Object>> messages = Collections.synchronizedList(new ArrayList<>());

  void addMessage(String projectId, String resourceId, String text) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", newId());
    m.put("project_id", projectId);
    m.put("resource_type", "VOLUME");
    m.put("resource_uuid", resourceId);
    m.put("event_id", "VOLUME_VOLUME_001_002");
    m.put("message_level", "ERROR");
    m.put("user_message", text);
    m.put("request_id", "req-" + newId());
    m.put("created_at", time(Instant.now()));
    m.put("expires_at", time(Instant.now().plus(Duration.ofDays(30))));
    messages.add(m);
  }

  /** {@code GET /messages} (3.3): the project's user messages, filtered by {@code resource_uuid}. */
  Resp listMessages(Req req) {
    String resource = req.query.get("resource_uuid");
    List<Map<String, Object>> out = new ArrayList<>();
    synchronized (messages) {
      for (Map<String, Object> m : messages) {
        if (m.get("project_id").equals(req.projectId) && (resource == null || resource.equals(m.get("resource_uuid")))) {
          out.add(m);
        }
      }
    }
    return new Resp(200, Map.of("messages", out));
  }

  Resp availabilityZones() {
    List<Map<String, Object>> zones = new ArrayList<>();
    for (String z : cfg.availabilityZones) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("zoneName", z);
      m.put("zoneState", Map.of("available", true));
      zones.add(m);
    }
    return new Resp(200, Map.of("availabilityZoneInfo", zones));
  }

  Resp limits(Req req) {
    int count = 0;
    long gigabytes = 0;
    for (Vol v : volumes.values()) {
      if (v.projectId.equals(req.projectId)) {
        count++;
        gigabytes += v.size;
      }
    }
    long snaps = snapshots.values().stream().filter(s -> s.projectId.equals(req.projectId)).count();
    Map<String, Object> abs = new LinkedHashMap<>();
    abs.put("totalSnapshotsUsed", snaps);
    abs.put("maxTotalBackups", 10);
    abs.put("maxTotalVolumeGigabytes", cfg.maxGigabytes);
    abs.put("maxTotalSnapshots", 10);
    abs.put("maxTotalBackupGigabytes", 1000);
    abs.put("totalBackupGigabytesUsed", 0);
    abs.put("maxTotalVolumes", cfg.maxVolumes);
    abs.put("totalVolumesUsed", count);
    abs.put("totalBackupsUsed", 0);
    abs.put("totalGigabytesUsed", gigabytes);
    return new Resp(200, Map.of("limits", Map.of("rate", List.of(), "absolute", abs)));
  }

  // ------------------------------------------------------------------ services and replication (admin)

  /** {@code GET /os-services}: the scheduler and the volume service, with the latter's replication fields. */
  /**
   * {@code GET /os-services} ({@code ?binary=} filters): the scheduler, the volume service (with its replication
   * state) and, while it is up, cinder-backup.
   */
  Resp listServices(Req req) {
    Map<String, Object> scheduler = new LinkedHashMap<>();
    scheduler.put("binary", "cinder-scheduler");
    scheduler.put("host", "simulator");
    scheduler.put("zone", cfg.availabilityZones.get(0));
    scheduler.put("status", "enabled");
    scheduler.put("state", "up");
    scheduler.put("updated_at", time(Instant.now()));
    scheduler.put("disabled_reason", null);
    Map<String, Object> volume = new LinkedHashMap<>(scheduler);
    volume.put("binary", "cinder-volume");
    volume.put("host", replication.host);
    synchronized (replication) {
      volume.put("replication_status", replication.status);
      volume.put("active_backend_id", replication.activeBackendId);
    }
    volume.put("frozen", false);
    List<Map<String, Object>> all = new ArrayList<>(List.of(scheduler, volume));
    if (backups.serviceUp()) {
      Map<String, Object> backup = new LinkedHashMap<>(scheduler);
      backup.put("binary", "cinder-backup");
      all.add(backup);
    }
    String binary = req.query.get("binary");
    return new Resp(200, Map.of("services", all.stream()
        .filter(svc -> binary == null || binary.equals(svc.get("binary"))).toList()));
  }

  /**
   * {@code PUT /os-services/failover_host} (and {@code failover} from 3.26), as {@code cinder/api/contrib/services.py}
   * and {@code volume/api.py} check it: body {@code {"host": ..., "backend_id": ...}}, the service's
   * {@code replication_status} must be {@code enabled} or {@code failed-over}; 202, then the volume manager's work
   * happens in the background (the service is {@code failing-over} meanwhile). Other service actions (enable,
   * disable, freeze, thaw, log levels) are not simulated.
   */
  Resp updateService(Req req, String action) {
    if (!"failover_host".equals(action) && !("failover".equals(action) && req.atLeast(3, 26))) {
      throw ApiException.invalidInput("Unknown action");
    }
    JsonNode body = req.json(mapper);
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("Invalid input for field/attribute body. Value: " + body
          + ". " + body + " is not of type 'object'");
    }
    Iterator<String> names = body.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!name.equals("host") && !name.equals("backend_id") && !name.equals("cluster")) {
        throw ApiException.badRequest("Additional properties are not allowed ('" + name + "' was unexpected)");
      }
    }
    String host = text(body, "host");
    if (host == null || host.isBlank()) {
      throw ApiException.invalidInput("Missing host or cluster.");
    }
    if (!host.equals(replication.host)) {
      throw ApiException.invalidInput("Service " + host + " could not be found.");
    }
    String backendId = text(body, "backend_id");
    synchronized (replication) {
      if (!"enabled".equals(replication.status) && !"failed-over".equals(replication.status)) {
        throw ApiException.invalidInput("No service could be changed: replication_status in ['" + host
            + "'] must be enabled or failed-over and must be up to failover.");
      }
      replication.status = "failing-over";
    }
    schedule(() -> failover(backendId), cfg.createDelay);
    return new Resp(202, null);
  }

  /**
   * The volume manager's {@code failover}: to the secondary (its id, or null for the only one) or back
   * ({@code default}). Replicated volumes change {@code replication_status} and, with it, the connection info a
   * new export answers; on failover, volumes that do not replicate go to {@code error} and {@code not-capable}. A
   * target that is not valid from the current state leaves the service as it was.
   */
  private void failover(String backendId) {
    synchronized (replication) {
      boolean back = Replication.DEFAULT.equals(backendId);
      boolean valid = back ? replication.activeBackendId != null
          : replication.activeBackendId == null && (backendId == null || backendId.equals(replication.target));
      if (!valid) {
        CinderSimulator.LOG.warn("failover_host to {}: invalid replication target", backendId);
        replication.status = replication.activeBackendId == null ? "enabled" : "failed-over";
        return;
      }
      for (Vol v : volumes.values()) {
        synchronized (v) {
          if (v.gone) {
            continue;
          }
          if (!"disabled".equals(v.replicationStatus) && !"not-capable".equals(v.replicationStatus)) {
            v.replicationStatus = back ? "enabled" : "failed-over";
            v.updatedAt = Instant.now();
          } else if (!back) {
            // As the manager does: a volume that does not replicate is lost with its site (left alone on failback).
            v.replicationStatus = "not-capable";
            setStatus(v, "error");
          }
        }
      }
      replication.activeBackendId = back ? null : replication.target;
      replication.status = back ? "enabled" : "failed-over";
    }
  }

  Set<String> volumeIds() {
    return Set.copyOf(volumes.keySet());
  }
}
