package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.github.standalonecinder.e2e.monitoring.Monitoring;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operators' kit against a real Prometheus (Debian's package, started here on loopback with a 1 s scrape and
 * rule interval) scraping the running jar, with the Cinder simulator and the mock API server: a burst of claims,
 * deletions, Cinder faults (a 503 burst, 413 quota, 429, 403, a volume stuck in creating, failed deletes), an
 * orphan, a refused cloud configuration, a second cloud that never connects. Then every query of the dashboard returns data, every alert of
 * deploy/monitoring/ reaches {@code firing}, and, once the jar is stopped, so does the one for no provisioner.
 *
 * <p>The rule file is loaded as shipped but for its {@code for:} durations (15 min at most), cut to
 * {@value #FOR} in a copy: the expressions, windows and thresholds are the shipped ones.
 */
class MonitoringPrometheusTest {
  static final String FOR = "3s";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path dir;

  private String prometheus;

  @Test
  void dashboardQueriesHaveDataAndEveryAlertFires() throws Exception {
    Optional<Path> binary = Monitoring.tool("prometheus");
    if (binary.isEmpty()) {
      System.out.println("MonitoringPrometheusTest: " + Monitoring.missing("prometheus"));
    }
    Assumptions.assumeTrue(binary.isPresent(), Monitoring.missing("prometheus"));
    long t0 = System.nanoTime();
    Path logDir = Chaos.logDir("monitoring");
    int metricsPort = Chaos.freePort();
    int promPort = Chaos.freePort();
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
            .volumeType("iscsi", Map.of()).createDelay(Duration.ofMillis(100)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start()) {
      Chaos.storageClass(api.client, "cinder");
      Path conf = dir.resolve("cloud.conf");
      // A second cloud that never connects: its claims would wait, the default cloud works (StandaloneCinderCloudDown).
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n[Global \"unreachable\"]\n"
          + "cinder-endpoint = http://127.0.0.1:" + Chaos.freePort() + "/v3\n");
      ChaosProcess jar = ChaosProcess.start(logDir, "provisioner", List.of("run", "--kubeconfig",
          api.kubeconfig.toString(), "--cloud-config", conf.toString(), "--no-leader-elect", "--namespace",
          Chaos.NAMESPACE, "--metrics-address", "127.0.0.1:" + metricsPort, "--available-timeout", "3s",
          "--orphan-sweep-interval", "2s", "--orphan-grace-period", "1s", "--orphan-mode", "report",
          "--cloud-config-reload-interval", "1s", "--cinder-connect-timeout", "1s",
          "--connector-initiator", "iqn.2004-10.com.example:monitoring"));
      Process prom = startPrometheus(binary.get(), promPort, metricsPort, logDir);
      try (jar) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
            .until(() -> values("up{job=\"standalone-cinder\"}").contains(1.0));
        long scraping = System.nanoTime();

        // An orphan of this cluster (its claim never existed), made before any fault is armed.
        CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(),
            Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
        String uid = UUID.randomUUID().toString();
        String orphan = cinder.createVolume(new VolumeCreateRequest("pvc-" + uid, 1, null, null, null, Map.of(
            "standalone-cinder.openstack.org/cluster", api.kubeSystemUid,
            "standalone-cinder.openstack.org/pvc-namespace", "apps",
            "standalone-cinder.openstack.org/pvc-name", "gone",
            "standalone-cinder.openstack.org/pvc-uid", uid,
            "standalone-cinder.openstack.org/pv-name", "pvc-" + uid,
            "standalone-cinder.openstack.org/reclaim-policy", "Delete"), null, null)).id();
        await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(orphan).status()));

        // A burst of claims, half of them deleted again (the first deletes failing twice).
        List<PersistentVolumeClaim> burst = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          burst.add(Chaos.claim(api.client, "apps", "burst-" + i, "cinder"));
        }
        for (PersistentVolumeClaim c : burst) {
          awaitBound(api, c);
        }
        sim.faults().failNext(2, "DELETE", "/volumes/[0-9a-f-]+$", 500);
        for (PersistentVolumeClaim c : burst.subList(0, 6)) {
          api.client.persistentVolumeClaims().inNamespace("apps").withName(c.getMetadata().getName()).delete();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> api.client.persistentVolumes().list().getItems().size()
            == 6);

        // Cinder faults, each on a claim of its own: 503s (retryable), quota, a rate limit, a 403 (permanent: the
        // claim stays failing), then a volume stuck in creating past --available-timeout.
        sim.faults().failNext(4, "POST", "/volumes$", 503);
        awaitBound(api, Chaos.claim(api.client, "apps", "retryable", "cinder"));
        sim.faults().failNext(2, "POST", "/volumes$", 413, "{\"overLimit\": {\"code\": 413, \"message\": "
            + "\"VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota 'volumes'.\"}}");
        awaitBound(api, Chaos.claim(api.client, "apps", "quota", "cinder"));
        sim.faults().failNext(1, "POST", "/volumes$", 429, null, 1);
        awaitBound(api, Chaos.claim(api.client, "apps", "limited", "cinder"));
        sim.faults().failNext(1, "POST", "/volumes$", 403, "{\"forbidden\": {\"code\": 403, \"message\": "
            + "\"Policy doesn't allow volume:create to be performed.\"}}");
        PersistentVolumeClaim forbidden = Chaos.claim(api.client, "apps", "forbidden", "cinder");
        // Its 403 served before the next fault is armed (no other create may meet it).
        await().atMost(Duration.ofSeconds(30)).until(() -> api.client.events().v1().events().inNamespace("apps")
            .list().getItems().stream().anyMatch(e -> e.getRegarding() != null
                && forbidden.getMetadata().getUid().equals(e.getRegarding().getUid())
                && "ProvisioningFailed".equals(e.getReason()) && e.getNote() != null
                && e.getNote().contains("Cinder refused")));
        sim.faults().volumesNamed("pvc-.*").stayIn("creating");
        Chaos.claim(api.client, "apps", "stuck", "cinder");

        // A cloud configuration that cannot connect.
        Files.writeString(conf, "[Global]\ncinder-endpoint = http://127.0.0.1:" + Chaos.freePort() + "/v3\n");
        long injected = System.nanoTime();

        // Every alert but the one for no provisioner fires.
        List<String> alerts = Monitoring.alerts(Files.readString(Monitoring.RULES)).stream()
            .map(a -> (String) a.get("alert")).toList();
        Set<String> whileRunning = new TreeSet<>(alerts);
        whileRunning.remove("StandaloneCinderNoLeader");
        Map<String, Long> firedAfter = new LinkedHashMap<>();
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(500)).until(() -> {
          for (String a : firing()) {
            firedAfter.putIfAbsent(a, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - injected));
          }
          return firedAfter.keySet().containsAll(whileRunning);
        });
        sim.faults().reset();
        assertThat(firing()).as("a provisioner is running").doesNotContain("StandaloneCinderNoLeader");

        // Every query of every dashboard panel has data.
        JsonNode dashboard = JSON.readTree(Monitoring.DASHBOARD.toFile());
        Map<String, Integer> seriesPerQuery = new TreeMap<>();
        for (JsonNode panel : dashboard.get("panels")) {
          for (JsonNode target : panel.path("targets")) {
            String expr = target.get("expr").asText().replace("$job", ".*").replace("$instance", ".*");
            JsonNode result = query(expr);
            assertThat(result.size()).as("panel \"%s\": %s", panel.get("title").asText(), expr).isPositive();
            boolean finite = false;
            for (JsonNode sample : result) {
              double v = Double.parseDouble(sample.get("value").get(1).asText());
              finite |= !Double.isNaN(v) && !Double.isInfinite(v);
            }
            assertThat(finite).as("panel \"%s\" has a number: %s", panel.get("title").asText(), expr).isTrue();
            seriesPerQuery.put(panel.get("title").asText() + " " + target.get("refId").asText(), result.size());
          }
        }
        int scraped = (int) values("scrape_samples_scraped{job=\"standalone-cinder\"}").get(0).doubleValue();
        double scrapeSeconds = values("scrape_duration_seconds{job=\"standalone-cinder\"}").get(0);

        // The provisioner gone: nothing is scraped, and the alert for it fires.
        jar.close();
        long stopped = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
            .until(() -> firing().contains("StandaloneCinderNoLeader"));
        firedAfter.put("StandaloneCinderNoLeader (after the jar stopped)",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));

        System.out.printf("monitoring: Prometheus scraping after %d ms; %d samples per scrape, scraped in %.1f ms;"
            + " %d dashboard queries with data; alerts firing after the faults (ms): %s; test %d s%n",
            TimeUnit.NANOSECONDS.toMillis(scraping - t0), scraped, scrapeSeconds * 1000, seriesPerQuery.size(),
            firedAfter, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        assertThat(firedAfter.keySet()).hasSize(alerts.size());
        Chaos.assertNoSecretsIn(List.of(jar.log), Set.of(ChaosApiServer.TOKEN));
      } finally {
        prom.destroy();
        if (!prom.waitFor(10, TimeUnit.SECONDS)) {
          prom.destroyForcibly();
        }
      }
    }
  }

  private static void awaitBound(ChaosApiServer api, PersistentVolumeClaim c) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> Chaos.bound(
        api.client.persistentVolumeClaims().inNamespace("apps").withName(c.getMetadata().getName()).get()));
  }

  /** Prometheus with the shipped rules, their {@code for:} cut to {@link #FOR}, scraping the jar every second. */
  private Process startPrometheus(Path binary, int port, int metricsPort, Path logDir) throws Exception {
    String rules = Files.readString(Monitoring.RULES);
    String fast = rules.replaceAll("(?m)^(\\s+for: )\\d+[smh]$", "$1" + FOR);
    assertThat(fast).isNotEqualTo(rules);
    Path rulesCopy = dir.resolve("alerts.yaml");
    Files.writeString(rulesCopy, fast);
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        + "rule_files:\n  - " + rulesCopy + "\n"
        + "scrape_configs:\n  - job_name: standalone-cinder\n    static_configs:\n      - targets: ['127.0.0.1:"
        + metricsPort + "']\n");
    Process p = new ProcessBuilder(binary.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
        "--storage.tsdb.retention.time=1h", "--log.level=warn").redirectErrorStream(true)
        .redirectOutput(logDir.resolve("prometheus.log").toFile()).start();
    prometheus = "http://127.0.0.1:" + port;
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> get("/-/ready").statusCode() == 200);
    return p;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(prometheus + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** An instant query's result vector. */
  private JsonNode query(String expr) throws Exception {
    HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.path("status").asText()).as(expr + ": " + r.body()).isEqualTo("success");
    return body.get("data").get("result");
  }

  private List<Double> values(String expr) throws Exception {
    List<Double> out = new ArrayList<>();
    for (JsonNode s : query(expr)) {
      out.add(Double.parseDouble(s.get("value").get(1).asText()));
    }
    return out;
  }

  /** The names of the alerts firing now. */
  private Set<String> firing() throws Exception {
    JsonNode body = JSON.readTree(get("/api/v1/alerts").body());
    Set<String> out = new TreeSet<>();
    for (JsonNode a : body.get("data").get("alerts")) {
      if ("firing".equals(a.get("state").asText())) {
        out.add(a.get("labels").get("alertname").asText());
      }
    }
    return out;
  }
}
