package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Versions, URL forms, noauth, microversions, listing/paging/filters, attachments API, quota. */
class SimulatorApiTest {
  static CinderSimulator sim;

  @BeforeAll
  static void start() {
    sim = CinderSimulator.builder().projectId("proj").v2Enabled(true).maxLimit(5).quota(30, 40).start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  static SimClient client() {
    return new SimClient(sim.endpoint(), sim.noauthToken());
  }

  @Test
  void versionDocuments() {
    SimClient root = new SimClient(sim.rootUrl(), null);
    SimClient.Res all = root.get("/");
    assertThat(all.status()).isEqualTo(300);
    JsonNode versions = all.json().path("versions");
    assertThat(versions).hasSize(2);
    assertThat(versions.get(0).path("id").asText()).isEqualTo("v2.0");
    assertThat(versions.get(0).path("status").asText()).isEqualTo("DEPRECATED");
    JsonNode v3 = versions.get(1);
    assertThat(v3.path("status").asText()).isEqualTo("CURRENT");
    assertThat(v3.path("version").asText()).isEqualTo("3.71");
    assertThat(v3.path("min_version").asText()).isEqualTo("3.0");
    assertThat(v3.path("links").get(1).path("href").asText()).isEqualTo(sim.rootUrl() + "/v3/");
    for (String p : List.of("/v3/", "/v3")) {
      SimClient.Res doc = root.get(p);
      assertThat(doc.status()).isEqualTo(200);
      assertThat(doc.json().path("versions")).hasSize(1);
      assertThat(doc.json().path("versions").get(0).path("id").asText()).isEqualTo("v3.0");
    }
  }

  @Test
  void noauthNeedsTokenAndMatchingProject() {
    SimClient anonymous = new SimClient(sim.endpoint(), null);
    SimClient.Res r = anonymous.get("/volumes");
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.json().path("error").path("code").asInt()).isEqualTo(401);
    SimClient other = new SimClient(sim.endpoint(), "admin:someone-else");
    SimClient.Res wrong = other.get("/volumes");
    assertThat(wrong.status()).isEqualTo(400);
    assertThat(wrong.json().path("badRequest").path("message").asText()).isEqualTo("Malformed request url");
  }

  @Test
  void bothUrlFormsAndV2ServeTheSameProject() {
    String id = client().createVolume("forms", 1);
    SimClient noProject = new SimClient(sim.endpointWithoutProject(), sim.noauthToken());
    SimClient.Res r = noProject.get("/volumes/" + id);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().path("volume").path("links").get(0).path("href").asText())
        .isEqualTo(sim.endpointWithoutProject() + "/volumes/" + id);
    SimClient v2 = new SimClient(sim.endpointV2(), sim.noauthToken());
    SimClient.Res r2 = v2.get("/volumes/" + id);
    assertThat(r2.status()).isEqualTo(200);
    assertThat(r2.header("OpenStack-API-Version")).isNull();
    assertThat(v2.post("/attachments", Map.of("attachment", Map.of("volume_uuid", id))).status()).isEqualTo(404);
  }

  @Test
  void microversionNegotiation() {
    SimClient c = client();
    SimClient.Res none = c.get("/types");
    assertThat(none.header("OpenStack-API-Version")).isEqualTo("volume 3.0");
    assertThat(none.header("Vary")).isEqualTo("OpenStack-API-Version");
    SimClient.Res v = client().microversion("3.27").get("/types");
    assertThat(v.header("OpenStack-API-Version")).isEqualTo("volume 3.27");
    SimClient.Res latest = client().microversion("latest").get("/types");
    assertThat(latest.header("OpenStack-API-Version")).isEqualTo("volume 3.71");
    SimClient legacy = client();
    legacy.headers.put("OpenStack-Volume-microversion", "3.44");
    assertThat(legacy.get("/types").header("OpenStack-API-Version")).isEqualTo("volume 3.44");
    SimClient.Res tooHigh = client().microversion("3.99").get("/volumes");
    assertThat(tooHigh.status()).isEqualTo(406);
    assertThat(tooHigh.json().path("computeFault").path("message").asText())
        .isEqualTo("Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.71.");
    assertThat(client().microversion("2.0").get("/volumes").status()).isEqualTo(406);
    assertThat(client().microversion("three").get("/volumes").status()).isEqualTo(400);
    JsonNode types = c.get("/types").json().path("volume_types");
    assertThat(types.get(0).path("name").asText()).isEqualTo("__DEFAULT__");
    assertThat(c.get("/types/" + types.get(0).path("id").asText()).status()).isEqualTo(200);
    assertThat(c.get("/os-availability-zone").json().path("availabilityZoneInfo").get(0).path("zoneName").asText())
        .isEqualTo("nova");
  }

  @Test
  void attachmentsApiGatedAndDrivesVolumeStatus() {
    SimClient c = client();
    String id = c.createVolume("att", 1);
    await().atMost(Duration.ofSeconds(3)).until(() -> c.status(id).equals("available"));
    Map<String, Object> body = Map.of("attachment", Map.of("volume_uuid", id, "instance_uuid",
        "7f3b0b4e-6d9b-4a3c-9bb0-3c9f2a8d6e11"));
    assertThat(c.post("/attachments", body).status()).as("needs 3.27").isEqualTo(404);
    SimClient c27 = client().microversion("3.27");
    SimClient.Res created = c27.post("/attachments", body);
    assertThat(created.status()).isEqualTo(200);
    JsonNode att = created.json().path("attachment");
    assertThat(att.path("status").asText()).isEqualTo("reserved");
    String attId = att.path("id").asText();
    assertThat(c.status(id)).isEqualTo("reserved");
    SimClient.Res updated = c27.put("/attachments/" + attId, Map.of("attachment", Map.of("connector",
        Map.of("host", "node-1", "initiator", "iqn.2004-10.com.ubuntu:01:abc"))));
    assertThat(updated.status()).isEqualTo(200);
    JsonNode info = updated.json().path("attachment").path("connection_info");
    assertThat(info.path("driver_volume_type").asText()).isEqualTo("iscsi");
    assertThat(info.path("target_iqn").asText()).isEqualTo("iqn.2010-10.org.openstack:volume-" + id);
    assertThat(info.path("attachment_id").asText()).isEqualTo(attId);
    assertThat(updated.json().path("attachment").path("status").asText()).isEqualTo("attaching");
    Map<String, Object> complete = Map.of("os-complete", Map.of());
    assertThat(c27.post("/attachments/" + attId + "/action", complete).status()).as("needs 3.44").isEqualTo(404);
    SimClient c44 = client().microversion("3.44");
    assertThat(c44.post("/attachments/" + attId + "/action", complete).status()).isEqualTo(204);
    assertThat(c.status(id)).isEqualTo("in-use");
    assertThat(c44.get("/attachments/" + attId).json().path("attachment").path("status").asText())
        .isEqualTo("attached");
    SimClient.Res deleted = c44.delete("/attachments/" + attId);
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.json().path("attachments")).isEmpty();
    assertThat(c.status(id)).isEqualTo("available");
    assertThat(sim.statusHistory(id)).containsExactly("creating", "available", "reserved", "attaching", "in-use", "available");

    sim.setVolumeStatus(id, "error");
    SimClient.Res onError = c27.post("/attachments", body);
    assertThat(onError.status()).isEqualTo(400);
    assertThat(onError.json().path("badRequest").path("message").asText()).isEqualTo("Invalid volume: Volume"
        + " attachments can not be created if the volume is in an error state. The Volume " + id
        + " currently has a status of: error ");
  }

  @Test
  void pagingWithMarkerAndFilters() {
    SimClient c = new SimClient(sim.endpoint(), sim.noauthToken());
    // separate project so other tests' volumes do not interfere
    SimClient p = new SimClient(sim.endpointWithoutProject(), "admin:paging");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String id = p.post("/volumes", Map.of("volume", Map.of("name", "page-" + i, "size", 1,
          "metadata", Map.of("group", i % 2 == 0 ? "even" : "odd")))).json().path("volume").path("id").asText();
      created.add(id);
    }
    List<String> seen = new ArrayList<>();
    String url = "/volumes/detail";
    int pages = 0;
    while (url != null) {
      SimClient.Res r = p.get(url);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().path("volumes").size()).isLessThanOrEqualTo(5);
      r.json().path("volumes").forEach(v -> seen.add(v.path("id").asText()));
      JsonNode links = r.json().path("volumes_links");
      url = links.isMissingNode() ? null : links.get(0).path("href").asText().substring(sim.endpointWithoutProject()
          .length());
      pages++;
    }
    assertThat(pages).isEqualTo(3);
    List<String> newestFirst = new ArrayList<>(created);
    java.util.Collections.reverse(newestFirst);
    assertThat(seen).containsExactlyElementsOf(newestFirst);
    assertThat(p.get("/volumes?limit=2&marker=" + newestFirst.get(9)).json().path("volumes").get(0).path("id")
        .asText()).isEqualTo(newestFirst.get(10));
    assertThat(p.get("/volumes?marker=does-not-exist").status()).isEqualTo(404);

    assertThat(p.get("/volumes/detail?name=page-3").json().path("volumes")).hasSize(1);
    String md = URLEncoder.encode("{\"group\": \"even\"}", StandardCharsets.UTF_8);
    SimClient.Res even = p.get("/volumes/detail?limit=100&metadata=" + md);
    assertThat(even.json().path("volumes")).as("limit capped by maxLimit(5); 6 match").hasSize(5);
    String next = even.json().path("volumes_links").get(0).path("href").asText();
    assertThat(next).contains("marker=").contains("metadata=");
    SimClient.Res rest = p.get(next.substring(sim.endpointWithoutProject().length()));
    assertThat(rest.json().path("volumes")).hasSize(1);
    assertThat(rest.json().path("volumes_links").isMissingNode()).isTrue();
    String pyMd = URLEncoder.encode("{'group': 'odd'}", StandardCharsets.UTF_8);
    assertThat(p.get("/volumes/detail?limit=5&metadata=" + pyMd).json().path("volumes")).hasSize(5);
    SimClient.Res summary = p.get("/volumes?limit=1");
    assertThat(summary.json().path("volumes").get(0).has("status")).isFalse();
    assertThat(summary.json().path("volumes").get(0).has("name")).isTrue();
    Set<String> asc = new HashSet<>();
    p.get("/volumes?sort=created_at:asc&limit=3").json().path("volumes").forEach(v -> asc.add(v.path("id").asText()));
    assertThat(asc).containsExactlyInAnyOrderElementsOf(created.subList(0, 3));
    assertThat(c.get("/volumes/detail?status=creating&name=page-1").json().path("volumes")).as("other project")
        .isEmpty();
    assertThat(c.get("/volumes/detail?all_tenants=1&name=page-1").json().path("volumes")).hasSize(1);
  }

  @Test
  void quotaExceededGives413LikeCinder() {
    SimClient q = new SimClient(sim.endpointWithoutProject(), "admin:quota");
    q.createVolume("q1", 39);
    SimClient.Res size = q.post("/volumes", Map.of("volume", Map.of("size", 5)));
    assertThat(size.status()).isEqualTo(413);
    JsonNode over = size.json().path("overLimit");
    assertThat(over.path("code").asInt()).isEqualTo(413);
    assertThat(over.path("message").asText()).isEqualTo("VolumeSizeExceedsAvailableQuota: Requested volume or"
        + " snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 40G and 39G has been consumed.");
    assertThat(over.path("retryAfter").asText()).isEqualTo("0");
    assertThat(size.header("Retry-After")).isEqualTo("0");
    q.createVolume("q2", 1);
    SimClient.Res limits = q.get("/limits");
    assertThat(limits.json().path("limits").path("absolute").path("totalGigabytesUsed").asInt()).isEqualTo(40);
    assertThat(limits.json().path("limits").path("absolute").path("maxTotalVolumes").asInt()).isEqualTo(30);
  }

  @Test
  void volumeCountQuota() {
    try (CinderSimulator small = CinderSimulator.builder().quota(1, -1).start()) {
      SimClient c = new SimClient(small.endpoint(), small.noauthToken());
      c.createVolume("one", 1);
      SimClient.Res r = c.post("/volumes", Map.of("volume", Map.of("size", 1)));
      assertThat(r.status()).isEqualTo(413);
      assertThat(r.json().path("overLimit").path("message").asText())
          .isEqualTo("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
    }
  }
}
