package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Minimal Keystone: v3 {@code POST /auth/tokens} (password, application_credential, token) and v2.0
 * {@code POST /tokens}; shapes follow the Keystone API reference (token body, {@code X-Subject-Token}, error body
 * {@code {"error": {"code", "message", "title"}}}).
 */
final class KeystoneService {
  static final DateTimeFormatter KS_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
  static final String DOMAIN_ID = "default";
  static final String DOMAIN_NAME = "Default";

  record TokenInfo(String userId, String userName, String projectId, String projectName, List<String> methods,
      Instant issuedAt, Instant expiresAt, String appCredId) {}

  private final CinderSimulator.Builder cfg;
  private final CinderSimulator sim;
  private final ObjectMapper mapper;
  final Map<String, TokenInfo> tokens = new ConcurrentHashMap<>();

  KeystoneService(CinderSimulator.Builder cfg, CinderSimulator sim, ObjectMapper mapper) {
    this.cfg = cfg;
    this.sim = sim;
    this.mapper = mapper;
  }

  static String userId(String name) {
    return UUID.nameUUIDFromBytes(("user:" + name).getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString()
        .replace("-", "");
  }

  /** A valid, unexpired token, or null. */
  TokenInfo validate(String token) {
    if (token == null) {
      return null;
    }
    TokenInfo t = tokens.get(token);
    if (t == null) {
      return null;
    }
    if (!Instant.now().isBefore(t.expiresAt)) {
      tokens.remove(token);
      return null;
    }
    return t;
  }

  static ApiException error(int code, String title, String message) {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("code", code);
    inner.put("message", message);
    inner.put("title", title);
    return new ApiException(code, message).body(Map.of("error", inner));
  }

  static ApiException unauthorized() {
    return error(401, "Unauthorized", "The request you have made requires authentication.");
  }

  Map<String, Object> versionDocument() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", "v3.14");
    v.put("status", "stable");
    v.put("updated", "2020-04-07T00:00:00Z");
    v.put("links", List.of(Map.of("rel", "self", "href", sim.keystoneUrl() + "/")));
    v.put("media-types", List.of(Map.of("base", "application/json",
        "type", "application/vnd.openstack.identity-v3+json")));
    return Map.of("version", v);
  }

  /** v3 token issue; returns [tokenId, body]. */
  Object[] issueV3(JsonNode body) {
    JsonNode auth = body == null ? null : body.get("auth");
    JsonNode identity = auth == null ? null : auth.get("identity");
    JsonNode methodsNode = identity == null ? null : identity.get("methods");
    if (methodsNode == null || !methodsNode.isArray() || methodsNode.isEmpty()) {
      throw error(400, "Bad Request", "Expecting to find identity in auth - the server could not comply with the"
          + " request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
    }
    String method = methodsNode.get(0).asText();
    String userName;
    String appCredId = null;
    String scopedProject = null;
    switch (method) {
      case "password" -> {
        JsonNode user = identity.path("password").path("user");
        String name = text(user, "name");
        String id = text(user, "id");
        String password = text(user, "password");
        userName = null;
        for (Map.Entry<String, String> e : cfg.users.entrySet()) {
          boolean match = (id != null && id.equals(userId(e.getKey())))
              || (name != null && name.equals(e.getKey()) && domainOk(user.path("domain")));
          if (match && e.getValue().equals(password)) {
            userName = e.getKey();
          }
        }
        if (userName == null) {
          throw unauthorized();
        }
      }
      case "application_credential" -> {
        JsonNode ac = identity.path("application_credential");
        String id = text(ac, "id");
        String name = text(ac, "name");
        String secret = text(ac, "secret");
        CinderSimulator.AppCred found = null;
        for (CinderSimulator.AppCred c : cfg.appCreds) {
          boolean match = id != null ? id.equals(c.id())
              : name != null && name.equals(c.name()) && userMatches(ac.path("user"), c.user());
          if (match && c.secret().equals(secret)) {
            found = c;
          }
        }
        if (found == null) {
          throw unauthorized();
        }
        userName = found.user();
        appCredId = found.id();
        scopedProject = cfg.projectId;
      }
      case "token" -> {
        TokenInfo old = validate(text(identity.path("token"), "id"));
        if (old == null) {
          throw error(404, "Not Found", "Could not find token: " + text(identity.path("token"), "id") + ".");
        }
        userName = old.userName();
        appCredId = old.appCredId();
        if (appCredId != null) {
          scopedProject = cfg.projectId;
        }
      }
      default -> throw unauthorized();
    }
    JsonNode scope = auth.get("scope");
    if (scope != null && scope.has("project")) {
      JsonNode p = scope.get("project");
      String pid = text(p, "id");
      String pname = text(p, "name");
      boolean ok = pid != null ? pid.equals(cfg.projectId) : pname != null && pname.equals(cfg.projectName())
          && domainOk(p.path("domain"));
      if (!ok) {
        throw unauthorized();
      }
      scopedProject = cfg.projectId;
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    TokenInfo info = new TokenInfo(userId(userName), userName, scopedProject,
        scopedProject == null ? null : cfg.projectName(), List.of(method), now, now.plus(cfg.tokenLifetime),
        appCredId);
    String tokenId = "gAAAAA" + UUID.randomUUID().toString().replace("-", "")
        + UUID.randomUUID().toString().replace("-", "");
    tokens.put(tokenId, info);
    return new Object[] {tokenId, Map.of("token", tokenBody(info))};
  }

  private boolean userMatches(JsonNode user, String userName) {
    if (user.isMissingNode()) {
      return false;
    }
    String id = text(user, "id");
    String name = text(user, "name");
    return id != null ? id.equals(userId(userName)) : userName.equals(name) && domainOk(user.path("domain"));
  }

  private static boolean domainOk(JsonNode domain) {
    if (domain == null || domain.isMissingNode() || domain.isNull()) {
      return true;
    }
    String id = text(domain, "id");
    String name = text(domain, "name");
    return (id == null || DOMAIN_ID.equals(id)) && (name == null || DOMAIN_NAME.equals(name));
  }

  private static String text(JsonNode n, String key) {
    JsonNode v = n == null ? null : n.get(key);
    return v == null || v.isNull() || v.isMissingNode() ? null : v.asText();
  }

  private Map<String, Object> tokenBody(TokenInfo info) {
    Map<String, Object> domain = Map.of("id", DOMAIN_ID, "name", DOMAIN_NAME);
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("methods", info.methods());
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("domain", domain);
    user.put("id", info.userId());
    user.put("name", info.userName());
    user.put("password_expires_at", null);
    t.put("user", user);
    t.put("audit_ids", List.of(UUID.randomUUID().toString().substring(0, 22)));
    t.put("expires_at", KS_TIME.format(info.expiresAt()));
    t.put("issued_at", KS_TIME.format(info.issuedAt()));
    if (info.projectId() != null) {
      Map<String, Object> project = new LinkedHashMap<>();
      project.put("domain", domain);
      project.put("id", info.projectId());
      project.put("name", info.projectName());
      t.put("project", project);
      t.put("is_domain", false);
      t.put("roles", List.of(Map.of("id", "0b4b2a1a2c3d4e5f8a9b0c1d2e3f4a5b", "name", "admin"),
          Map.of("id", "9fe2ff9ee4384b1894a90878d3e92bab", "name", "member")));
      t.put("catalog", catalog());
    }
    if (info.appCredId() != null) {
      Map<String, Object> ac = new LinkedHashMap<>();
      ac.put("id", info.appCredId());
      ac.put("name", cfg.appCreds.stream().filter(c -> c.id().equals(info.appCredId())).findFirst()
          .map(CinderSimulator.AppCred::name).orElse(info.appCredId()));
      ac.put("restricted", true);
      t.put("application_credential", ac);
    }
    return t;
  }

  List<Map<String, Object>> catalog() {
    List<Map<String, Object>> catalog = new ArrayList<>();
    catalog.add(service("block-storage", "cinderv3", sim.endpoint()));
    catalog.add(service("volumev3", "cinderv3", sim.endpoint()));
    if (cfg.v2Enabled) {
      catalog.add(service("volumev2", "cinderv2", sim.rootUrl() + "/v2/" + cfg.projectId));
    }
    catalog.add(service("identity", "keystone", sim.rootUrl() + "/identity"));
    return catalog;
  }

  private Map<String, Object> service(String type, String name, String url) {
    List<Map<String, Object>> endpoints = new ArrayList<>();
    for (String iface : List.of("public", "internal", "admin")) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("id", UUID.nameUUIDFromBytes((type + iface).getBytes(java.nio.charset.StandardCharsets.UTF_8))
          .toString().replace("-", ""));
      e.put("interface", iface);
      e.put("region_id", cfg.region);
      e.put("region", cfg.region);
      e.put("url", url);
      endpoints.add(e);
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("endpoints", endpoints);
    s.put("id", UUID.nameUUIDFromBytes(type.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString()
        .replace("-", ""));
    s.put("type", type);
    s.put("name", name);
    return s;
  }

  /** Keystone v2.0 {@code POST /tokens} with passwordCredentials. */
  Map<String, Object> issueV2(JsonNode body) {
    JsonNode auth = body == null ? null : body.get("auth");
    JsonNode pc = auth == null ? null : auth.get("passwordCredentials");
    if (pc == null) {
      throw error(400, "Bad Request", "Expecting to find passwordCredentials in auth.");
    }
    String user = text(pc, "username");
    String password = text(pc, "password");
    if (user == null || password == null || !password.equals(cfg.users.get(user))) {
      throw unauthorized();
    }
    String tenantId = text(auth, "tenantId");
    String tenantName = text(auth, "tenantName");
    boolean scoped = tenantId != null || tenantName != null;
    if (scoped && !(cfg.projectId.equals(tenantId) || cfg.projectName().equals(tenantName))) {
      throw unauthorized();
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    TokenInfo info = new TokenInfo(userId(user), user, scoped ? cfg.projectId : null,
        scoped ? cfg.projectName() : null, List.of("password"), now, now.plus(cfg.tokenLifetime), null);
    String tokenId = UUID.randomUUID().toString().replace("-", "");
    tokens.put(tokenId, info);
    DateTimeFormatter v2Time = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    Map<String, Object> token = new LinkedHashMap<>();
    token.put("id", tokenId);
    token.put("issued_at", KS_TIME.format(now));
    token.put("expires", v2Time.format(info.expiresAt()));
    if (scoped) {
      token.put("tenant", Map.of("id", cfg.projectId, "name", cfg.projectName(), "enabled", true,
          "description", ""));
    }
    List<Map<String, Object>> catalog = new ArrayList<>();
    if (scoped) {
      for (Map<String, Object> s : catalog()) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> eps = (List<Map<String, Object>>) s.get("endpoints");
        String url = (String) eps.get(0).get("url");
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("id", eps.get(0).get("id"));
        e.put("region", cfg.region);
        e.put("publicURL", url);
        e.put("internalURL", url);
        e.put("adminURL", url);
        Map<String, Object> svc = new LinkedHashMap<>();
        svc.put("type", s.get("type"));
        svc.put("name", s.get("name"));
        svc.put("endpoints", List.of(e));
        svc.put("endpoints_links", List.of());
        catalog.add(svc);
      }
    }
    Map<String, Object> access = new LinkedHashMap<>();
    access.put("token", token);
    access.put("serviceCatalog", catalog);
    access.put("user", Map.of("id", info.userId(), "name", user, "username", user,
        "roles", List.of(Map.of("name", "admin")), "roles_links", List.of()));
    access.put("metadata", Map.of("is_admin", 0, "roles", List.of()));
    return Map.of("access", access);
  }

  void revoke(String token) {
    tokens.remove(token);
  }
}
