package io.github.standalonecinder.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SimulatorKeystoneTest {
  static CinderSimulator sim;

  @BeforeAll
  static void start() {
    sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).projectId("p-id").projectName("demo")
        .users(Map.of("admin", "secret")).applicationCredential("ac-1", "ci", "s3cr3t", "admin")
        .v2Enabled(true).tokenLifetime(Duration.ofSeconds(30)).start();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  static Map<String, Object> password(Map<String, Object> user, Map<String, Object> scope) {
    Map<String, Object> auth = new java.util.LinkedHashMap<>();
    auth.put("identity", Map.of("methods", List.of("password"), "password", Map.of("user", user)));
    if (scope != null) {
      auth.put("scope", scope);
    }
    return Map.of("auth", auth);
  }

  static final Map<String, Object> DOMAIN = Map.of("name", "Default");
  static final Map<String, Object> PROJECT_SCOPE = Map.of("project", Map.of("name", "demo", "domain", DOMAIN));

  @Test
  void versionDocument() {
    SimClient.Res r = new SimClient(sim.keystoneUrl(), null).get("");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().path("version").path("id").asText()).startsWith("v3");
  }

  @Test
  void passwordTokenWithCatalogWorksOnCinder() {
    SimClient ks = new SimClient(sim.keystoneUrl(), null);
    SimClient.Res r = ks.post("/auth/tokens", password(Map.of("name", "admin", "domain", DOMAIN, "password",
        "secret"), PROJECT_SCOPE));
    assertThat(r.status()).isEqualTo(201);
    String token = r.header("X-Subject-Token");
    assertThat(token).isNotBlank();
    JsonNode t = r.json().path("token");
    assertThat(t.path("project").path("id").asText()).isEqualTo("p-id");
    assertThat(t.path("methods").get(0).asText()).isEqualTo("password");
    assertThat(t.path("expires_at").asText()).endsWith("Z");
    assertThat(t.path("issued_at").asText()).isNotEmpty();
    JsonNode catalog = t.path("catalog");
    JsonNode bs = null;
    for (JsonNode svc : catalog) {
      if (svc.path("type").asText().equals("block-storage")) {
        bs = svc;
      }
    }
    assertThat(bs).isNotNull();
    assertThat(bs.path("name").asText()).isEqualTo("cinderv3");
    assertThat(bs.path("endpoints")).hasSize(3);
    JsonNode ep = bs.path("endpoints").get(0);
    assertThat(ep.path("interface").asText()).isEqualTo("public");
    assertThat(ep.path("region_id").asText()).isEqualTo("RegionOne");
    assertThat(ep.path("url").asText()).isEqualTo(sim.endpoint());
    assertThat(catalog.findValuesAsText("type")).contains("volumev3", "volumev2");

    SimClient cinder = new SimClient(sim.endpoint(), token);
    assertThat(cinder.get("/volumes").status()).isEqualTo(200);
    assertThat(new SimClient(sim.endpoint(), "admin:p-id").get("/volumes").status())
        .as("noauth tokens are not accepted in KEYSTONE mode").isEqualTo(401);

    // by user id and project id, then rescoping with the token method
    String userId = t.path("user").path("id").asText();
    SimClient.Res byId = ks.post("/auth/tokens", password(Map.of("id", userId, "password", "secret"),
        Map.of("project", Map.of("id", "p-id"))));
    assertThat(byId.status()).isEqualTo(201);
    SimClient.Res rescoped = ks.post("/auth/tokens", Map.of("auth", Map.of("identity", Map.of("methods",
        List.of("token"), "token", Map.of("id", token)), "scope", PROJECT_SCOPE)));
    assertThat(rescoped.status()).isEqualTo(201);
    assertThat(rescoped.json().path("token").path("methods").get(0).asText()).isEqualTo("token");
  }

  @Test
  void wrongCredentialsGiveKeystone401() {
    SimClient ks = new SimClient(sim.keystoneUrl(), null);
    SimClient.Res r = ks.post("/auth/tokens", password(Map.of("name", "admin", "domain", DOMAIN, "password",
        "nope"), PROJECT_SCOPE));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.header("X-Subject-Token")).isNull();
    assertThat(r.json().path("error").path("code").asInt()).isEqualTo(401);
    assertThat(r.json().path("error").path("title").asText()).isEqualTo("Unauthorized");
    assertThat(r.json().path("error").path("message").asText())
        .isEqualTo("The request you have made requires authentication.");
    assertThat(ks.post("/auth/tokens", password(Map.of("name", "admin", "domain", DOMAIN, "password", "secret"),
        Map.of("project", Map.of("name", "other", "domain", DOMAIN)))).status()).isEqualTo(401);
    assertThat(r.raw().body()).doesNotContain("nope");
  }

  @Test
  void applicationCredentialByIdAndByNameAndUser() {
    SimClient ks = new SimClient(sim.keystoneUrl(), null);
    SimClient.Res byId = ks.post("/auth/tokens", Map.of("auth", Map.of("identity", Map.of("methods",
        List.of("application_credential"), "application_credential", Map.of("id", "ac-1", "secret", "s3cr3t")))));
    assertThat(byId.status()).isEqualTo(201);
    assertThat(byId.json().path("token").path("project").path("id").asText()).isEqualTo("p-id");
    assertThat(byId.json().path("token").path("application_credential").path("id").asText()).isEqualTo("ac-1");
    SimClient.Res byName = ks.post("/auth/tokens", Map.of("auth", Map.of("identity", Map.of("methods",
        List.of("application_credential"), "application_credential", Map.of("name", "ci", "secret", "s3cr3t",
            "user", Map.of("name", "admin", "domain", DOMAIN))))));
    assertThat(byName.status()).isEqualTo(201);
    SimClient.Res bad = ks.post("/auth/tokens", Map.of("auth", Map.of("identity", Map.of("methods",
        List.of("application_credential"), "application_credential", Map.of("id", "ac-1", "secret", "x")))));
    assertThat(bad.status()).isEqualTo(401);
    assertThat(new SimClient(sim.endpoint(), byId.header("X-Subject-Token")).get("/volumes").status())
        .isEqualTo(200);
  }

  @Test
  void tokensExpireAndCanBeRevoked() {
    // Its own simulator: a lifetime short enough to expire here would expire other tests' tokens on a busy machine.
    try (CinderSimulator shortLived = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).projectId("p-id")
        .projectName("demo").tokenLifetime(Duration.ofMillis(700)).start()) {
      tokensExpireAndCanBeRevoked(shortLived);
    }
  }

  private static void tokensExpireAndCanBeRevoked(CinderSimulator sim) {
    SimClient ks = new SimClient(sim.keystoneUrl(), null);
    String token = ks.post("/auth/tokens", password(Map.of("name", "admin", "domain", DOMAIN, "password", "secret"),
        PROJECT_SCOPE)).header("X-Subject-Token");
    SimClient cinder = new SimClient(sim.endpoint(), token);
    assertThat(cinder.get("/volumes").status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(3)).until(() -> cinder.get("/volumes").status() == 401);
    SimClient.Res expired = cinder.get("/volumes");
    assertThat(expired.header("WWW-Authenticate")).startsWith("Keystone uri=");

    String token2 = ks.post("/auth/tokens", password(Map.of("name", "admin", "domain", DOMAIN, "password",
        "secret"), PROJECT_SCOPE)).header("X-Subject-Token");
    sim.revokeToken(token2);
    assertThat(new SimClient(sim.endpoint(), token2).get("/volumes").status()).isEqualTo(401);
  }

  @Test
  void keystoneV2PasswordTokens() {
    SimClient ks = new SimClient(sim.keystoneV2Url(), null);
    SimClient.Res r = ks.post("/tokens", Map.of("auth", Map.of("passwordCredentials",
        Map.of("username", "admin", "password", "secret"), "tenantName", "demo")));
    assertThat(r.status()).isEqualTo(200);
    JsonNode access = r.json().path("access");
    String token = access.path("token").path("id").asText();
    assertThat(access.path("token").path("tenant").path("id").asText()).isEqualTo("p-id");
    assertThat(access.path("serviceCatalog").findValuesAsText("publicURL")).contains(sim.endpoint());
    assertThat(new SimClient(sim.endpoint(), token).get("/volumes").status()).isEqualTo(200);
    assertThat(ks.post("/tokens", Map.of("auth", Map.of("passwordCredentials",
        Map.of("username", "admin", "password", "bad"), "tenantName", "demo"))).status()).isEqualTo(401);
  }
}
