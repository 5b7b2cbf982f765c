package io.github.standalonecinder.e2e.monitoring;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operators' kit under {@code deploy/monitoring/} (alert rules, Grafana dashboard) and Debian's Prometheus tools
 * that check it: {@code promtool} and {@code prometheus} from the {@code prometheus} package (.ci/run installs it).
 */
public final class Monitoring {
  public static final Path ROOT = findRoot();
  public static final Path DIR = ROOT.resolve("deploy/monitoring");
  public static final Path RULES = DIR.resolve("standalone-cinder-alerts.yaml");
  public static final Path DASHBOARD = DIR.resolve("standalone-cinder-dashboard.json");
  public static final Path GUIDE = ROOT.resolve("docs/troubleshooting.md");
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private Monitoring() {}

  /** A program on the PATH, or empty. */
  public static Optional<Path> tool(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The one line a test says when it skips for want of a tool. */
  public static String missing(String name) {
    return name + " is not installed (Debian package prometheus: apt-get install -y prometheus); skipping";
  }

  public record Run(int exitCode, String output) {}

  /** Runs a command to its end (at most 60 s), output and errors together. */
  public static Run run(Path dir, List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(command + " did not end within 60 s");
    }
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** The alerting rules of the rule file, each as its YAML map. */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> alerts(String rulesYaml) {
    Map<String, Object> file = SERIALIZATION.unmarshal(rulesYaml, Map.class);
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        if (rule.containsKey("alert")) {
          out.add(rule);
        }
      }
    }
    return out;
  }

  /** The anchors GitHub makes of the guide's headings (lower case, punctuation dropped, spaces to dashes). */
  public static List<String> anchors(String markdown) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^#{1,6} +(.+?) *$").matcher(markdown);
    while (m.find()) {
      out.add(m.group(1).toLowerCase().replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
    }
    return out;
  }

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("deploy/monitoring"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no deploy/monitoring above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
