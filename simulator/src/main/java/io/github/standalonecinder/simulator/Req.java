package io.github.standalonecinder.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** One parsed request, as seen by the simulator's handlers. */
final class Req {
  final String method;
  final String path;
  final String rawQuery;
  final Map<String, String> query = new LinkedHashMap<>();
  final byte[] body;
  private JsonNode json;

  /** Microversion as major*1000+minor; 3000 for v2 and for requests without the header. */
  int mv = 3000;
  boolean v2;
  /** e.g. {@code http://127.0.0.1:8776/v3/demo-project} or {@code http://127.0.0.1:8776/v3}. */
  String apiPrefix;
  /** e.g. {@code http://127.0.0.1:8776/demo-project} or {@code http://127.0.0.1:8776}. */
  String bookmarkPrefix;
  String projectId;
  String userId;

  Req(String method, String path, String rawQuery, byte[] body) {
    this.method = method;
    this.path = path;
    this.rawQuery = rawQuery;
    this.body = body;
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String pair : rawQuery.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String k = decode(eq < 0 ? pair : pair.substring(0, eq));
        String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
        query.putIfAbsent(k, v);
      }
    }
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** The parsed JSON body; NullNode when empty; 400 "Malformed request body" when not JSON. */
  JsonNode json(ObjectMapper mapper) {
    if (json == null) {
      if (body == null || body.length == 0) {
        json = NullNode.getInstance();
      } else {
        try {
          json = mapper.readTree(body);
        } catch (IOException e) {
          throw ApiException.badRequest("Malformed request body");
        }
        if (json == null) {
          json = NullNode.getInstance();
        }
      }
    }
    return json;
  }

  boolean atLeast(int major, int minor) {
    return mv >= major * 1000 + minor;
  }

  String mvString() {
    return (mv / 1000) + "." + (mv % 1000);
  }
}
