package io.github.standalonecinder.e2e.chart;

import static io.github.standalonecinder.e2e.chart.ChartFixture.NAMESPACE;
import static io.github.standalonecinder.e2e.chart.ChartFixture.maps;
import static io.github.standalonecinder.e2e.chart.ChartFixture.objects;
import static io.github.standalonecinder.e2e.chart.ChartFixture.ofKind;
import static io.github.standalonecinder.e2e.chart.ChartFixture.only;
import static io.github.standalonecinder.e2e.chart.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.github.standalonecinder.cmd.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** The chart: strict lint, and what it renders with each values file under chart-values/. */
class ChartTest {
  /** StorageClass parameters the code reads: the controller's, then the mappers'. */
  static final Set<String> KNOWN_PARAMETERS = Set.of("cloud", "type", "availability", "secret-namespace", "fsType",
      "iscsiInterface", "rbd-mode", "csi-cluster-id", "csi-image-features", "cephx-secret-name",
      "cephx-secret-namespace");

  static Stream<String> valuesFiles() {
    return ChartFixture.valuesFiles().stream();
  }

  @Test
  void lintsCleanInStrictMode() {
    var result = ChartFixture.lint();
    assertThat(result.isFailed()).as("%s", result.getMessages()).isFalse();
    assertThat(result.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
  }

  @ParameterizedTest
  @MethodSource("valuesFiles")
  void everyObjectParsesWithTheModelWithoutUnknownFields(String values) {
    List<HasMetadata> objects = objects(render(values));
    assertThat(objects).isNotEmpty();
    for (HasMetadata o : objects) {
      String id = o.getKind() + "/" + o.getMetadata().getName();
      if (o instanceof GenericKubernetesResource) {
        // Only the PodMonitor and the PrometheusRule have no Fabric8 model; they get their own checks.
        assertThat(o.getKind()).as(id + " has no Fabric8 model").isIn("PodMonitor", "PrometheusRule");
        continue;
      }
      assertThat(ModelWalker.unknownFields(o)).as("unknown fields in %s", id).isEmpty();
      assertThat(o.getMetadata().getName()).matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
      boolean clusterScoped = Set.of("ClusterRole", "ClusterRoleBinding", "StorageClass").contains(o.getKind());
      // The Grafana dashboard goes where the sidecar looks, when set (metrics-podmonitor.yaml: "monitoring").
      boolean dashboardElsewhere = values.equals("metrics-podmonitor.yaml") && id.endsWith("-dashboard");
      assertThat(o.getMetadata().getNamespace()).as(id)
          .isEqualTo(clusterScoped ? null : dashboardElsewhere ? "monitoring" : NAMESPACE);
      assertThat(o.getMetadata().getLabels()).as(id).containsEntry("app.kubernetes.io/instance", "standalone-cinder");
    }
  }

  @ParameterizedTest
  @MethodSource("valuesFiles")
  void renderedArgsAreAcceptedByTheCommandLine(String values) {
    Container c = container(objects(render(values)));
    List<String> args = c.getArgs();
    assertThat(args.get(0)).isEqualTo("run");
    // Parsing (not running) with the real picocli model rejects any flag RunCommand does not define.
    new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
    assertThat(c.getCommand()).startsWith("java").endsWith("-jar", "/app/standalone-cinder.jar");
  }

  @Test
  void deploymentIsHardenedProbedAndKnowsItsNamespace() {
    List<HasMetadata> objects = objects(render("defaults.yaml"));
    Deployment d = only(objects, Deployment.class);
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo(only(objects, ServiceAccount.class).getMetadata().getName());
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(65532L);
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container c = container(objects);
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getContainerPort()).isEqualTo(8080);
    });
    assertThat(c.getArgs()).contains("--metrics-address=:8080", "--leader-elect");
    assertThat(c.getArgs()).as("the cluster id is derived from the kube-system namespace")
        .noneMatch(a -> a.startsWith("--cluster-id"));
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    EnvVar ns = c.getEnv().stream().filter(e -> e.getName().equals("POD_NAMESPACE")).findFirst().orElseThrow();
    assertThat(ns.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
    assertThat(c.getCommand()).contains("-XX:+UseSerialGC", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");
    // A read-only root still needs a writable /tmp.
    assertThat(c.getVolumeMounts()).extracting(VolumeMount::getMountPath).contains("/tmp");
  }

  @Test
  void defaultsReadCloudConfigFromTheDocumentedExistingSecret() {
    List<HasMetadata> objects = objects(render("defaults.yaml"));
    assertThat(ofKind(objects, Secret.class)).isEmpty();
    assertThat(cloudConfigVolume(objects).getSecret().getSecretName()).isEqualTo("standalone-cinder-cloud-config");
    assertThat(container(objects).getArgs()).contains("--cloud-config=/etc/standalone-cinder/cloud/cloud.conf");
    assertMountedAt(objects, "cloud-config", "/etc/standalone-cinder/cloud");
  }

  @Test
  void keystoneWithExistingSecretsMountsCloudConfigAndCaBundle() {
    List<HasMetadata> objects = objects(render("keystone-existing-secret.yaml"));
    assertThat(ofKind(objects, Secret.class)).isEmpty();
    Volume cloud = cloudConfigVolume(objects);
    assertThat(cloud.getSecret().getSecretName()).isEqualTo("openstack-cloud-config");
    assertThat(cloud.getSecret().getItems()).singleElement().satisfies(i -> assertThat(i.getKey())
        .isEqualTo("cloud-provider.conf"));
    Container c = container(objects);
    assertThat(c.getArgs()).contains("--cloud-config=/etc/standalone-cinder/cloud/cloud-provider.conf",
        "--connector-initiator=iqn.2004-10.com.example:k8s-nodes", "--connector-multipath",
        "--available-timeout=10m");
    assertThat(volume(objects, "ca-bundle").getSecret().getSecretName()).isEqualTo("openstack-ca");
    assertMountedAt(objects, "ca-bundle", "/etc/standalone-cinder/ca");
    assertThat(c.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("OS_PASSWORD");
      assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("openstack-password");
    });
  }

  @Test
  void hostPathCloudConfigWithChartMadeCaBundleAndOneReplica() {
    List<HasMetadata> objects = objects(render("noauth-hostpath.yaml"));
    Volume cloud = cloudConfigVolume(objects);
    assertThat(cloud.getSecret()).isNull();
    assertThat(cloud.getHostPath().getPath()).isEqualTo("/etc/kubernetes/cloud.conf");
    assertThat(cloud.getHostPath().getType()).isEqualTo("File");
    assertMountedAt(objects, "cloud-config", "/etc/standalone-cinder/cloud/cloud.conf");
    Secret ca = only(objects, Secret.class);
    assertThat(ca.getMetadata().getName()).isEqualTo("standalone-cinder-ca");
    assertThat(decode(ca.getData().get("ca.pem"))).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(volume(objects, "ca-bundle").getSecret().getSecretName()).isEqualTo("standalone-cinder-ca");
    Deployment d = only(objects, Deployment.class);
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(container(objects).getArgs()).contains("--no-leader-elect").doesNotContain("--leader-elect");
    assertThat(d.getSpec().getStrategy().getType()).as("an upgrade never runs two provisioners at once")
        .isEqualTo("Recreate");
    assertThat(d.getSpec().getTemplate().getSpec().getAffinity()).isNull();
    assertThat(objects).noneMatch(o -> o.getKind().equals("PodDisruptionBudget"));
  }

  @Test
  void twoElectedReplicasOnTwoNodesAndNeverBothDrainedAtOnce() {
    List<HasMetadata> objects = objects(render("defaults.yaml"));
    Deployment d = only(objects, Deployment.class);
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(container(objects).getArgs()).contains("--leader-elect");
    assertThat(d.getSpec().getStrategy()).as("rolling updates are safe with the Lease").isNull();
    var anti = d.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()
        .getPreferredDuringSchedulingIgnoredDuringExecution();
    assertThat(anti).hasSize(1);
    assertThat(anti.get(0).getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
    assertThat(anti.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels())
        .isEqualTo(d.getSpec().getSelector().getMatchLabels());
    var pdb = only(objects, io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class);
    assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(d.getSpec().getSelector().getMatchLabels());
    // An affinity of the user's replaces ours.
    Deployment custom = only(objects(ChartFixture.template(t -> t.set("affinity.nodeAffinity"
        + ".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key", "disk")
        .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            + ".matchExpressions[0].operator", "Exists"), NAMESPACE)), Deployment.class);
    assertThat(custom.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()).isNull();
    assertThat(custom.getSpec().getTemplate().getSpec().getAffinity().getNodeAffinity()).isNotNull();
  }

  @Test
  void cloudConfigCreatedFromValues() {
    List<HasMetadata> objects = objects(render("claim-namespace-secrets.yaml"));
    Secret s = only(objects, Secret.class);
    assertThat(s.getMetadata().getName()).isEqualTo("standalone-cinder-cloud-config");
    assertThat(decode(s.getData().get("cloud.conf"))).contains("[Global]", "cinder-endpoint = http://cinder");
    assertThat(cloudConfigVolume(objects).getSecret().getSecretName()).isEqualTo(s.getMetadata().getName());
    // Changing the cloud.conf must roll the pods.
    String checksum = only(objects, Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations()
        .get("checksum/config");
    String other = only(objects(ChartFixture.template(t -> t.withValuesFile(ChartFixture.VALUES
        .resolve("claim-namespace-secrets.yaml")).set("cloudConfig.content", "[Global]\nusername = x\n"), NAMESPACE)),
        Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config");
    assertThat(other).isNotEqualTo(checksum);
  }

  @Test
  void topologyZonesBecomeFlagsAndOffAddsNone() {
    assertThat(container(objects(render("topology-zones.yaml"))).getArgs()).contains("--topology=zones",
        "--topology-node-label=example.com/rack-zone", "--topology-zone=az-a=rack-1,rack-2",
        "--topology-zone=az-b=rack-3");
    assertThat(container(objects(render("defaults.yaml"))).getArgs()).noneMatch(a -> a.startsWith("--topology"));
    assertRenderFails("topology.mode must be off or zones", "topology.mode", "racks");
  }

  @Test
  void contradictoryOrMissingSettingsFailTheRender() {
    assertRenderFails("create needs cloudConfig.content", "cloudConfig.create", true);
    assertRenderFails("not both", "cloudConfig.create", true, "cloudConfig.content", "x",
        "cloudConfig.hostPath", "/etc/cloud.conf");
    assertRenderFails("give existingSecret", "cloudConfig.existingSecret", "");
    assertRenderFails("needs leaderElection.enabled", "leaderElection.enabled", false);
    assertRenderFails("not both", "cloudConfig.caBundle.existingSecret", "ca", "cloudConfig.caBundle.content", "x");
  }

  @Test
  void storageClassesFromValues() {
    List<StorageClass> classes = ofKind(objects(render("all-storage-classes.yaml")), StorageClass.class);
    assertThat(classes).extracting(sc -> sc.getMetadata().getName())
        .containsExactly("cinder-iscsi", "cinder-rbd", "cinder-rbd-csi", "cinder-fc");
    assertThat(classes).allSatisfy(sc -> {
      assertThat(sc.getProvisioner()).isEqualTo("openstack.org/standalone-cinder");
      assertThat(sc.getParameters().keySet()).allMatch(k -> KNOWN_PARAMETERS.contains(k) || k.startsWith("metadata."));
    });
    StorageClass iscsi = classes.get(0);
    assertThat(iscsi.getMetadata().getAnnotations()).containsEntry("storageclass.kubernetes.io/is-default-class", "true");
    assertThat(iscsi.getVolumeBindingMode()).isEqualTo("WaitForFirstConsumer");
    assertThat(iscsi.getAllowVolumeExpansion()).isTrue();
    assertThat(iscsi.getMountOptions()).containsExactly("noatime");
    assertThat(iscsi.getParameters()).containsEntry("metadata.team", "storage");
    StorageClass rbd = classes.get(1);
    assertThat(rbd.getReclaimPolicy()).isEqualTo("Retain");
    assertThat(rbd.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(classes.get(2).getReclaimPolicy()).isEqualTo("Delete");
    assertThat(classes.get(2).getVolumeBindingMode()).isEqualTo("Immediate");
    assertThat(classes.get(2).getAllowVolumeExpansion()).isFalse();
    assertThat(classes.get(3).getMetadata().getLabels()).containsEntry("tier", "gold");
    assertThat(ofKind(objects(render("defaults.yaml")), StorageClass.class)).isEmpty();
  }

  @Test
  void examplesUseOnlyParametersTheCodeReads() throws Exception {
    try (var files = java.nio.file.Files.list(ChartFixture.ROOT.resolve("examples"))) {
      List<java.nio.file.Path> yamls = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(yamls).isNotEmpty();
      for (var p : yamls) {
        for (HasMetadata o : objects(java.nio.file.Files.readString(p))) {
          if (o instanceof GenericKubernetesResource g && "snapshot.storage.k8s.io/v1".equals(g.getApiVersion())) {
            // The snapshot API is CRDs, not in the model: the fields the controller reads, and no others.
            var fields = g.getAdditionalProperties();
            if ("VolumeSnapshotClass".equals(g.getKind())) {
              assertThat(fields.keySet()).as(p.toString()).containsExactlyInAnyOrder("driver", "deletionPolicy");
              assertThat(fields.get("driver")).isEqualTo("openstack.org/standalone-cinder");
              assertThat(fields.get("deletionPolicy")).isIn("Delete", "Retain");
            } else {
              assertThat(g.getKind()).as(p.toString()).isEqualTo("VolumeSnapshot");
              assertThat(fields.keySet()).as(p.toString()).containsExactly("spec");
              assertThat(((Map<?, ?>) fields.get("spec")).keySet().stream().map(String::valueOf).toList()).as(p.toString())
                  .containsExactlyInAnyOrder("volumeSnapshotClassName", "source");
            }
            continue;
          }
          assertThat(o).as(p + ": " + o.getKind()).isNotInstanceOf(GenericKubernetesResource.class);
          assertThat(ModelWalker.unknownFields(o)).as("unknown fields in " + p).isEmpty();
          if (o instanceof StorageClass sc) {
            assertThat(sc.getProvisioner()).isEqualTo("openstack.org/standalone-cinder");
            assertThat(sc.getParameters().keySet()).as(p.toString())
                .allMatch(k -> KNOWN_PARAMETERS.contains(k) || k.startsWith("metadata."));
          }
        }
      }
    }
  }

  @Test
  void metricsServiceAndPodMonitorSelectTheProvisionerPods() {
    String yaml = render("metrics-podmonitor.yaml");
    List<HasMetadata> objects = objects(yaml);
    Deployment d = only(objects, Deployment.class);
    Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
    Container c = container(objects);
    assertThat(c.getPorts().get(0).getContainerPort()).isEqualTo(9090);
    assertThat(c.getArgs()).contains("--metrics-address=:9090", "--provisioner-name=example.com/cinder-gold",
        "--identity=cinder-gold-cluster-a", "--cluster-id=cluster-a");
    Service svc = only(objects, Service.class);
    assertThat(podLabels).containsAllEntriesOf(svc.getSpec().getSelector());
    assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p ->
        assertThat(p.getTargetPort().getStrVal()).isEqualTo("metrics"));
    Map<String, Object> monitor = maps(yaml).stream().filter(m -> "PodMonitor".equals(m.get("kind")))
        .findFirst().orElseThrow();
    PodMonitorSchema.validate(monitor, podLabels, "metrics");
    assertThat(ofKind(objects(render("defaults.yaml")), Service.class)).isEmpty();
    assertThat(maps(render("defaults.yaml"))).noneMatch(m -> "PodMonitor".equals(m.get("kind")));
  }

  @Test
  @SuppressWarnings("unchecked")
  void prometheusRuleAndDashboardConfigMapCarryTheDeployMonitoringFilesWhenEnabled() throws Exception {
    String yaml = render("metrics-podmonitor.yaml");
    Map<String, Object> rule = maps(yaml).stream().filter(m -> "PrometheusRule".equals(m.get("kind")))
        .findFirst().orElseThrow();
    assertThat(rule).containsEntry("apiVersion", "monitoring.coreos.com/v1");
    Map<String, Object> metadata = (Map<String, Object>) rule.get("metadata");
    assertThat(metadata).containsEntry("namespace", NAMESPACE);
    assertThat((Map<String, String>) metadata.get("labels")).containsEntry("release", "kube-prometheus-stack")
        .containsEntry("app.kubernetes.io/instance", "standalone-cinder");
    Path rules = ChartFixture.ROOT.resolve("deploy/monitoring/standalone-cinder-alerts.yaml");
    Map<String, Object> file = ChartFixture.SERIALIZATION.unmarshal(Files.readString(rules), Map.class);
    assertThat(rule.get("spec")).as("the PrometheusRule's spec is the rule file").isEqualTo(file);
    assertThat(((List<Map<String, Object>>) ((List<Map<String, Object>>) file.get("groups")).get(0).get("rules")))
        .hasSizeGreaterThanOrEqualTo(9);

    io.fabric8.kubernetes.api.model.ConfigMap dashboard = ofKind(objects(yaml),
        io.fabric8.kubernetes.api.model.ConfigMap.class).stream()
        .filter(cm -> cm.getMetadata().getName().equals("standalone-cinder-dashboard")).findFirst().orElseThrow();
    assertThat(dashboard.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    assertThat(dashboard.getData()).containsOnlyKeys("standalone-cinder.json");
    assertThat(dashboard.getData().get("standalone-cinder.json")).as("the dashboard JSON as it is")
        .isEqualTo(Files.readString(ChartFixture.ROOT.resolve("deploy/monitoring/standalone-cinder-dashboard.json"))
            .stripTrailing());

    for (String values : ChartFixture.valuesFiles()) {
      if (!values.equals("metrics-podmonitor.yaml")) {
        assertThat(maps(render(values))).as(values + ": off by default")
            .noneMatch(m -> "PrometheusRule".equals(m.get("kind")))
            .noneMatch(m -> "ConfigMap".equals(m.get("kind")) && String.valueOf(m.get("metadata"))
                .contains("-dashboard"));
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private static void assertRenderFails(String message, Object... keyValues) {
    assertThatThrownBy(() -> ChartFixture.template(t -> {
      for (int i = 0; i < keyValues.length; i += 2) {
        t.set((String) keyValues[i], keyValues[i + 1]);
      }
    }, NAMESPACE)).hasMessageContaining(message);
  }

  static Container container(List<HasMetadata> objects) {
    return only(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static Volume volume(List<HasMetadata> objects, String name) {
    return only(objects, Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static Volume cloudConfigVolume(List<HasMetadata> objects) {
    return volume(objects, "cloud-config");
  }

  private static void assertMountedAt(List<HasMetadata> objects, String volume, String path) {
    List<String> paths = new ArrayList<>();
    container(objects).getVolumeMounts().stream().filter(m -> m.getName().equals(volume))
        .forEach(m -> paths.add(m.getMountPath()));
    assertThat(paths).containsExactly(path);
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
  }
}
