package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Tiny JSON client for the simulator tests. */
final class SimClient {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String base;
  final Map<String, String> headers = new LinkedHashMap<>();
  Duration timeout = Duration.ofSeconds(5);

  SimClient(String base, String token) {
    this.base = base;
    if (token != null) {
      headers.put("X-Auth-Token", token);
    }
  }

  SimClient microversion(String mv) {
    headers.put("OpenStack-API-Version", "volume " + mv);
    return this;
  }

  record Res(int status, JsonNode json, HttpResponse<String> raw) {
    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + raw.body();
    }
  }

  Res get(String path) {
    return send("GET", path, null);
  }

  Res post(String path, Object body) {
    return send("POST", path, body);
  }

  Res put(String path, Object body) {
    return send("PUT", path, body);
  }

  Res delete(String path) {
    return send("DELETE", path, null);
  }

  Res action(String volumeId, String action, Object args) {
    return post("/volumes/" + volumeId + "/action", Map.of(action, args));
  }

  Res send(String method, String path, Object body) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
      headers.forEach(b::header);
      if (body != null) {
        String json = body instanceof String s ? s : MAPPER.writeValueAsString(body);
        b.header("Content-Type", "application/json");
        b.method(method, HttpRequest.BodyPublishers.ofString(json));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode node = r.body() == null || r.body().isEmpty() ? MissingNode.getInstance() : MAPPER.readTree(r.body());
      return new Res(r.statusCode(), node, r);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Creates a volume and returns its id. */
  String createVolume(String name, int size) {
    Res r = post("/volumes", Map.of("volume", Map.of("name", name, "size", size)));
    if (r.status() != 202) {
      throw new AssertionError("create failed: " + r);
    }
    return r.json().path("volume").path("id").asText();
  }

  String status(String volumeId) {
    return get("/volumes/" + volumeId).json().path("volume").path("status").asText();
  }
}
