package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad command-line input: exactly one line naming the problem and pointing at the command's help, exit code
 * 2, and not one request to Cinder, Keystone or Kubernetes (all three point at a server that records requests).
 */
class BadInputTest {
  @TempDir
  Path dir;
  HttpServer recorder;
  final List<String> requests = new CopyOnWriteArrayList<>();
  String url;
  Path okConf;
  Path kubeconfig;

  @BeforeEach
  void start() throws Exception {
    recorder = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    recorder.createContext("/", exchange -> {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      byte[] body = "{\"error\": {\"message\": \"The request you have made requires authentication.\", \"code\": 401}}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    recorder.start();
    url = "http://127.0.0.1:" + recorder.getAddress().getPort();
    okConf = dir.resolve("ok.conf");
    Files.writeString(okConf, "[Global]\ncinder-endpoint = " + url + "/v3\n");
    kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "%s"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.formatted(url));
  }

  @AfterEach
  void stop() {
    recorder.stop(0);
  }

  record Result(int exit, String out, String err) {}

  /** Runs the command line in this JVM with stdout and stderr captured (also for other command tests). */
  static Result execute(List<String> args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
    try {
      int exit = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Main.execute(args.toArray(String[]::new)));
      return new Result(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** run with a good configuration everywhere but {@code extra}, which may replace one of the base options. */
  private List<String> run(String... extra) {
    Map<String, String> base = new LinkedHashMap<>(Map.of("--cloud-config", okConf.toString(), "--kubeconfig",
        kubeconfig.toString(), "--metrics-address", ""));
    List<String> tail = new ArrayList<>(List.of(extra));
    if (tail.size() == 2 && base.containsKey(tail.get(0))) {
      base.put(tail.get(0), tail.get(1));
      tail.clear();
    }
    List<String> args = new ArrayList<>(List.of("run", "--no-leader-elect"));
    base.forEach((k, v) -> args.addAll(List.of(k, v)));
    args.addAll(tail);
    return args;
  }

  @Test
  void everyBadInputIsOneLineExitCode2AndNoRequest() throws Exception {
    Path badConf = dir.resolve("bad.conf");
    Files.writeString(badConf, "[Global]\nauth_url = " + url + "/v3\n");
    Path garbage = dir.resolve("garbage.yaml");
    Files.writeString(garbage, "{ this is: [not, a kubeconfig\n");
    Map<List<String>, String> rows = new LinkedHashMap<>();
    rows.put(List.of("bogus"), "Unmatched argument at index 0: 'bogus'");
    rows.put(List.of("chekc"), "(did you mean check");
    rows.put(run("--bogus"), "Unknown option: '--bogus'");
    rows.put(run("--workers"), "Missing required parameter for option '--workers'");
    rows.put(run("--workers", "x"), "Invalid value for option '--workers': 'x' is not an int");
    rows.put(run("--workers", "0"), "--workers must be between 1 and 1000, got 0");
    rows.put(run("--kube-api-qps", "0"), "--kube-api-qps must be positive");
    rows.put(run("--max-size-gib", "0"), "--max-size-gib must be positive, got 0");
    rows.put(run("--provisioner-name", "bad name"), "--provisioner-name \"bad name\" is not a valid provisioner name");
    rows.put(run("--attach-mode", "sideways"), "--attach-mode must be auto, attachments or legacy");
    rows.put(run("--remap-interval", "0s"), "--remap-interval must be positive");
    rows.put(List.of("remap", "--kubeconfig", kubeconfig.toString(), "--cloud-config", okConf.toString(),
        "--attach-mode", "sideways"), "--attach-mode must be auto, attachments or legacy");
    rows.put(run("--topology", "racks"), "--topology must be off or zones, got \"racks\"");
    rows.put(run("--topology-zone", "az-a=r1"), "--topology-zone needs --topology=zones");
    rows.put(run("--topology", "zones", "--topology-zone", "az-a"), "--topology-zone: \"az-a\" is not "
        + "AZ=zone[,zone...]");
    rows.put(run("--topology", "zones", "--topology-zone", "az-a=r1", "--topology-zone", "az-b=r1"),
        "--topology-zone: node zone r1 is mapped to two AZs, az-a and az-b");
    rows.put(run("--topology", "zones", "--topology-node-label", "bad label"), "--topology-node-label \"bad label\" "
        + "is not a label key");
    rows.put(run("--connector-wwpns", "50:01"), "--connector-wwpns: \"50:01\" is not a WWPN");
    rows.put(run("--connector-initiator", "node-1"), "--connector-initiator: \"node-1\" is not an iSCSI name");
    rows.put(run("--connector-initiator", "iqn.1994-05.com.redhat"), "--connector-initiator: "
        + "\"iqn.1994-05.com.redhat\" is refused by Kubernetes as a PV's initiatorName: it must be valid format "
        + "starting with iqn");
    rows.put(run("--orphan-mode", "maybe"), "--orphan-mode must be report or delete");
    rows.put(run("--available-timeout", "5 parsecs"), "is not a duration such as 90s, 5m or 1h");
    rows.put(run("--available-timeout", "-5s"), "--available-timeout must be positive");
    rows.put(run("--resync-period", "0s"), "--resync-period must be positive");
    rows.put(run("--leader-election-lease-duration", "1s"), "--leader-election-lease-duration must be at least 2s");
    rows.put(run("--informer-failure-timeout", "0s"), "--informer-failure-timeout must be positive");
    rows.put(run("--cinder-connect-timeout", "0s"), "--cinder-connect-timeout must be positive");
    rows.put(run("--cinder-read-timeout", "1x"), "is not a duration");
    rows.put(run("--metrics-address", "no-port"), "--metrics-address \"no-port\" is not an address");
    rows.put(run("--kubeconfig", dir.resolve("none").toString()), "--kubeconfig " + dir.resolve("none")
        + ": no such file");
    rows.put(run("--kubeconfig", dir.toString()), "--kubeconfig " + dir + " is a directory");
    rows.put(run("--kubeconfig", garbage.toString()), "--kubeconfig " + garbage + " is not a usable kubeconfig");
    rows.put(run("--cloud-config", dir.resolve("none.conf").toString()), "--cloud-config "
        + dir.resolve("none.conf") + ": no such file");
    rows.put(run("--cloud-config", badConf.toString()), "unknown key auth_url in [Global]; did you mean auth-url?");
    Path certMissing = dir.resolve("cert-missing.conf");
    Files.writeString(certMissing, "[Global]\ncinder-endpoint = " + url + "/v3\ncert-file = " + dir.resolve("c.pem")
        + "\nkey-file = " + dir.resolve("k.pem") + "\n");
    Path certGarbage = dir.resolve("cert-garbage.conf");
    Files.writeString(certGarbage, "[Global]\ncinder-endpoint = " + url + "/v3\ncert-file = " + garbage
        + "\nkey-file = " + garbage + "\n");
    Path keyOnly = dir.resolve("key-only.conf");
    Files.writeString(keyOnly, "[Global]\ncinder-endpoint = " + url + "/v3\nkey-file = " + garbage + "\n");
    rows.put(run("--cloud-config", certMissing.toString()), "cert-file " + dir.resolve("c.pem") + " cannot be read");
    rows.put(run("--cloud-config", certGarbage.toString()), "cert-file " + garbage + " holds no PEM certificate");
    rows.put(run("--cloud-config", keyOnly.toString()), "key-file is set without cert-file");
    rows.put(List.of("check", "--cloud-config", certGarbage.toString()), "holds no PEM certificate");
    rows.put(run("--cloud-config-reload-interval", "-1s"), "--cloud-config-reload-interval must not be negative");
    rows.put(run("--os-cloud", "no-such-cloud-anywhere"), "clouds.yaml");
    rows.put(List.of("check", "--cloud-config", dir.resolve("none.conf").toString()), "no such file");
    rows.put(List.of("check", "--cloud-config", badConf.toString()), "did you mean auth-url?");
    rows.put(List.of("check", "--cloud-config", okConf.toString(), "--cinder-read-timeout", "0s"),
        "--cinder-read-timeout must be positive");
    for (var row : rows.entrySet()) {
      Result r = execute(row.getKey());
      String command = List.of("check", "run", "remap").contains(row.getKey().get(0)) ? row.getKey().get(0)
          : null;
      String hint = command == null ? "see 'standalone-cinder --help'" : "see 'standalone-cinder " + command
          + " --help'";
      assertThat(r.err().strip().lines().toList()).as("%s", row.getKey()).singleElement().asString()
          .startsWith("standalone-cinder: ").contains(row.getValue()).endsWith("; " + hint);
      assertThat(r.exit()).as("%s", row.getKey()).isEqualTo(2);
      assertThat(r.out()).as("%s", row.getKey()).isEmpty();
      assertThat(requests).as("%s", row.getKey()).isEmpty();
    }
  }

  @Test
  void logLevelMustBeALevel() {
    assertThat(Main.logLevelProblem(null)).isEmpty();
    assertThat(Main.logLevelProblem("debug")).isEmpty();
    assertThat(Main.logLevelProblem("WARN")).isEmpty();
    assertThat(Main.logLevelProblem("bogus")).contains(
        "LOG_LEVEL must be one of trace, debug, info, warn, error or off, got \"bogus\"");
  }

  @Test
  void aKeystoneRefusalSaysKeystoneRefusedTheCredentials() throws Exception {
    Path conf = dir.resolve("keystone.conf");
    Files.writeString(conf, "[Global]\nauth-url = " + url + "/v3\nusername = u\npassword = p\n"
        + "user-domain-name = Default\ntenant-id = t\n");
    Result r = execute(List.of("check", "--cloud-config", conf.toString()));
    assertThat(requests).containsExactly("POST /v3/auth/tokens");
    List<String> ours = r.err().lines().filter(l -> l.startsWith("standalone-cinder:")).toList();
    assertThat(ours).containsExactly("standalone-cinder: Keystone refused the credentials (HTTP 401); the "
        + "provisioner's log has the details");
    assertThat(r.exit()).isEqualTo(2);
  }
}
