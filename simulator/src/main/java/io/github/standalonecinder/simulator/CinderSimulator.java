package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process simulator of the OpenStack Cinder v3 API subset the provisioner uses, plus a minimal Keystone.
 *
 * <pre>{@code
 * try (CinderSimulator sim = CinderSimulator.builder()
 *     .projectId("demo-project")
 *     .auth(SimulatorAuth.NOAUTH)            // or KEYSTONE
 *     .backend(SimulatedBackend.ISCSI_CHAP)
 *     .createDelay(Duration.ofMillis(200))
 *     .start()) {
 *   sim.endpoint();                // http://127.0.0.1:PORT/v3/demo-project
 *   sim.noauthToken();             // "admin:demo-project" for X-Auth-Token in NOAUTH mode
 *   sim.volumes();                 // List<SimVolume>
 *   sim.statusHistory(id);         // e.g. [creating, available, attaching, in-use, detaching, available, deleting, deleted]
 *   sim.faults().failNext(2, "POST", "/volumes$", 503);
 * }
 * }</pre>
 *
 * <h2>Builder options</h2> {@link Builder#bindAddress} (127.0.0.1), {@link Builder#port} (0 = ephemeral),
 * {@link Builder#projectId}/{@link Builder#projectName}, {@link Builder#auth}, {@link Builder#backend},
 * {@link Builder#apiLatency} (per request), {@link Builder#createDelay} (creating→available, also snapshots),
 * {@link Builder#deleteDelay} (deleting→gone), {@link Builder#extendDelay} (extending→previous status),
 * {@link Builder#maxMicroversion} ("3.71" like current Cinder), {@link Builder#v2Enabled},
 * {@link Builder#quota(int, int)} (-1 = unlimited), {@link Builder#maxLimit} (page size cap, 1000),
 * {@link Builder#volumeType}, {@link Builder#defaultVolumeType}, {@link Builder#availabilityZones} ("nova"),
 * {@link Builder#users}, {@link Builder#applicationCredential}, {@link Builder#tokenLifetime} (1 h),
 * {@link Builder#region} ("RegionOne"), {@link Builder#seed} (deterministic ids and CHAP secrets),
 * {@link Builder#httpThreads} (32), {@link Builder#backupService} (true: backups, see {@link BackupState}),
 * {@link Builder#capacity} (unlimited).
 *
 * <h2>URLs</h2> {@code /} (300, versions document), {@code /v3/} (v3 version document), {@code /v3/{project}/...}
 * and {@code /v3/...} (same project), {@code /v2/{project}/...} when v2 is enabled, {@code /identity/v3} and
 * {@code /identity/v2.0}.
 *
 * <h2>Status transitions</h2>
 * <ul>
 *   <li>create: creating → available (after createDelay; or a forced fate, see {@link SimulatorFaults})
 *   <li>os-reserve: available → attaching (multiattach: also in-use); os-unreserve / os-terminate_connection:
 *       attaching → available (in-use if attachments remain)
 *   <li>os-attach: available/attaching → in-use (+ attachment); os-begin_detaching: in-use → detaching;
 *       os-roll_detaching: detaching → in-use; os-detach: → available when the last attachment goes
 *   <li>os-extend: available (in-use from 3.42) → extending → previous status with the new size
 *   <li>attachments API: POST → volume reserved (attachment reserved, or attaching with a connector);
 *       os-complete → in-use/attached; DELETE → available when none left
 *   <li>DELETE / os-force_delete: → deleting → gone (history ends with "deleted")
 * </ul>
 *
 * <p>Requests are logged at DEBUG as method, path, status and duration; headers and bodies (tokens, passwords,
 * CHAP secrets, keyrings) are never logged.
 */
public final class CinderSimulator implements AutoCloseable {
  static final Logger LOG = LoggerFactory.getLogger(CinderSimulator.class);
  static final String API_VERSION_HEADER = "OpenStack-API-Version";
  static final String LEGACY_VERSION_HEADER = "OpenStack-Volume-microversion";
  static final Set<String> RESOURCES = Set.of("volumes", "attachments", "snapshots", "types",
      "os-availability-zone", "limits", "extensions", "os-quota-sets", "types_extra_specs", "messages", "backups",
      "os-services");

  static {
    // Without TCP_NODELAY the JDK server's small responses hit Nagle + delayed ACK (~40 ms per request).
    // Read once by the JDK's ServerConfig, so it must be set before the first HttpServer is created.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final Builder cfg;
  private final ObjectMapper mapper = new ObjectMapper();
  private final SimulatorFaults faults;
  private final CinderState state;
  private final KeystoneService keystone;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService httpPool;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final int maxMv;
  private volatile HttpServer server;
  private volatile int port;

  private CinderSimulator(Builder cfg) {
    this.cfg = cfg;
    this.maxMv = parseMv(cfg.maxMicroversion);
    if (maxMv < 3000) {
      throw new IllegalArgumentException("maxMicroversion must be >= 3.0");
    }
    AtomicInteger n = new AtomicInteger();
    this.scheduler = Executors.newScheduledThreadPool(2, r -> daemon(r, "cinder-sim-timer-" + n.incrementAndGet()));
    this.httpPool = Executors.newFixedThreadPool(cfg.httpThreads,
        r -> daemon(r, "cinder-sim-http-" + n.incrementAndGet()));
    this.faults = new SimulatorFaults(this);
    this.state = new CinderState(cfg, scheduler, faults, mapper);
    this.keystone = new KeystoneService(cfg, this, mapper);
    this.port = cfg.port;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ public API

  /** Base URL, {@code http://127.0.0.1:PORT}. */
  public String rootUrl() {
    return "http://" + cfg.bindAddress + ":" + port;
  }

  /** Cinder v3 endpoint in project-in-URL form, {@code http://127.0.0.1:PORT/v3/<projectId>}. */
  public String endpoint() {
    return rootUrl() + "/v3/" + cfg.projectId;
  }

  /** Cinder v3 endpoint without project (modern noauth form), {@code http://127.0.0.1:PORT/v3}. */
  public String endpointWithoutProject() {
    return rootUrl() + "/v3";
  }

  /** Cinder v2 endpoint, {@code http://127.0.0.1:PORT/v2/<projectId>} (served only when v2 is enabled). */
  public String endpointV2() {
    return rootUrl() + "/v2/" + cfg.projectId;
  }

  /** Keystone v3 URL, {@code http://127.0.0.1:PORT/identity/v3}. */
  public String keystoneUrl() {
    return rootUrl() + "/identity/v3";
  }

  /** Keystone v2.0 URL, {@code http://127.0.0.1:PORT/identity/v2.0}. */
  public String keystoneV2Url() {
    return rootUrl() + "/identity/v2.0";
  }

  public int port() {
    return port;
  }

  public String projectId() {
    return cfg.projectId;
  }

  /** A token valid in NOAUTH mode: {@code admin:<projectId>}. */
  public String noauthToken() {
    return "admin:" + cfg.projectId;
  }

  public SimulatorFaults faults() {
    return faults;
  }

  /** The cinder-volume service's host ({@code simulator@<backend>}), as {@code failover_host} names it. */
  public String serviceHost() {
    return state.serviceHost();
  }

  /** Snapshot of all volumes (every project), newest first. */
  public List<SimVolume> volumes() {
    List<SimVolume> out = new ArrayList<>();
    for (CinderState.Vol v : state.volumes.values()) {
      out.add(state.snapshotOf(v));
    }
    out.sort((a, b) -> b.createdAt().compareTo(a.createdAt()));
    return out;
  }

  /** Snapshot of one volume, or null when it does not exist (any more). */
  public SimVolume volume(String id) {
    CinderState.Vol v = state.volumes.get(id);
    return v == null ? null : state.snapshotOf(v);
  }

  /** Snapshot of all Cinder snapshots. */
  public List<SimSnapshot> snapshots() {
    List<SimSnapshot> out = new ArrayList<>();
    for (CinderState.Snap s : state.snapshots.values()) {
      synchronized (s) {
        out.add(new SimSnapshot(s.id, s.volumeId, s.name, s.description, s.status, s.size, Map.copyOf(s.metadata),
            s.createdAt));
      }
    }
    return out;
  }

  /** Snapshot of all Cinder backups. */
  public List<SimBackup> backups() {
    List<SimBackup> out = new ArrayList<>();
    for (BackupState.Backup b : state.backups.backups.values()) {
      synchronized (b) {
        out.add(new SimBackup(b.id, b.volumeId, b.snapshotId, b.name, b.status, b.size, Map.copyOf(b.metadata),
            b.failReason));
      }
    }
    return out;
  }

  /**
   * Starts or stops the cinder-backup service (initially {@link Builder#backupService}); backups created meanwhile
   * end as they would with or without it.
   */
  public void backupService(boolean running) {
    state.backups.serviceUp(running);
  }

  /** Statuses the volume went through, in order; ends with "deleted" once gone. Empty for unknown ids. */
  public List<String> statusHistory(String volumeId) {
    List<String> h = state.histories.get(volumeId);
    if (h == null) {
      return List.of();
    }
    synchronized (h) {
      return List.copyOf(h);
    }
  }

  /** Puts a volume into a status directly (test setup); see also {@link SimulatorFaults#setVolumeStatus}. */
  public void setVolumeStatus(String volumeId, String status) {
    state.forceStatus(volumeId, status);
  }

  /**
   * Request counters keyed {@code "METHOD template"}, e.g. {@code "POST /volumes"}, {@code "GET /volumes/{id}"},
   * {@code "POST /volumes/{id}/action os-reserve"}, {@code "POST /identity/v3/auth/tokens"}. Sorted copy.
   */
  public Map<String, Long> requestCounts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Count of one key of {@link #requestCounts()}, 0 when never seen. */
  public long requestCount(String key) {
    LongAdder a = counts.get(key);
    return a == null ? 0 : a.sum();
  }

  public void resetRequestCounts() {
    counts.clear();
    state.backend.resetPeaks();
  }

  /** The backend's capacity model ({@link Builder#capacity}). */
  public BackendCapacity capacity() {
    return cfg.capacity;
  }

  /** The backend's load under its capacity model: now, at its peak, and the operations refused. */
  public BackendCapacity.Stats capacityStats() {
    return state.backend.stats();
  }

  /** Invalidates a Keystone token (so 401 → re-authentication paths can be tested). */
  public void revokeToken(String token) {
    keystone.revoke(token);
  }

  /** Stops listening (connection refused) without losing state; {@link #restart()} listens again. */
  public void stop() {
    stopListening();
  }

  /** Listens again on the same port after {@link #stop()}. */
  public void restart() {
    startListening();
  }

  @Override
  public void close() {
    stopListening();
    scheduler.shutdownNow();
    httpPool.shutdownNow();
  }

  CinderState state() {
    return state;
  }

  synchronized void stopListening() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  synchronized void startListening() {
    if (server != null) {
      return;
    }
    IOException last = null;
    for (int attempt = 0; attempt < 50; attempt++) {
      try {
        HttpServer s = HttpServer.create(new InetSocketAddress(cfg.bindAddress, port), 256);
        s.setExecutor(httpPool);
        s.createContext("/", this::handle);
        s.start();
        port = s.getAddress().getPort();
        server = s;
        return;
      } catch (IOException e) {
        last = e; // the old socket may still be closing
        sleep(Duration.ofMillis(20));
      }
    }
    throw new UncheckedIOException("cannot listen on " + cfg.bindAddress + ":" + port, last);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ HTTP plumbing

  private void handle(HttpExchange ex) {
    long t0 = System.nanoTime();
    int status = 500;
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    String path = ex.getRequestURI().getRawPath();
    Req req = null;
    Map<String, String> headers = new LinkedHashMap<>();
    Object body = null;
    try {
      byte[] bytes;
      try (InputStream in = ex.getRequestBody()) {
        bytes = in.readAllBytes();
      }
      req = new Req(method, path, ex.getRequestURI().getRawQuery(), bytes);
      try {
        CinderState.Resp resp = dispatch(ex, req, headers);
        status = resp.status();
        body = resp.body();
      } catch (ApiException e) {
        status = e.status;
        body = e.faultBody();
        headers.putAll(e.headers);
        if (status == 401 && !headers.containsKey("WWW-Authenticate")) {
          headers.put("WWW-Authenticate", "Keystone uri=\"" + rootUrl() + "/identity\"");
        }
      } catch (RuntimeException e) {
        LOG.warn("simulator failed on {} {}", method, path, e);
        status = 500;
        body = ApiException.cinderFault(500, "The server has either erred or is incapable of performing the"
            + " requested operation.", null);
      }
      byte[] out;
      if (body == null) {
        out = new byte[0];
      } else if (body instanceof SimulatorFaults.RawJson raw) {
        out = raw.json().getBytes(StandardCharsets.UTF_8);
      } else {
        out = mapper.writeValueAsBytes(body);
      }
      headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      if (out.length > 0) {
        ex.getResponseHeaders().set("Content-Type", "application/json");
      }
      ex.getResponseHeaders().set("x-openstack-request-id", "req-" + java.util.UUID.randomUUID());
      boolean noBody = status == 204 || status == 304 || "HEAD".equals(method) || out.length == 0;
      ex.sendResponseHeaders(status, noBody ? -1 : out.length);
      if (!noBody) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(out);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("simulator could not answer {} {}: {}", method, path, e.toString());
    } finally {
      ex.close();
      if (LOG.isDebugEnabled()) {
        LOG.debug("{} {} -> {} ({} ms)", method, path, status, (System.nanoTime() - t0) / 1_000_000);
      }
    }
  }

  private CinderState.Resp dispatch(HttpExchange ex, Req req, Map<String, String> outHeaders) {
    List<String> seg = new ArrayList<>();
    for (String s : req.path.split("/")) {
      if (!s.isEmpty()) {
        seg.add(java.net.URLDecoder.decode(s, StandardCharsets.UTF_8));
      }
    }
    // identify the route and its template first: counters and fault matching need them
    String template;
    String action = null;
    boolean cinder = !seg.isEmpty() && (seg.get(0).equals("v3") || seg.get(0).equals("v2"));
    List<String> rest = List.of();
    String urlProject = null;
    if (seg.isEmpty()) {
      template = req.method + " /";
    } else if (seg.get(0).equals("identity")) {
      template = req.method + " /" + String.join("/", seg);
    } else if (cinder) {
      rest = seg.subList(1, seg.size());
      if (!rest.isEmpty() && !RESOURCES.contains(rest.get(0))) {
        urlProject = rest.get(0);
        rest = rest.subList(1, rest.size());
      }
      if (rest.isEmpty()) {
        template = req.method + (urlProject == null ? " /" + seg.get(0) + "/" : " /" + seg.get(0) + "/{project}");
      } else {
        StringBuilder t = new StringBuilder(req.method).append(' ');
        for (int i = 0; i < rest.size(); i++) {
          String s = rest.get(i);
          boolean literal = i == 0 || (i == 1 && s.equals("detail")) || (i == 2 && (s.equals("action")
              || s.equals("metadata") || s.equals("extra_specs")));
          t.append('/').append(literal ? s : i == 3 ? "{key}" : "{id}");
        }
        if (rest.size() == 3 && rest.get(2).equals("action") && "POST".equals(req.method)) {
          action = CinderState.actionName(req.json(mapper));
          if (action != null) {
            t.append(' ').append(action);
          }
        }
        template = t.toString();
      }
    } else {
      template = req.method + " <unknown>";
    }
    counts.computeIfAbsent(template, k -> new LongAdder()).increment();

    String target = action == null ? req.path : req.path + " " + action;
    Duration delay = faults.delayFor(req.method, target);
    if (delay != null) {
      sleep(delay);
    }
    if (!cfg.apiLatency.isZero()) {
      sleep(cfg.apiLatency);
    }
    ApiException injected = faults.failureFor(req.method, target);
    if (injected != null) {
      throw injected;
    }

    if (seg.isEmpty()) {
      if (!"GET".equals(req.method)) {
        throw new ApiException(405, "The method is not allowed for this resource.");
      }
      return new CinderState.Resp(300, versions(true, true));
    }
    if (seg.get(0).equals("identity")) {
      return identity(ex, req, seg, outHeaders);
    }
    if (!cinder || (seg.get(0).equals("v2") && !cfg.v2Enabled)) {
      throw ApiException.notFound("The resource could not be found.");
    }
    req.v2 = seg.get(0).equals("v2");
    if (!req.v2) {
      parseMicroversion(ex, req);
      outHeaders.put(API_VERSION_HEADER, "volume " + req.mvString());
      outHeaders.put("Vary", API_VERSION_HEADER);
    }
    if (rest.isEmpty() && urlProject == null) {
      return new CinderState.Resp(200, versions(!req.v2, req.v2));
    }
    authenticate(ex, req, urlProject);
    String root = rootUrl();
    req.apiPrefix = root + "/" + seg.get(0) + (urlProject == null ? "" : "/" + urlProject);
    req.bookmarkPrefix = root + (urlProject == null ? "" : "/" + urlProject);
    if (rest.isEmpty()) {
      throw ApiException.notFound("The resource could not be found.");
    }
    return route(req, rest);
  }

  private CinderState.Resp route(Req req, List<String> r) {
    String m = req.method;
    String res = r.get(0);
    int n = r.size();
    switch (res) {
      case "volumes" -> {
        if (n == 1 && m.equals("POST")) {
          return state.createVolume(req);
        }
        if (n == 1 && m.equals("GET")) {
          return state.listVolumes(req, false);
        }
        if (n == 2 && r.get(1).equals("detail") && m.equals("GET")) {
          return state.listVolumes(req, true);
        }
        if (n == 2 && m.equals("GET")) {
          return state.getVolume(req, r.get(1));
        }
        if (n == 2 && m.equals("PUT")) {
          return state.updateVolume(req, r.get(1));
        }
        if (n == 2 && m.equals("DELETE")) {
          return state.deleteVolume(req, r.get(1), false);
        }
        if (n == 3 && r.get(2).equals("action") && m.equals("POST")) {
          return state.volumeAction(req, r.get(1));
        }
        if (n == 3 && r.get(2).equals("metadata")) {
          switch (m) {
            case "GET" -> {
              return state.getMetadata(r.get(1));
            }
            case "PUT" -> {
              return state.setMetadata(req, r.get(1), true);
            }
            case "POST" -> {
              return state.setMetadata(req, r.get(1), false);
            }
            default -> {
              // fall through to 404/405
            }
          }
        }
        if (n == 4 && r.get(2).equals("metadata") && m.equals("DELETE")) {
          return state.deleteMetadataKey(r.get(1), r.get(3));
        }
      }
      case "attachments" -> {
        if (req.v2 || !req.atLeast(3, 27)) {
          throw ApiException.notFound("The resource could not be found.");
        }
        if (n == 1 && m.equals("POST")) {
          return state.createAttachment(req);
        }
        if (n == 1 && m.equals("GET")) {
          return state.listAttachments(req, false);
        }
        if (n == 2 && r.get(1).equals("detail") && m.equals("GET")) {
          return state.listAttachments(req, true);
        }
        if (n == 2 && m.equals("GET")) {
          return state.getAttachment(r.get(1));
        }
        if (n == 2 && m.equals("PUT")) {
          return state.updateAttachment(req, r.get(1));
        }
        if (n == 2 && m.equals("DELETE")) {
          return state.deleteAttachment(r.get(1));
        }
        if (n == 3 && r.get(2).equals("action") && m.equals("POST")) {
          String action = CinderState.actionName(req.json(mapper));
          if ("os-complete".equals(action)) {
            if (!req.atLeast(3, 44)) {
              throw ApiException.notFound("The resource could not be found.");
            }
            return state.completeAttachment(r.get(1));
          }
          throw ApiException.badRequest("There is no such action: " + action);
        }
      }
      case "snapshots" -> {
        if (n == 1 && m.equals("POST")) {
          return state.createSnapshot(req);
        }
        if (n == 1 && m.equals("GET")) {
          return state.listSnapshots(req, false);
        }
        if (n == 2 && r.get(1).equals("detail") && m.equals("GET")) {
          return state.listSnapshots(req, true);
        }
        if (n == 2 && m.equals("GET")) {
          return state.getSnapshot(req, r.get(1));
        }
        if (n == 2 && m.equals("DELETE")) {
          return state.deleteSnapshot(r.get(1));
        }
        if (n == 3 && r.get(2).equals("action") && m.equals("POST")) {
          JsonNode body = req.json(mapper);
          if (!"os-reset_status".equals(CinderState.actionName(body))) {
            throw ApiException.badRequest("There is no such action: " + CinderState.actionName(body));
          }
          return state.resetSnapshotStatus(r.get(1), body.path("os-reset_status").path("status").asText(null));
        }
      }
      case "backups" -> {
        if (n == 1 && m.equals("POST")) {
          return state.backups.create(req, req.json(mapper));
        }
        if (n == 1 && m.equals("GET")) {
          return state.backups.list(req, false);
        }
        if (n == 2 && r.get(1).equals("detail") && m.equals("GET")) {
          return state.backups.list(req, true);
        }
        if (n == 2 && m.equals("GET")) {
          return state.backups.get(r.get(1));
        }
        if (n == 2 && m.equals("DELETE")) {
          return state.backups.delete(r.get(1));
        }
      }
      case "types" -> {
        if (n == 1 && m.equals("GET")) {
          return state.listTypes(req);
        }
        if (n == 2 && m.equals("GET")) {
          return state.getType(req, r.get(1));
        }
      }
      case "os-availability-zone" -> {
        if (n == 1 && m.equals("GET")) {
          return state.availabilityZones();
        }
      }
      case "messages" -> {
        if (n == 1 && m.equals("GET")) {
          return state.listMessages(req);
        }
      }
      case "os-services" -> {
        if (n == 1 && m.equals("GET")) {
          return state.listServices(req);
        }
        if (n == 2 && m.equals("PUT")) {
          return state.updateService(req, r.get(1));
        }
      }
      case "limits" -> {
        if (n == 1 && m.equals("GET")) {
          return state.limits(req);
        }
      }
      default -> {
        // 404 below
      }
    }
    throw ApiException.notFound("The resource could not be found.");
  }

  private void parseMicroversion(HttpExchange ex, Req req) {
    String header = ex.getRequestHeaders().getFirst(API_VERSION_HEADER);
    String version = null;
    if (header != null) {
      for (String part : header.split(",")) {
        String[] words = part.trim().split("\\s+");
        if (words.length == 2 && words[0].equalsIgnoreCase("volume")) {
          version = words[1];
        }
      }
      if (version == null) {
        throw ApiException.badRequest("API version None is not supported on this method.");
      }
    } else {
      version = ex.getRequestHeaders().getFirst(LEGACY_VERSION_HEADER);
    }
    if (version == null) {
      req.mv = 3000;
      return;
    }
    if (version.equalsIgnoreCase("latest")) {
      req.mv = maxMv;
      return;
    }
    int mv = parseMv(version);
    if (mv < 0) {
      throw ApiException.badRequest("API Version String " + version + " is of invalid format. Must be of format"
          + " MajorNum.MinorNum.");
    }
    if (mv < 3000 || mv > maxMv) {
      throw new ApiException(406, "Version " + (mv / 1000) + "." + (mv % 1000) + " is not supported by the API."
          + " Minimum is 3.0 and maximum is " + cfg.maxMicroversion + ".");
    }
    req.mv = mv;
  }

  static int parseMv(String text) {
    if (text == null || !text.trim().matches("[1-9]\\d*\\.(0|[1-9]\\d*)")) {
      return -1;
    }
    String[] p = text.trim().split("\\.");
    return Integer.parseInt(p[0]) * 1000 + Integer.parseInt(p[1]);
  }

  private void authenticate(HttpExchange ex, Req req, String urlProject) {
    String token = ex.getRequestHeaders().getFirst("X-Auth-Token");
    if (cfg.auth == SimulatorAuth.NOAUTH) {
      if (token == null || token.isBlank()) {
        throw KeystoneService.unauthorized();
      }
      int colon = token.indexOf(':');
      req.userId = colon < 0 ? token : token.substring(0, colon);
      req.projectId = colon < 0 || colon == token.length() - 1 ? req.userId : token.substring(colon + 1);
    } else {
      KeystoneService.TokenInfo info = keystone.validate(token);
      if (info == null || info.projectId() == null) {
        throw KeystoneService.unauthorized();
      }
      req.userId = info.userId();
      req.projectId = info.projectId();
    }
    if (urlProject != null && !urlProject.equals(req.projectId)) {
      throw ApiException.badRequest("Malformed request url");
    }
  }

  private Map<String, Object> versions(boolean v3, boolean v2) {
    List<Map<String, Object>> list = new ArrayList<>();
    String root = rootUrl();
    List<Map<String, String>> describedBy = List.of(Map.of("rel", "describedby", "type", "text/html",
        "href", "https://docs.openstack.org/"));
    if (v2 && cfg.v2Enabled) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("id", "v2.0");
      d.put("status", "DEPRECATED");
      d.put("version", "");
      d.put("min_version", "");
      d.put("updated", "2017-02-25T12:00:00Z");
      List<Map<String, String>> links = new ArrayList<>(describedBy);
      links.add(Map.of("rel", "self", "href", root + "/v2/"));
      d.put("links", links);
      d.put("media-types", List.of(Map.of("base", "application/json",
          "type", "application/vnd.openstack.volume+json;version=2")));
      list.add(d);
    }
    if (v3) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("id", "v3.0");
      d.put("status", "CURRENT");
      d.put("version", cfg.maxMicroversion);
      d.put("min_version", "3.0");
      d.put("updated", "2023-08-31T00:00:00Z");
      List<Map<String, String>> links = new ArrayList<>(describedBy);
      links.add(Map.of("rel", "self", "href", root + "/v3/"));
      d.put("links", links);
      d.put("media-types", List.of(Map.of("base", "application/json",
          "type", "application/vnd.openstack.volume+json;version=3")));
      list.add(d);
    }
    return Map.of("versions", list);
  }

  private CinderState.Resp identity(HttpExchange ex, Req req, List<String> seg, Map<String, String> outHeaders) {
    // seg[0] == "identity"
    if (seg.size() == 1 && req.method.equals("GET")) {
      return new CinderState.Resp(300, Map.of("versions", Map.of("values",
          List.of(keystone.versionDocument().get("version")))));
    }
    String version = seg.size() > 1 ? seg.get(1) : "";
    List<String> rest = seg.subList(Math.min(2, seg.size()), seg.size());
    if (version.equals("v3")) {
      if (rest.isEmpty() && req.method.equals("GET")) {
        return new CinderState.Resp(200, keystone.versionDocument());
      }
      if (rest.equals(List.of("auth", "tokens"))) {
        switch (req.method) {
          case "POST" -> {
            JsonNode body = req.json(mapper);
            Object[] issued = keystone.issueV3(body);
            outHeaders.put("X-Subject-Token", (String) issued[0]);
            return new CinderState.Resp(201, issued[1]);
          }
          case "GET", "HEAD" -> {
            requireKeystoneToken(ex);
            String subject = ex.getRequestHeaders().getFirst("X-Subject-Token");
            if (keystone.validate(subject) == null) {
              throw KeystoneService.error(404, "Not Found", "Could not find token: " + "<redacted>" + ".");
            }
            return new CinderState.Resp(200, null);
          }
          case "DELETE" -> {
            requireKeystoneToken(ex);
            keystone.revoke(ex.getRequestHeaders().getFirst("X-Subject-Token"));
            return new CinderState.Resp(204, null);
          }
          default -> throw KeystoneService.error(405, "Method Not Allowed", "The method is not allowed.");
        }
      }
      if (rest.equals(List.of("auth", "catalog")) && req.method.equals("GET")) {
        requireKeystoneToken(ex);
        return new CinderState.Resp(200, Map.of("catalog", keystone.catalog()));
      }
    } else if (version.equals("v2.0")) {
      if (rest.equals(List.of("tokens")) && req.method.equals("POST")) {
        return new CinderState.Resp(200, keystone.issueV2(req.json(mapper)));
      }
    }
    throw KeystoneService.error(404, "Not Found", "The resource could not be found.");
  }

  private void requireKeystoneToken(HttpExchange ex) {
    if (keystone.validate(ex.getRequestHeaders().getFirst("X-Auth-Token")) == null) {
      throw KeystoneService.unauthorized();
    }
  }

  // ------------------------------------------------------------------ builder

  /** An application credential known to the embedded Keystone (owned by {@code user}, scoped to the project). */
  public record AppCred(String id, String name, String secret, String user) {}

  /** Configuration of a {@link CinderSimulator}; {@link #start()} binds and starts it. */
  public static final class Builder {
    String bindAddress = "127.0.0.1";
    int port;
    String projectId = "demo-project";
    String projectName;
    SimulatorAuth auth = SimulatorAuth.NOAUTH;
    SimulatedBackend backend = SimulatedBackend.ISCSI_CHAP;
    String replicationTarget;
    Duration apiLatency = Duration.ZERO;
    Duration createDelay = Duration.ZERO;
    Duration deleteDelay = Duration.ZERO;
    Duration extendDelay = Duration.ZERO;
    String maxMicroversion = "3.71";
    boolean v2Enabled;
    int maxVolumes = -1;
    int maxGigabytes = -1;
    long backendCapacityGiB = -1;
    boolean backupService = true;
    boolean schedulerHintFilters;
    int maxLimit = 1000;
    final Map<String, Map<String, String>> volumeTypes = new LinkedHashMap<>();
    String defaultVolumeType = CinderState.DEFAULT_TYPE;
    List<String> availabilityZones = List.of("nova");
    Map<String, String> users = Map.of("admin", "secret");
    final List<AppCred> appCreds = new ArrayList<>();
    Duration tokenLifetime = Duration.ofHours(1);
    String region = "RegionOne";
    Long seed;
    int httpThreads = 32;
    BackendCapacity capacity = BackendCapacity.UNLIMITED;

    private Builder() {}

    public Builder bindAddress(String value) {
      this.bindAddress = Objects.requireNonNull(value);
      return this;
    }

    /** 0 (default) picks an ephemeral port. */
    public Builder port(int value) {
      this.port = value;
      return this;
    }

    public Builder projectId(String value) {
      this.projectId = Objects.requireNonNull(value);
      return this;
    }

    /** Keystone project name (scope by name); defaults to the project id. */
    public Builder projectName(String value) {
      this.projectName = value;
      return this;
    }

    String projectName() {
      return projectName == null ? projectId : projectName;
    }

    public Builder auth(SimulatorAuth value) {
      this.auth = Objects.requireNonNull(value);
      return this;
    }

    public Builder backend(SimulatedBackend value) {
      this.backend = Objects.requireNonNull(value);
      return this;
    }

    /**
     * Makes the backend replicate to a secondary site with this {@code backend_id}: volumes of types with
     * {@code replication_enabled='<is> True'} are {@code replication_status} {@code enabled} (others
     * {@code disabled}), and the admin API {@code PUT /os-services/failover_host} fails the backend over (new exports
     * then answer the secondary's portal, IQN and CHAP pair, or monitors, cluster and user) and back
     * ({@code backend_id} {@code default}). The service's host is {@link CinderSimulator#serviceHost()}.
     */
    public Builder replication(String secondaryBackendId) {
      this.replicationTarget = Objects.requireNonNull(secondaryBackendId);
      return this;
    }

    /** Added to every request (default 0). */
    public Builder apiLatency(Duration value) {
      this.apiLatency = Objects.requireNonNull(value);
      return this;
    }

    /** creating → available for volumes and snapshots (default 0, still asynchronous). */
    public Builder createDelay(Duration value) {
      this.createDelay = Objects.requireNonNull(value);
      return this;
    }

    /** deleting → gone (default 0, still asynchronous). */
    public Builder deleteDelay(Duration value) {
      this.deleteDelay = Objects.requireNonNull(value);
      return this;
    }

    /** extending → previous status (default 0, still asynchronous). */
    public Builder extendDelay(Duration value) {
      this.extendDelay = Objects.requireNonNull(value);
      return this;
    }

    /** Highest microversion served, e.g. "3.71" (default, as Cinder master) or "3.27". */
    public Builder maxMicroversion(String value) {
      if (parseMv(value) < 3000) {
        throw new IllegalArgumentException("bad microversion " + value);
      }
      this.maxMicroversion = value;
      return this;
    }

    /** Serve the deprecated v2 API under {@code /v2/{project}} (default false). */
    public Builder v2Enabled(boolean value) {
      this.v2Enabled = value;
      return this;
    }

    /** Per-project quota; -1 means unlimited. Exceeding it gives 413 overLimit like Cinder. */
    public Builder quota(int maxVolumes, int maxGigabytes) {
      this.maxVolumes = maxVolumes;
      this.maxGigabytes = maxGigabytes;
      return this;
    }

    /**
     * The backend's free space; -1 (the default) means unlimited. A volume larger than what is left goes to
     * {@code error} with Cinder's scheduler message, as on a real backend whose pool is too small.
     */
    public Builder backendCapacityGiB(long value) {
      this.backendCapacityGiB = value;
      return this;
    }

    /**
     * Whether the scheduler applies {@code same_host}/{@code different_host} hints, as Cinder's does only with
     * SameBackendFilter and DifferentBackendFilter in {@code scheduler_default_filters}; by default (as in Cinder)
     * hints are accepted and ignored.
     */
    public Builder schedulerHintFilters(boolean value) {
      this.schedulerHintFilters = value;
      return this;
    }

    /**
     * Whether a cinder-backup service runs (default true). Without one, backups end as on a Cinder without it:
     * {@code error} with "Service not found for creating backup.", deletes answered 404 (see {@link BackupState}).
     */
    public Builder backupService(boolean value) {
      this.backupService = value;
      return this;
    }

    /** Server-side page size cap ({@code osapi_max_limit}, default 1000). */
    public Builder maxLimit(int value) {
      if (value <= 0) {
        throw new IllegalArgumentException("maxLimit must be positive");
      }
      this.maxLimit = value;
      return this;
    }

    /** Adds a volume type, e.g. {@code volumeType("multi", Map.of("multiattach", "<is> True"))}. */
    public Builder volumeType(String name, Map<String, String> extraSpecs) {
      this.volumeTypes.put(Objects.requireNonNull(name), Map.copyOf(extraSpecs));
      return this;
    }

    /** Type used when a create request names none (default {@code __DEFAULT__}). */
    public Builder defaultVolumeType(String name) {
      this.defaultVolumeType = Objects.requireNonNull(name);
      return this;
    }

    /** Availability zones; the first one is the default (default: "nova"). */
    public Builder availabilityZones(String... zones) {
      if (zones.length == 0) {
        throw new IllegalArgumentException("at least one zone");
      }
      this.availabilityZones = List.copyOf(Arrays.asList(zones));
      return this;
    }

    /** Keystone password users, name → password, all in domain "Default" (default: admin/secret). */
    public Builder users(Map<String, String> value) {
      this.users = Map.copyOf(value);
      return this;
    }

    /** Keystone application credential (name = id) owned by the first configured user. */
    public Builder applicationCredential(String id, String secret) {
      return applicationCredential(id, id, secret, null);
    }

    /** Keystone application credential with a name, owned by {@code user} (null = first configured user). */
    public Builder applicationCredential(String id, String name, String secret, String user) {
      this.appCreds.add(new AppCred(id, name, secret, user));
      return this;
    }

    /** Lifetime of Keystone tokens (default 1 h); short values let token refresh be tested. */
    public Builder tokenLifetime(Duration value) {
      this.tokenLifetime = Objects.requireNonNull(value);
      return this;
    }

    public Builder region(String value) {
      this.region = Objects.requireNonNull(value);
      return this;
    }

    /** Makes volume/attachment ids and CHAP credentials deterministic. */
    public Builder seed(long value) {
      this.seed = value;
      return this;
    }

    /**
     * How many volume creates and deletes the backend works on at once, how many more wait, and what an
     * overloaded Cinder answers beyond that (default {@link BackendCapacity#UNLIMITED}: all at once).
     */
    public Builder capacity(BackendCapacity value) {
      this.capacity = Objects.requireNonNull(value);
      return this;
    }

    /** Size of the HTTP worker pool (default 32). */
    public Builder httpThreads(int value) {
      this.httpThreads = value;
      return this;
    }

    /** Builds, binds and starts the simulator. */
    public CinderSimulator start() {
      if (!users.isEmpty()) {
        String owner = users.keySet().stream().sorted().findFirst().orElseThrow();
        appCreds.replaceAll(c -> c.user() == null ? new AppCred(c.id(), c.name(), c.secret(), owner) : c);
      }
      CinderSimulator sim = new CinderSimulator(this);
      sim.startListening();
      LOG.debug("Cinder simulator listening on {}", sim.rootUrl());
      return sim;
    }
  }
}
