package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Every Keystone mode through the real gateway against the simulator's Keystone, with all logs captured. */
class KeystoneGatewayTest {
  private static final String PASSWORD = "pa55-word-never-logged";
  private static final String APP_SECRET = "app-credential-secret-never-logged";
  static CinderSimulator sim;
  static ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() {
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    ((Logger) LoggerFactory.getLogger("io.github.standalonecinder")).setLevel(Level.TRACE);
    ((Logger) LoggerFactory.getLogger("org.openstack4j")).setLevel(Level.TRACE);
    logs.start();
    root.addAppender(logs);
    sim = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).backend(SimulatedBackend.ISCSI_CHAP)
        .projectId("p-id").projectName("demo").users(Map.of("alice", PASSWORD))
        .applicationCredential("ac-id", "ci", APP_SECRET, "alice").v2Enabled(true).start();
  }

  @AfterAll
  static void stop() {
    sim.close();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private static CinderGateway connect(Map<String, String> env) throws Exception {
    return CinderGateways.connect(CloudConfig.load(Optional.empty(), env), GatewayOptions.defaults());
  }

  private static void works(CinderGateway g) {
    assertThat(g.apiVersion().major()).isEqualTo(3);
    assertThat(g.listAvailabilityZones()).isNotEmpty();
  }

  @Test
  void everyKeystoneModeReachesCinder() throws Exception {
    String ks = sim.keystoneUrl();
    works(connect(Map.of("OS_AUTH_URL", ks, "OS_USERNAME", "alice", "OS_PASSWORD", PASSWORD,
        "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_NAME", "demo", "OS_PROJECT_DOMAIN_NAME", "Default")));
    works(connect(Map.of("OS_AUTH_URL", ks, "OS_USERNAME", "alice", "OS_PASSWORD", PASSWORD,
        "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_ID", "p-id")));
    works(connect(Map.of("OS_AUTH_URL", ks, "OS_APPLICATION_CREDENTIAL_ID", "ac-id",
        "OS_APPLICATION_CREDENTIAL_SECRET", APP_SECRET)));
    works(connect(Map.of("OS_AUTH_URL", sim.keystoneV2Url(), "OS_USERNAME", "alice", "OS_PASSWORD", PASSWORD,
        "OS_TENANT_NAME", "demo")));
  }

  @Test
  void cinderEndpointWithAuthUrlAuthenticatesWithKeystoneAndSkipsTheCatalog() throws Exception {
    Map<String, String> env = Map.of("OS_AUTH_URL", sim.keystoneUrl(), "OS_USERNAME", "alice",
        "OS_PASSWORD", PASSWORD, "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_ID", "p-id",
        "OS_REGION_NAME", "no-such-region-in-the-catalog", "OS_CINDER_ENDPOINT", sim.endpoint());
    CloudConfig config = CloudConfig.load(Optional.empty(), env);
    assertThat(config.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(config.describeAuth()).isEqualTo("Keystone at " + sim.keystoneUrl() + " (v3 password); Cinder "
        + "endpoint " + sim.endpoint() + " from cinder-endpoint (catalog not used)");
    works(CinderGateways.connect(config, GatewayOptions.defaults()));
    assertThatThrownBy(() -> works(connect(Map.of("OS_CINDER_ENDPOINT", sim.endpoint()))))
        .as("the same endpoint without auth-url is noauth, which this Keystone-protected Cinder refuses")
        .isInstanceOf(CinderException.class);
  }

  @Test
  void aRefusalsMessageNamesNoEndpointUserOrServerTextWhichGoToTheLogOnce() {
    int before = logs.list.size();
    assertThatThrownBy(() -> connect(Map.of("OS_AUTH_URL", sim.keystoneUrl(), "OS_USERNAME", "alice",
        "OS_PASSWORD", "wrong-" + PASSWORD, "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_ID", "p-id")))
        .isInstanceOfSatisfying(CinderException.class, e -> {
          assertThat(e.kind()).isEqualTo(CinderException.Kind.UNAUTHORIZED);
          // This message is what a ProvisioningFailed Event on a user's claim carries.
          assertThat(e.getMessage()).isEqualTo("Keystone refused the credentials (HTTP 401); the provisioner's "
              + "log has the details");
        });
    List<String> lines = logs.list.subList(before, logs.list.size()).stream()
        .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("refused")).toList();
    assertThat(lines).singleElement().asString().contains("Keystone at " + sim.keystoneUrl().replaceAll("/+$", ""))
        .contains("user alice").doesNotContain(PASSWORD);
  }

  @Test
  void anUnreachableKeystoneIsNamedWithoutItsUrl() {
    assertThatThrownBy(() -> connect(Map.of("OS_AUTH_URL", "http://127.0.0.1:1/v3", "OS_USER_ID", "u",
        "OS_PASSWORD", "p", "OS_PROJECT_ID", "p-id")))
        .isInstanceOfSatisfying(CinderException.class, e -> assertThat(e.getMessage())
            .startsWith("cannot reach Keystone (").doesNotContain("127.0.0.1"));
  }

  @Test
  void anExistingTokenIsExchangedForAProjectScopedOne() throws Exception {
    String body = "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": "
        + "\"alice\", \"domain\": {\"name\": \"Default\"}, \"password\": \"" + PASSWORD + "\"}}}}}";
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(sim.keystoneUrl().replaceAll("/+$", "")
            + "/auth/tokens")).header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    String token = r.headers().firstValue("X-Subject-Token").orElseThrow(() -> new AssertionError(r.body()));
    CloudConfig config = CloudConfig.load(Optional.empty(), Map.of("OS_AUTH_URL", sim.keystoneUrl(),
        "OS_TOKEN", token, "OS_PROJECT_ID", "p-id"));
    assertThat(config.mode()).isEqualTo(AuthMode.KEYSTONE_V3_TOKEN);
    assertThat(config.toString()).doesNotContain(token);
    works(CinderGateways.connect(config, GatewayOptions.defaults()));
  }

  @Test
  void manyThreadsShareOneToken() throws Exception {
    CinderGateway g = connect(Map.of("OS_AUTH_URL", sim.keystoneUrl(), "OS_APPLICATION_CREDENTIAL_ID", "ac-id",
        "OS_APPLICATION_CREDENTIAL_SECRET", APP_SECRET));
    long before = sim.requestCount("POST /identity/v3/auth/tokens");
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<?>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(pool.submit(() -> g.listVolumes(Map.of())));
    }
    for (Future<?> f : calls) {
      f.get();
    }
    pool.shutdown();
    assertThat(sim.requestCount("POST /identity/v3/auth/tokens")).as("no thread re-authenticated")
        .isEqualTo(before);
  }

  @Test
  void noSecretReachesAnyLogLine() throws Exception {
    everyKeystoneModeReachesCinder();
    CinderGateway g = connect(Map.of("OS_AUTH_URL", sim.keystoneUrl(), "OS_APPLICATION_CREDENTIAL_ID", "ac-id",
        "OS_APPLICATION_CREDENTIAL_SECRET", APP_SECRET));
    String id = g.createVolume(new VolumeCreateRequest("redaction", 1, null, null, null, Map.of(), null, null)).id();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> g.getVolume(id).orElseThrow().hasStatus("available"));
    var attachment = g.createAttachment(id, new Connector("h", "127.0.0.1", "iqn.2004-10.com.example:h",
        List.of(), List.of(), false, null, null), "h");
    String chapPassword = String.valueOf(attachment.connectionInfo().data().get("auth_password"));
    assertThat(chapPassword).hasSizeGreaterThan(8);
    List<ILoggingEvent> events;
    synchronized (logs) { // the lock the appender appends under: other threads (the simulator's) still log
      events = List.copyOf(logs.list);
    }
    List<String> lines = events.stream().map(e -> e.getFormattedMessage()
        + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())).toList();
    assertThat(lines).isNotEmpty();
    assertThat(lines).noneMatch(l -> l.contains(PASSWORD) || l.contains(APP_SECRET) || l.contains(chapPassword));
  }
}
