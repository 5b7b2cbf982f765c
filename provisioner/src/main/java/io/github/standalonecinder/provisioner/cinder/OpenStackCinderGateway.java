package io.github.standalonecinder.provisioner.cinder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.standalonecinder.mappers.ConnectionInfo;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.auth.AuthToken;
import io.github.standalonecinder.provisioner.auth.TokenManager;
import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.openstack4j.api.exceptions.ConnectionException;
import org.openstack4j.api.types.Facing;
import org.openstack4j.core.transport.ClientConstants;
import org.openstack4j.core.transport.Config;
import org.openstack4j.core.transport.HttpMethod;
import org.openstack4j.openstack.OSFactory;
import org.openstack4j.openstack.identity.v3.domain.KeystoneToken;

/**
 * {@link CinderGateway} on OpenStack4j's okhttp connector. Every call binds a fresh OpenStack4j session to the
 * calling thread from the shared {@link TokenManager} (OpenStack4j keeps sessions in a ThreadLocal, and a client
 * object silently follows the thread's newest session), so no OpenStack4j object ever crosses threads.
 */
public final class OpenStackCinderGateway implements CinderGateway {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Cinder's default max_limit: asking for more gives no more. */
  static final int PAGE_SIZE = 1000;

  private final TokenManager tokens;
  private final Config transport;
  private final ApiVersion version;
  private final CinderRestService rest = new CinderRestService();

  public OpenStackCinderGateway(TokenManager tokens, Config transport, ApiVersion version) {
    this.tokens = tokens;
    this.transport = transport;
    this.version = version;
  }

  @Override
  public ApiVersion apiVersion() {
    return version;
  }

  // ------------------------------------------------------------------ transport

  private JsonNode call(String operation, HttpMethod method, String path, Map<String, ?> params, Object body) {
    CinderRestService.Raw raw = send(operation, method, path, params, body);
    if (raw.body().isBlank()) {
      return JSON.nullNode();
    }
    try {
      return JSON.readTree(raw.body());
    } catch (JsonProcessingException e) {
      throw new CinderException(Kind.PROTOCOL, raw.status(), operation + ": Cinder's answer is not JSON");
    }
  }

  private CinderRestService.Raw send(String operation, HttpMethod method, String path, Map<String, ?> params,
      Object body) {
    String json;
    try {
      json = body == null ? null : JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
    for (int attempt = 0; ; attempt++) {
      AuthToken token = tokens.current();
      KeystoneToken session = new KeystoneToken();
      session.setEndpoint(version.endpoint());
      session.setId(token.id());
      OSFactory.clientFromToken(session, Facing.PUBLIC, transport);
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Accept", "application/json");
      // Stops OpenStack4j's own re-authentication, which cannot renew tokens it did not make: we handle 401.
      headers.put(ClientConstants.HEADER_OS4J_AUTH, "standalone-cinder");
      if (version.major() >= 3 && version.usedMicroversion() != null) {
        headers.put("OpenStack-API-Version", "volume " + version.usedMicroversion());
      }
      CinderRestService.Raw raw;
      try {
        raw = rest.send(method, path, params, json, headers);
      } catch (ConnectionException e) {
        throw new CinderException(Kind.UNREACHABLE, 0, operation + ": Cinder at " + version.endpoint()
            + " is unreachable: " + rootMessage(e), null, e);
      } catch (RuntimeException e) {
        if (rootCause(e) instanceof java.io.IOException) {
          throw new CinderException(Kind.UNREACHABLE, 0, operation + ": Cinder at " + version.endpoint()
              + " is unreachable: " + rootMessage(e), null, e);
        }
        throw e;
      }
      if (raw.status() == 401 && attempt == 0) {
        tokens.invalidate(token);
        continue;
      }
      if (raw.status() >= 400) {
        throw CinderErrors.classify(operation, raw.status(), raw.body(), raw.header("Retry-After"));
      }
      return raw;
    }
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = rootCause(e);
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  private static Map<String, Object> action(String name, Object args) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(name, args == null ? Map.of() : args);
    return m;
  }

  private void volumeAction(String volumeId, String name, Object args) {
    send(name + " on volume " + volumeId, HttpMethod.POST, "/volumes/" + volumeId + "/action", null,
        action(name, args));
  }

  // ------------------------------------------------------------------ volumes

  @Override
  public CinderVolume createVolume(VolumeCreateRequest r) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", r.name());
    v.put("size", r.sizeGiB());
    putIf(v, "volume_type", r.volumeType());
    putIf(v, "availability_zone", r.availabilityZone());
    putIf(v, "description", r.description());
    putIf(v, "source_volid", r.sourceVolumeId());
    putIf(v, "snapshot_id", r.snapshotId());
    if (r.backupId() != null) {
      requireMicroversion(Microversion.VOLUME_FROM_BACKUP, "a volume from a backup (backup_id)");
      v.put("backup_id", r.backupId());
    }
    if (!r.metadata().isEmpty()) {
      v.put("metadata", r.metadata());
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("volume", v);
    if (!r.schedulerHints().isEmpty()) {
      body.put("OS-SCH-HNT:scheduler_hints", r.schedulerHints());
    }
    JsonNode resp = call("create volume " + r.name(), HttpMethod.POST, "/volumes", null, body);
    return volume(resp.path("volume"));
  }

  @Override
  public Optional<CinderVolume> getVolume(String volumeId) {
    try {
      return Optional.of(volume(call("get volume " + volumeId, HttpMethod.GET, "/volumes/" + volumeId, null, null)
          .path("volume")));
    } catch (CinderException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public List<CinderVolume> findVolumes(String name, Map<String, String> metadata) {
    Map<String, Object> filters = new LinkedHashMap<>();
    filters.put("name", name);
    if (!metadata.isEmpty()) {
      filters.put("metadata", json(metadata));
    }
    return queryVolumes(filters).stream()
        .filter(v -> name.equals(v.name()) && v.metadata().entrySet().containsAll(metadata.entrySet()))
        .toList();
  }

  @Override
  public List<CinderVolume> listVolumes(Map<String, String> metadata) {
    Map<String, Object> filters = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      filters.put("metadata", json(metadata));
    }
    return queryVolumes(filters).stream()
        .filter(v -> v.metadata().entrySet().containsAll(metadata.entrySet())).toList();
  }

  @Override
  public void forEachVolume(Map<String, String> metadata, Consumer<CinderVolume> each) {
    Map<String, Object> filters = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      filters.put("metadata", json(metadata));
    }
    pages("list volumes", "/volumes/detail", "volumes", filters, n -> {
      CinderVolume v = volume(n);
      if (v.metadata().entrySet().containsAll(metadata.entrySet())) {
        each.accept(v);
      }
    });
  }

  @Override
  public void updateVolumeMetadata(String volumeId, Map<String, String> metadata) {
    // POST merges the given keys into the volume's metadata; PUT would replace all of it.
    send("update metadata of volume " + volumeId, HttpMethod.POST, "/volumes/" + volumeId + "/metadata", null,
        Map.of("metadata", metadata));
  }

  @Override
  public void replaceVolumeMetadata(String volumeId, Map<String, String> metadata) {
    send("replace metadata of volume " + volumeId, HttpMethod.PUT, "/volumes/" + volumeId + "/metadata", null,
        Map.of("metadata", metadata));
  }

  private List<CinderVolume> queryVolumes(Map<String, Object> filters) {
    List<CinderVolume> out = new ArrayList<>();
    pages("list volumes", "/volumes/detail", "volumes", filters, n -> out.add(volume(n)));
    return out;
  }

  /** Every item over all pages: Cinder caps a page at its max_limit and says so only by a "next" link. */
  private List<JsonNode> pages(String operation, String path, String key, Map<String, Object> filters) {
    List<JsonNode> items = new ArrayList<>();
    pages(operation, path, key, filters, items::add);
    return items;
  }

  /** Hands every item over all pages to {@code each}, a page at a time (only the current page is held). */
  private void pages(String operation, String path, String key, Map<String, Object> filters,
      Consumer<JsonNode> each) {
    String marker = null;
    while (true) {
      Map<String, Object> params = new LinkedHashMap<>(filters);
      params.put("limit", PAGE_SIZE);
      if (marker != null) {
        params.put("marker", marker);
      }
      JsonNode page = call(operation, HttpMethod.GET, path, params, null);
      JsonNode list = page.path(key);
      list.forEach(each);
      boolean hasNext = false;
      for (JsonNode link : page.path(key + "_links")) {
        hasNext |= "next".equals(link.path("rel").asText());
      }
      if (!hasNext || list.isEmpty()) {
        return;
      }
      String last = list.get(list.size() - 1).path("id").asText();
      if (last.equals(marker)) {
        return;
      }
      marker = last;
    }
  }

  @Override
  public void reserve(String volumeId) {
    volumeAction(volumeId, "os-reserve", null);
  }

  @Override
  public void unreserve(String volumeId) {
    volumeAction(volumeId, "os-unreserve", null);
  }

  @Override
  public ConnectionInfo initializeConnection(String volumeId, Connector connector) {
    JsonNode resp = call("os-initialize_connection on volume " + volumeId, HttpMethod.POST,
        "/volumes/" + volumeId + "/action",
        null, action("os-initialize_connection", Map.of("connector", connector.toCinderMap())));
    return connectionInfo(resp.path("connection_info"), "os-initialize_connection on volume " + volumeId);
  }

  @Override
  public void terminateConnection(String volumeId, Connector connector) {
    volumeAction(volumeId, "os-terminate_connection", Map.of("connector", connector.toCinderMap()));
  }

  @Override
  public void attach(String volumeId, String hostName, String mountpoint) {
    volumeAction(volumeId, "os-attach", Map.of("host_name", hostName, "mountpoint", mountpoint, "mode", "rw"));
  }

  @Override
  public void detach(String volumeId, String attachmentId) {
    volumeAction(volumeId, "os-detach", attachmentId == null ? Map.of() : Map.of("attachment_id", attachmentId));
  }

  @Override
  public CinderAttachment createAttachment(String volumeId, Connector connector, String hostName) {
    requireMicroversion(Microversion.ATTACHMENTS, "the attachments API");
    Map<String, Object> connectorMap = new LinkedHashMap<>(connector.toCinderMap());
    connectorMap.putIfAbsent("host", hostName);
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("volume_uuid", volumeId);
    a.put("connector", connectorMap);
    a.put("mode", "rw");
    JsonNode resp = call("create attachment for volume " + volumeId, HttpMethod.POST, "/attachments", null,
        Map.of("attachment", a)).path("attachment");
    JsonNode ci = resp.path("connection_info");
    return new CinderAttachment(resp.path("id").asText(), volumeId, resp.path("status").asText(null),
        ci.isMissingNode() || ci.isNull() || ci.isEmpty() ? null
            : connectionInfo(ci, "attachment of volume " + volumeId));
  }

  @Override
  public void completeAttachment(String attachmentId) {
    requireMicroversion(Microversion.ATTACHMENT_COMPLETE, "os-complete");
    send("complete attachment " + attachmentId, HttpMethod.POST, "/attachments/" + attachmentId + "/action", null,
        action("os-complete", null));
  }

  @Override
  public boolean deleteAttachment(String attachmentId) {
    requireMicroversion(Microversion.ATTACHMENTS, "the attachments API");
    return deleted(() -> send("delete attachment " + attachmentId, HttpMethod.DELETE,
        "/attachments/" + attachmentId, null, null));
  }

  @Override
  public List<CinderAttachment> listAttachments(String volumeId) {
    requireMicroversion(Microversion.ATTACHMENTS, "the attachments API");
    List<CinderAttachment> out = new ArrayList<>();
    for (JsonNode a : pages("list attachments of volume " + volumeId, "/attachments", "attachments",
        Map.of("volume_id", volumeId))) {
      String vol = a.path("volume_id").asText(volumeId);
      if (vol.equals(volumeId)) {
        String instance = a.path("instance").asText(null);
        out.add(new CinderAttachment(a.path("id").asText(), vol, a.path("status").asText(null),
            instance == null || instance.isBlank() || instance.equals("null") ? null : instance, null));
      }
    }
    return out;
  }

  @Override
  public List<String> listUserMessages(String resourceId) {
    if (version.usedMicroversion() == null || version.usedMicroversion().compareTo(Microversion.MESSAGES) < 0) {
      return List.of();
    }
    List<JsonNode> found = new ArrayList<>(pages("list messages about " + resourceId, "/messages", "messages",
        Map.of("resource_uuid", resourceId)));
    found.sort(java.util.Comparator.comparing((JsonNode m) -> m.path("created_at").asText("")).reversed());
    return found.stream().filter(m -> resourceId.equals(m.path("resource_uuid").asText(resourceId)))
        .map(m -> m.path("user_message").asText("")).filter(t -> !t.isBlank()).toList();
  }

  @Override
  public boolean forceDeleteVolume(String volumeId) {
    return deleted(() -> volumeAction(volumeId, "os-force_delete", null));
  }

  @Override
  public boolean deleteVolume(String volumeId) {
    return deleted(() -> send("delete volume " + volumeId, HttpMethod.DELETE, "/volumes/" + volumeId, null, null));
  }

  @Override
  public void extendVolume(String volumeId, int newSizeGiB) {
    volumeAction(volumeId, "os-extend", Map.of("new_size", newSizeGiB));
  }

  @Override
  public void retypeVolume(String volumeId, String newType, String migrationPolicy) {
    volumeAction(volumeId, "os-retype", Map.of("new_type", newType, "migration_policy", migrationPolicy));
  }

  // ------------------------------------------------------------------ snapshots, types, zones

  @Override
  public CinderSnapshot createSnapshot(String volumeId, String name, Map<String, String> metadata, boolean force) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("volume_id", volumeId);
    putIf(s, "name", name);
    s.put("force", force);
    if (metadata != null && !metadata.isEmpty()) {
      s.put("metadata", metadata);
    }
    return snapshot(call("create snapshot of volume " + volumeId, HttpMethod.POST, "/snapshots", null,
        Map.of("snapshot", s)).path("snapshot"));
  }

  @Override
  public Optional<CinderSnapshot> getSnapshot(String snapshotId) {
    try {
      return Optional.of(snapshot(call("get snapshot " + snapshotId, HttpMethod.GET, "/snapshots/" + snapshotId,
          null, null).path("snapshot")));
    } catch (CinderException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public List<CinderSnapshot> listSnapshots(Map<String, String> metadata) {
    Map<String, Object> filters = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      filters.put("metadata", json(metadata));
    }
    return pages("list snapshots", "/snapshots/detail", "snapshots", filters).stream().map(OpenStackCinderGateway::snapshot)
        .filter(s -> s.metadata().entrySet().containsAll(metadata.entrySet())).toList();
  }

  @Override
  public boolean deleteSnapshot(String snapshotId) {
    return deleted(() -> send("delete snapshot " + snapshotId, HttpMethod.DELETE, "/snapshots/" + snapshotId,
        null, null));
  }

  // ------------------------------------------------------------------ backups

  @Override
  public CinderBackup createBackup(String volumeId, String snapshotId, String name, Map<String, String> metadata,
      boolean force) {
    requireMicroversion(Microversion.BACKUP_METADATA, "a backup with metadata");
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("volume_id", volumeId);
    putIf(b, "snapshot_id", snapshotId);
    putIf(b, "name", name);
    b.put("force", force);
    if (metadata != null && !metadata.isEmpty()) {
      b.put("metadata", metadata);
    }
    return backup(call("create backup of volume " + volumeId, HttpMethod.POST, "/backups", null,
        Map.of("backup", b)).path("backup"));
  }

  @Override
  public Optional<CinderBackup> getBackup(String backupId) {
    try {
      return Optional.of(backup(call("get backup " + backupId, HttpMethod.GET, "/backups/" + backupId, null, null)
          .path("backup")));
    } catch (CinderException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public List<CinderBackup> findBackups(String name, Map<String, String> metadata) {
    // Cinder filters backups by name for everyone; metadata is compared here.
    return pages("list backups", "/backups/detail", "backups", Map.of("name", name)).stream()
        .map(OpenStackCinderGateway::backup)
        .filter(b -> name.equals(b.name()) && b.metadata().entrySet().containsAll(metadata.entrySet())).toList();
  }

  @Override
  public boolean deleteBackup(String backupId) {
    return deleted(() -> send("delete backup " + backupId, HttpMethod.DELETE, "/backups/" + backupId, null, null));
  }

  @Override
  public Optional<Boolean> backupServiceUp() {
    JsonNode services;
    try {
      services = call("list cinder-backup services", HttpMethod.GET, "/os-services",
          Map.of("binary", "cinder-backup"), null).path("services");
    } catch (CinderException e) {
      if (e.kind() == Kind.FORBIDDEN || e.kind() == Kind.NOT_FOUND) {
        return Optional.empty(); // not ours to ask (admin-only by default)
      }
      throw e;
    }
    for (JsonNode svc : services) {
      if ("cinder-backup".equals(svc.path("binary").asText()) && "enabled".equals(svc.path("status").asText())
          && "up".equals(svc.path("state").asText())) {
        return Optional.of(true);
      }
    }
    return Optional.of(false);
  }

  private static CinderBackup backup(JsonNode b) {
    if (b.isMissingNode() || !b.hasNonNull("id")) {
      throw new CinderException(Kind.PROTOCOL, 0, "Cinder returned a backup without an id");
    }
    return new CinderBackup(b.get("id").asText(), b.path("name").asText(null), b.path("volume_id").asText(null),
        b.hasNonNull("snapshot_id") ? b.get("snapshot_id").asText() : null, b.path("status").asText(null),
        b.path("size").asInt(), stringMap(b.path("metadata")),
        b.hasNonNull("fail_reason") ? b.get("fail_reason").asText() : null,
        cinderTime(b.path("created_at").asText(null)));
  }

  @Override
  public List<VolumeType> listVolumeTypes() {
    List<VolumeType> out = new ArrayList<>();
    for (JsonNode t : call("list volume types", HttpMethod.GET, "/types", null, null).path("volume_types")) {
      out.add(new VolumeType(t.path("id").asText(), t.path("name").asText(), stringMap(t.path("extra_specs"))));
    }
    return out;
  }

  @Override
  public List<AvailabilityZone> listAvailabilityZones() {
    List<AvailabilityZone> out = new ArrayList<>();
    for (JsonNode z : call("list availability zones", HttpMethod.GET, "/os-availability-zone", null, null)
        .path("availabilityZoneInfo")) {
      out.add(new AvailabilityZone(z.path("zoneName").asText(), z.path("zoneState").path("available").asBoolean()));
    }
    return out;
  }

  // ------------------------------------------------------------------ parsing

  private void requireMicroversion(Microversion needed, String what) {
    if (version.usedMicroversion() == null || version.usedMicroversion().compareTo(needed) < 0) {
      throw new CinderException(Kind.BAD_REQUEST, 0, what + " needs Cinder microversion " + needed
          + "; this Cinder is used at " + (version.usedMicroversion() == null ? "v" + version.major()
              : version.usedMicroversion()));
    }
  }

  private static boolean deleted(Runnable call) {
    try {
      call.run();
      return true;
    } catch (CinderException e) {
      if (e.kind() == Kind.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  private static CinderVolume volume(JsonNode v) {
    if (v.isMissingNode() || !v.hasNonNull("id")) {
      throw new CinderException(Kind.PROTOCOL, 0, "Cinder returned a volume without an id");
    }
    List<CinderVolume.Attachment> attachments = new ArrayList<>();
    for (JsonNode a : v.path("attachments")) {
      String id = a.hasNonNull("attachment_id") ? a.get("attachment_id").asText() : a.path("id").asText(null);
      attachments.add(new CinderVolume.Attachment(id, a.path("server_id").asText(null),
          a.path("host_name").asText(null)));
    }
    String name = v.hasNonNull("name") ? v.get("name").asText() : v.path("display_name").asText(null);
    return new CinderVolume(v.get("id").asText(), name, v.path("status").asText(null), v.path("size").asInt(),
        v.path("volume_type").asText(null), v.path("availability_zone").asText(null), stringMap(v.path("metadata")),
        v.path("multiattach").asBoolean(false), attachments, instant(v.path("created_at").asText(null)),
        v.path("replication_status").asText(null));
  }

  /** Cinder writes {@code 2026-11-23T10:00:00.000000} (UTC, no zone) or with an offset. */
  static java.time.Instant instant(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    // Picked by the text, not by a failed parse: an exception per volume read is a cost of its own.
    int time = text.indexOf('T');
    boolean zoned = time > 0 && (text.endsWith("Z") || text.indexOf('+', time) > 0 || text.indexOf('-', time) > 0);
    try {
      return zoned ? java.time.OffsetDateTime.parse(text).toInstant()
          : java.time.LocalDateTime.parse(text).toInstant(java.time.ZoneOffset.UTC);
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  private static CinderSnapshot snapshot(JsonNode s) {
    return new CinderSnapshot(s.path("id").asText(), s.path("name").asText(null), s.path("volume_id").asText(null),
        s.path("status").asText(null), s.path("size").asInt(), stringMap(s.path("metadata")),
        cinderTime(s.path("created_at").asText(null)));
  }

  /** Cinder's times are UTC, written without a zone ({@code 2026-12-07T05:08:13.000000}); some add one. */
  static java.time.Instant cinderTime(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return java.time.OffsetDateTime.parse(text).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      try {
        return java.time.LocalDateTime.parse(text).toInstant(java.time.ZoneOffset.UTC);
      } catch (java.time.format.DateTimeParseException again) {
        return null;
      }
    }
  }

  /**
   * Connection info as {@code {"driver_volume_type", "data": {...}}} (os-initialize_connection) or flattened with
   * the data keys beside {@code driver_volume_type} (attachments, as Cinder's manager stores it).
   */
  @SuppressWarnings("unchecked")
  static ConnectionInfo connectionInfo(JsonNode ci, String operation) {
    String type = ci.path("driver_volume_type").asText(null);
    if (type == null) {
      throw new CinderException(Kind.PROTOCOL, 0, operation + ": connection_info has no driver_volume_type");
    }
    JsonNode data = ci.path("data");
    Map<String, Object> map;
    if (data.isObject()) {
      map = JSON.convertValue(data, Map.class);
    } else {
      ObjectNode copy = ((ObjectNode) ci).deepCopy();
      copy.remove("driver_volume_type");
      map = JSON.convertValue(copy, Map.class);
    }
    return new ConnectionInfo(type, map);
  }

  private static Map<String, String> stringMap(JsonNode n) {
    Map<String, String> m = new LinkedHashMap<>();
    if (n != null && n.isObject()) {
      n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
    }
    m.values().removeIf(java.util.Objects::isNull);
    return m;
  }

  private static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static void putIf(Map<String, Object> m, String k, Object v) {
    if (v != null) {
      m.put(k, v);
    }
  }
}
