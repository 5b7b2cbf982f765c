package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/standalone-cinder.yaml is the chart rendered with its defaults into the namespace standalone-cinder, for
 * users without Helm.
 * This test fails when the file is stale; run it with -Ddeploy.update=true to rewrite it.
 */
class DeployManifestsTest {
  static final String REGENERATE =
      "mvn -B -pl test-e2e -am test -Dtest=DeployManifestsTest -Dsurefire.failIfNoSpecifiedTests=false "
          + "-Ddeploy.update=true";
  /** The documented install namespace (README, docs/install.md): a namespace of its own, not kube-system. */
  static final String NAMESPACE = "standalone-cinder";
  static final Path FILE = ChartFixture.ROOT.resolve("deploy/standalone-cinder.yaml");

  static String expected() {
    return "# standalone-cinder: the Helm chart charts/standalone-cinder rendered with its default values into\n"
        + "# namespace " + NAMESPACE + ". Generated, do not edit; regenerate with:\n"
        + "#   " + REGENERATE + "\n"
        + "# Before applying, create the namespace and the cloud.conf Secret it reads:\n"
        + "#   kubectl create namespace " + NAMESPACE + "\n"
        + "#   kubectl -n " + NAMESPACE + " create secret generic standalone-cinder-cloud-config --from-file=cloud.conf\n"
        + ChartFixture.render("defaults.yaml", NAMESPACE);
  }

  @Test
  void deployManifestIsTheChartRenderedWithDefaults() throws Exception {
    String expected = expected();
    if (Boolean.getBoolean("deploy.update")) {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, expected);
    }
    assertThat(Files.exists(FILE)).as("%s is missing; generate it with: %s", FILE, REGENERATE).isTrue();
    assertThat(Files.readString(FILE)).as("%s is stale; regenerate it with: %s", FILE, REGENERATE)
        .isEqualTo(expected);
    assertThat(ChartFixture.objects(Files.readString(FILE))).extracting(o -> o.getKind())
        .contains("Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");
  }

  /**
   * The chart embeds deploy/monitoring/'s alert rules and dashboard (Helm reads files inside the chart only): its
   * copies in charts/standalone-cinder/files/ must be the same bytes; -Ddeploy.update=true copies them.
   */
  @Test
  void chartCarriesTheMonitoringFilesAsTheyAre() throws Exception {
    for (String name : List.of("standalone-cinder-alerts.yaml", "standalone-cinder-dashboard.json")) {
      Path source = ChartFixture.ROOT.resolve("deploy/monitoring").resolve(name);
      Path copy = ChartFixture.CHART.resolve("files").resolve(name);
      if (Boolean.getBoolean("deploy.update")) {
        Files.createDirectories(copy.getParent());
        Files.copy(source, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      assertThat(Files.exists(copy)).as("%s is missing; copy it with: %s", copy, REGENERATE).isTrue();
      assertThat(Files.readString(copy)).as("%s differs from %s; copy it with: %s", copy, source, REGENERATE)
          .isEqualTo(Files.readString(source));
    }
  }
}
