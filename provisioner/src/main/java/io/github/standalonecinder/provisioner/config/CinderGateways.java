package io.github.standalonecinder.provisioner.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.standalonecinder.provisioner.auth.AuthToken;
import io.github.standalonecinder.provisioner.auth.TokenManager;
import io.github.standalonecinder.provisioner.cinder.ApiVersion;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.Microversion;
import io.github.standalonecinder.provisioner.cinder.OpenStackCinderGateway;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a connected {@link CinderGateway} from a {@link CloudConfig}: TLS, the token (noauth or Keystone),
 * and the API version — v3 with the best microversion both sides know, v2 when the server has no v3 — read from
 * Cinder's version document, whatever version the configured or catalog endpoint names.
 */
public final class CinderGateways {
  private static final Logger log = LoggerFactory.getLogger(CinderGateways.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VERSION_SEGMENT = Pattern.compile("/v(\\d+)(\\.\\d+)?(?=/|$)");

  private CinderGateways() {}

  /** Authenticates once and negotiates the API version; fails fast with a one-line reason. */
  public static CinderGateway connect(CloudConfig config, GatewayOptions options) throws ConfigException {
    Tls tls = Tls.configure(config);
    HttpClient http = tls.httpClient(options.connectTimeout());
    TokenManager tokens = new TokenManager(tokenSource(config, http, options), Clock.systemUTC());
    AuthToken first = tokens.current();
    ApiVersion version = discover(first.cinderEndpoint(), http, options);
    log.info("Cinder {} at {} ({}, microversion {})", "v" + version.major(), version.endpoint(), config.mode(),
        version.usedMicroversion() == null ? "none" : version.usedMicroversion());
    org.openstack4j.core.transport.Config transport = org.openstack4j.core.transport.Config.newConfig()
        .withConnectionTimeout((int) options.connectTimeout().toMillis())
        .withReadTimeout((int) options.readTimeout().toMillis());
    transport = tls.transport(transport);
    return new OpenStackCinderGateway(tokens, transport, version);
  }

  private static java.util.function.Supplier<AuthToken> tokenSource(CloudConfig config, HttpClient http,
      GatewayOptions options) {
    if (config.mode() == AuthMode.NOAUTH) {
      // Cinder's noauth middleware takes "user:project" and makes an admin context of it.
      String user = config.get("username") != null ? config.get("username") : "admin";
      String project = config.get("project-name") != null ? config.get("project-name")
          : config.get("project-id") != null ? config.get("project-id")
          : projectInUrl(config.cinderEndpoint()).orElse("admin");
      AuthToken fixed = new AuthToken(user + ":" + project, null, config.cinderEndpoint());
      return () -> fixed;
    }
    KeystoneClient keystone = new KeystoneClient(config, http, options.readTimeout());
    return keystone::authenticate;
  }

  /**
   * The project segment of {@code http://h:8776/v3/<project>}: the noauth token must name the same project, or
   * Cinder answers "Malformed request url".
   */
  static java.util.Optional<String> projectInUrl(String endpoint) {
    String path = URI.create(endpoint.replaceAll("/+$", "")).getRawPath();
    Matcher m = VERSION_SEGMENT.matcher(path == null ? "" : path);
    if (!m.find()) {
      return java.util.Optional.empty();
    }
    String rest = path.substring(m.end()).replaceAll("^/+", "");
    return rest.isEmpty() || rest.contains("/") ? java.util.Optional.empty() : java.util.Optional.of(rest);
  }

  /** Reads the version document at the endpoint's root and picks the API version and microversion. */
  static ApiVersion discover(String endpoint, HttpClient http, GatewayOptions options) {
    URI uri = URI.create(endpoint.replaceAll("/+$", ""));
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    Matcher m = VERSION_SEGMENT.matcher(path);
    String prefix = path;
    String rest = "";
    Integer configuredMajor = null;
    if (m.find()) {
      prefix = path.substring(0, m.start());
      rest = path.substring(m.end());
      configuredMajor = Integer.valueOf(m.group(1));
    }
    String origin = uri.getScheme() + "://" + uri.getRawAuthority();
    JsonNode versions = versionDocument(http, origin + prefix + "/", options);
    if (versions == null && configuredMajor != null) {
      versions = versionDocument(http, origin + prefix + "/v" + configuredMajor + "/", options);
    }
    if (versions == null) {
      throw new CinderException(Kind.UNREACHABLE, 0, "cannot read Cinder's version document at " + origin + prefix
          + "/ : is " + endpoint + " a Cinder endpoint?");
    }
    JsonNode v3 = null;
    JsonNode v2 = null;
    for (JsonNode v : versions) {
      String id = v.path("id").asText();
      if (id.startsWith("v3")) {
        v3 = v;
      } else if (id.startsWith("v2")) {
        v2 = v;
      }
    }
    if (v3 != null) {
      Microversion max = parseOrNull(v3.path("version").asText(null));
      Microversion min = parseOrNull(v3.path("min_version").asText(null));
      Microversion used = max == null ? Microversion.V3_0
          : max.compareTo(options.maxMicroversion()) < 0 ? max : options.maxMicroversion();
      return new ApiVersion(3, min, max, used, origin + prefix + "/v3" + rest);
    }
    if (v2 != null || configuredMajor != null && configuredMajor == 2) {
      return new ApiVersion(2, null, null, null, origin + prefix + "/v2" + rest);
    }
    throw new CinderException(Kind.PROTOCOL, 0, "Cinder at " + origin + prefix + " offers neither API v3 nor v2");
  }

  /** The {@code versions} array (or the single {@code version}) at {@code url}, or null when there is none. */
  private static JsonNode versionDocument(HttpClient http, String url, GatewayOptions options) {
    try {
      HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(options.readTimeout())
          .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200 && resp.statusCode() != 300) {
        log.debug("version document at {}: HTTP {}", url, resp.statusCode());
        return null;
      }
      JsonNode root = JSON.readTree(resp.body());
      if (root.path("versions").isArray()) {
        return root.get("versions");
      }
      if (root.path("version").isObject()) {
        return JSON.createArrayNode().add(root.get("version"));
      }
      return null;
    } catch (IOException e) {
      throw new CinderException(Kind.UNREACHABLE, 0, "cannot reach Cinder at " + url + ": "
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CinderException(Kind.UNREACHABLE, 0, "interrupted reading " + url, null, e);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Microversion parseOrNull(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Microversion.parse(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
