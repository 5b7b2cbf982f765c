package io.github.standalonecinder.e2e.chart;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Renders the chart with helm-java (Helm as a native library, offline). Helm loads a ~100 MB shared library once
 * per JVM, so every chart test goes through these statics and renders are cached.
 */
final class ChartFixture {
  static final Path ROOT = findRoot();
  static final Path CHART = ROOT.resolve("charts/standalone-cinder");
  static final Path VALUES = ROOT.resolve("test-e2e/src/test/resources/chart-values");
  static final String KUBE_VERSION = "1.30.0";
  static final String RELEASE = "standalone-cinder";
  static final String NAMESPACE = "storage-system";
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private static final Map<String, String> RENDERED = new ConcurrentHashMap<>();

  private ChartFixture() {}

  /** Every values file the chart is tested with. */
  static List<String> valuesFiles() {
    return List.of("defaults.yaml", "keystone-existing-secret.yaml", "noauth-hostpath.yaml",
        "claim-namespace-secrets.yaml", "metrics-podmonitor.yaml", "all-storage-classes.yaml");
  }

  static String render(String valuesFile) {
    return render(valuesFile, NAMESPACE);
  }

  static String render(String valuesFile, String namespace) {
    return RENDERED.computeIfAbsent(valuesFile + "@" + namespace,
        k -> template(t -> t.withValuesFile(VALUES.resolve(valuesFile)), namespace));
  }

  /** helm template with extra settings; throws IllegalStateException carrying Helm's message when it fails. */
  static synchronized String template(Consumer<com.marcnuri.helm.TemplateCommand> settings, String namespace) {
    var t = new Helm(CHART).template().withName(RELEASE).withNamespace(namespace).withKubeVersion(KUBE_VERSION);
    settings.accept(t);
    return t.call();
  }

  static synchronized com.marcnuri.helm.LintResult lint() {
    return new Helm(CHART).lint().strict().call();
  }

  /** The YAML documents of a rendering, comments and empty documents dropped. */
  static List<String> documents(String yaml) {
    List<String> docs = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      boolean content = doc.lines().anyMatch(l -> !l.isBlank() && !l.stripLeading().startsWith("#"));
      if (content) {
        docs.add(doc);
      }
    }
    return docs;
  }

  /** Each document as Fabric8 resolves it by apiVersion/kind (a typed model, or GenericKubernetesResource). */
  static List<HasMetadata> objects(String yaml) {
    return documents(yaml).stream().map(d -> (HasMetadata) SERIALIZATION.unmarshal(d, HasMetadata.class)).toList();
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> maps(String yaml) {
    return documents(yaml).stream().map(d -> (Map<String, Object>) SERIALIZATION.unmarshal(d, Map.class)).toList();
  }

  static <T extends HasMetadata> List<T> ofKind(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> found = ofKind(objects, type);
    if (found.size() != 1) {
      throw new AssertionError("expected one " + type.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }

  /** Whether {@code tool} is an executable on the PATH. */
  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("charts/standalone-cinder"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no charts/standalone-cinder above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
