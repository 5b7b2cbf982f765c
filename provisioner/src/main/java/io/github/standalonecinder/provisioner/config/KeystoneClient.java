package io.github.standalonecinder.provisioner.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.standalonecinder.provisioner.auth.AuthToken;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Obtains tokens from Keystone (v3 password, trust, application credential; v2.0 password) and picks the Cinder
 * endpoint from the token's catalog. Done with the JDK HTTP client: OpenStack4j has no application credentials, and
 * its re-authentication cannot refresh tokens it did not make itself.
 */
final class KeystoneClient {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KeystoneClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Catalog types in order of preference: v3 first. */
  private static final List<String> TYPES = List.of("block-storage", "volumev3", "volumev2", "volume");

  private final CloudConfig config;
  private final HttpClient http;
  private final Duration timeout;

  KeystoneClient(CloudConfig config, HttpClient http, Duration timeout) {
    this.config = config;
    this.http = http;
    this.timeout = timeout;
  }

  AuthToken authenticate() {
    String base = config.authUrl().replaceAll("/+$", "");
    boolean v2 = config.mode() == AuthMode.KEYSTONE_V2_PASSWORD;
    String url = v2 ? base + "/tokens" : (base.matches(".*/v3$") ? base : base + "/v3") + "/auth/tokens";
    String body = (v2 ? v2Body() : v3Body()).toString();
    HttpResponse<String> resp;
    try {
      resp = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
          .header("Content-Type", "application/json").header("Accept", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      log.warn("cannot reach Keystone at {}: {}", url, e.toString());
      throw new CinderException(Kind.UNREACHABLE, 0, "cannot reach Keystone (" + e.getClass().getSimpleName()
          + "); the provisioner's log names the URL", null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CinderException(Kind.UNREACHABLE, 0, "interrupted while authenticating", null, e);
    }
    // Exception messages reach Events on users' claims: they name no URL, no user and no server text. The log
    // line has those, once per refused request.
    if (resp.statusCode() == 401 || resp.statusCode() == 403) {
      log.warn("Keystone at {} refused {} (HTTP {}): {}", base, who(), resp.statusCode(),
          keystoneMessage(resp.body()));
      throw new CinderException(Kind.UNAUTHORIZED, resp.statusCode(), "Keystone refused the credentials (HTTP "
          + resp.statusCode() + "); the provisioner's log has the details");
    }
    if (resp.statusCode() / 100 != 2) {
      log.warn("Keystone at {} answered HTTP {} to {}: {}", base, resp.statusCode(), who(),
          keystoneMessage(resp.body()));
      throw new CinderException(resp.statusCode() >= 500 ? Kind.SERVER_ERROR : Kind.BAD_REQUEST,
          resp.statusCode(), "Keystone answered HTTP " + resp.statusCode() + " to the token request; the "
          + "provisioner's log has the details");
    }
    try {
      JsonNode root = JSON.readTree(resp.body());
      if (v2) {
        JsonNode access = root.path("access");
        return new AuthToken(access.path("token").path("id").asText(),
            parseTime(access.path("token").path("expires").asText(null)),
            endpointFrom(access.path("serviceCatalog"), true));
      }
      String id = resp.headers().firstValue("X-Subject-Token").orElseThrow(() ->
          new CinderException(Kind.PROTOCOL, resp.statusCode(), "Keystone sent no X-Subject-Token header"));
      JsonNode token = root.path("token");
      return new AuthToken(id, parseTime(token.path("expires_at").asText(null)),
          endpointFrom(token.path("catalog"), false));
    } catch (IOException e) {
      throw new CinderException(Kind.PROTOCOL, resp.statusCode(), "Keystone's token response is not JSON", null, e);
    }
  }

  private String who() {
    return switch (config.mode()) {
      case KEYSTONE_V3_TOKEN -> "a token";
      case KEYSTONE_V3_APPLICATION_CREDENTIAL -> "application credential "
          + (config.get("application-credential-id") != null ? config.get("application-credential-id")
              : config.get("application-credential-name"));
      default -> "user " + (config.get("username") != null ? config.get("username") : config.get("user-id"));
    };
  }

  private ObjectNode v3Body() {
    ObjectNode auth = JSON.createObjectNode();
    ObjectNode identity = auth.putObject("auth").putObject("identity");
    if (config.mode() == AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL) {
      identity.putArray("methods").add("application_credential");
      ObjectNode ac = identity.putObject("application_credential");
      if (config.get("application-credential-id") != null) {
        ac.put("id", config.get("application-credential-id"));
      } else {
        ac.put("name", config.get("application-credential-name"));
        ac.set("user", userNode());
      }
      ac.put("secret", config.get("application-credential-secret"));
      return auth;
    }
    if (config.mode() == AuthMode.KEYSTONE_V3_TOKEN) {
      identity.putArray("methods").add("token");
      identity.putObject("token").put("id", config.get("token"));
    } else {
      identity.putArray("methods").add("password");
      ObjectNode user = userNode();
      user.put("password", config.get("password"));
      identity.putObject("password").set("user", user);
    }
    ObjectNode scope = ((ObjectNode) auth.get("auth")).putObject("scope");
    if (config.mode() == AuthMode.KEYSTONE_V3_TRUST) {
      scope.putObject("OS-TRUST:trust").put("id", config.get("trust-id"));
    } else {
      ObjectNode project = scope.putObject("project");
      if (config.get("project-id") != null) {
        project.put("id", config.get("project-id"));
      } else {
        project.put("name", config.get("project-name"));
        project.set("domain", domain(config.projectDomainId(), config.projectDomainName()));
      }
    }
    return auth;
  }

  private ObjectNode userNode() {
    ObjectNode user = JSON.createObjectNode();
    if (config.get("user-id") != null) {
      user.put("id", config.get("user-id"));
    } else {
      user.put("name", config.get("username"));
      user.set("domain", domain(config.userDomainId(), config.userDomainName()));
    }
    return user;
  }

  private static ObjectNode domain(String id, String name) {
    ObjectNode d = JSON.createObjectNode();
    if (id != null) {
      d.put("id", id);
    } else {
      d.put("name", name);
    }
    return d;
  }

  private ObjectNode v2Body() {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode auth = root.putObject("auth");
    auth.putObject("passwordCredentials").put("username", config.get("username"))
        .put("password", config.get("password"));
    if (config.get("project-id") != null) {
      auth.put("tenantId", config.get("project-id"));
    } else {
      auth.put("tenantName", config.get("project-name"));
    }
    return root;
  }

  /** The block-storage endpoint for the configured region and interface, v3 types first. */
  private String endpointFrom(JsonNode catalog, boolean v2Catalog) {
    if (config.endpointOverride() != null) {
      return config.endpointOverride();
    }
    String wantedInterface = config.endpointInterface();
    String region = config.region();
    List<String> seen = new ArrayList<>();
    for (String type : TYPES) {
      for (JsonNode service : catalog) {
        if (!type.equals(service.path("type").asText())) {
          continue;
        }
        for (JsonNode ep : service.path("endpoints")) {
          String epRegion = ep.hasNonNull("region_id") ? ep.get("region_id").asText() : ep.path("region").asText();
          seen.add(type + "@" + epRegion);
          if (region != null && !region.equals(epRegion)) {
            continue;
          }
          if (v2Catalog) {
            String url = ep.path(wantedInterface + "URL").asText(null);
            if (url != null) {
              return url;
            }
          } else if (wantedInterface.equals(ep.path("interface").asText().toLowerCase(Locale.ROOT))) {
            return ep.path("url").asText();
          }
        }
      }
    }
    throw new CinderException(Kind.PROTOCOL, 0, "Keystone's catalog has no " + wantedInterface
        + " block-storage endpoint" + (region == null ? "" : " in region " + region) + " (found: " + seen
        + "); check region and os-endpoint-type, or set cinder-endpoint");
  }

  private static Instant parseTime(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (RuntimeException e) {
      return Instant.parse(text.endsWith("Z") ? text : text + "Z");
    }
  }

  private static String keystoneMessage(String body) {
    try {
      JsonNode error = JSON.readTree(body).path("error");
      if (error.hasNonNull("message")) {
        return error.get("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: fall through
    }
    return body == null ? "" : body.length() > 200 ? body.substring(0, 200) : body;
  }

}
