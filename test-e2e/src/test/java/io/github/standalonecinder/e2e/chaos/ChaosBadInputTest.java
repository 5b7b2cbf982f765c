package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.github.standalonecinder.e2e.Kubeconfigs;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.CinderSimulator;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input table: each invalid StorageClass parameter, size, access mode, volume mode and configuration
 * value, with the exact Event (or one-line error and exit code 2) expected, and no Cinder call made for it; and a
 * cluster without a kube-system namespace to derive the cluster id from (one line, exit code 2).
 */
class ChaosBadInputTest {
  static int tried;

  @TempDir
  Path dir;

  record Row(String label, Map<String, String> params, UnaryOperator<PersistentVolumeClaimBuilder> claim,
      String expected) {}

  static Map<String, String> iscsi(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("type", "iscsi");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static UnaryOperator<PersistentVolumeClaimBuilder> size(String q) {
    return b -> b.editSpec().editResources().addToRequests("storage", new Quantity(q)).endResources().endSpec();
  }

  static final List<Row> CLAIM_ROWS = List.of(
      new Row("unknown parameter", iscsi("colour", "blue"), b -> b,
          "unknown StorageClass parameter \"colour\"; known: "),
      new Row("secret-namespace", iscsi("secret-namespace", "elsewhere"), b -> b,
          "StorageClass parameter \"secret-namespace\" must be \"provisioner\" or \"claim\", got \"elsewhere\""),
      new Row("fsType", iscsi("fsType", "bad fs!"), b -> b,
          "StorageClass parameter \"fsType\" must be a filesystem name such as \"ext4\" or \"xfs\", got \"bad fs!\""),
      new Row("iscsiInterface", iscsi("iscsiInterface", "-bad/if"), b -> b,
          "StorageClass parameter \"iscsiInterface\" must be an open-iscsi interface name such as \"default\", "
              + "got \"-bad/if\""),
      new Row("rbd-mode", iscsi("rbd-mode", "kernel"), b -> b,
          "StorageClass parameter \"rbd-mode\" must be \"in-tree\" or \"csi\", got \"kernel\""),
      new Row("rbd-mode csi without cluster id", iscsi("rbd-mode", "csi"), b -> b,
          "StorageClass parameter \"csi-cluster-id\" is required when \"rbd-mode"),
      new Row("cephx-secret-name", iscsi("cephx-secret-name", "Bad_Name"), b -> b,
          "StorageClass parameter \"cephx-secret-name\" must be a Secret name (lower-case DNS subdomain), "
              + "got \"Bad_Name\""),
      new Row("size zero", iscsi(), size("0"), "claim storage request must be positive, got \"0\""),
      new Row("size negative", iscsi(), size("-1Gi"), "claim storage request must be positive, got \"-1Gi\""),
      new Row("size over the limit", iscsi(), size("200Gi"),
          "claim storage request \"200Gi\" (200 GiB) exceeds the provisioner's limit of 100 GiB"),
      new Row("no size", iscsi(), b -> b.editSpec().withNewResources().endResources().endSpec(),
          "claim has no spec.resources.requests.storage"),
      new Row("unknown access mode", iscsi(), b -> b.editSpec().withAccessModes("ReadWriteSometimes").endSpec(),
          "unsupported access mode \"ReadWriteSometimes\"; supported: ReadWriteOnce, ReadWriteOncePod, and "
              + "ReadOnlyMany/ReadWriteMany on a multiattach type"),
      new Row("no access mode", iscsi(), b -> b.editSpec().withAccessModes(List.of()).endSpec(),
          "claim has no spec.accessModes"),
      new Row("RWX without a type", Map.of(), b -> b.editSpec().withAccessModes("ReadWriteMany").endSpec(),
          "access modes [ReadWriteMany] need a multiattach volume type: set the StorageClass parameter \"type\" to "
              + "a Cinder type with multiattach=\"<is> True\""),
      new Row("volume mode", iscsi(), b -> b.editSpec().withVolumeMode("Sideways").endSpec(),
          "unsupported volumeMode \"Sideways\"; use Filesystem or Block"),
      new Row("selector", iscsi(), b -> b.editSpec().withSelector(new LabelSelectorBuilder()
          .addToMatchLabels("tier", "gold").build()).endSpec(),
          "claim selector is not supported: remove spec.selector"),
      new Row("snapshot data source", iscsi(), b -> b.editSpec().withDataSource(new TypedLocalObjectReference(
          "snapshot.storage.k8s.io", "VolumeSnapshot", "snap")).endSpec(),
          // The chaos cluster has no snapshot CRDs: a restore is refused, naming why.
          "dataSource VolumeSnapshot \"snap\": snapshots are off: the API server does not serve "
              + "snapshot.storage.k8s.io/v1 (install the snapshot CRDs, then restart the provisioner)"),
      new Row("unknown data source kind", iscsi(), b -> b.editSpec().withDataSource(new TypedLocalObjectReference(
          "example.com", "Widget", "w")).endSpec(),
          "unsupported dataSource Widget (example.com); a PersistentVolumeClaim (clone) or a snapshot.storage.k8s.io "
              + "VolumeSnapshot (restore) of the same namespace can be a source"));

  @Test
  void everyBadClaimOrClassGetsItsEventAndNoCinderCall() throws Exception {
    Path logDir = Chaos.logDir("badinput");
    try (CinderSimulator sim = Chaos.keystoneSim().createDelay(Duration.ofMillis(100)).start();
        ChaosApiServer api = new ChaosApiServer(dir);
        PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
        ChaosProcess p = ChaosProcess.start(logDir, "badinput", List.of("run", "--kubeconfig",
            api.kubeconfig.toString(), "--cloud-config", Chaos.cloudConfig(dir, sim).toString(),
            "--no-leader-elect", "--namespace", Chaos.NAMESPACE, "--metrics-address", "", "--max-size-gib", "100",
            "--connector-initiator", "iqn.2004-10.com.example:bad"))) {
      Chaos.storageClass(api.client, "cinder");
      await().atMost(Duration.ofSeconds(90)).until(() -> Chaos.bound(api.client.persistentVolumeClaims()
          .inNamespace("apps").withName("warm-up").get()) || create(api, "warm-up", "cinder", b -> b) == null);
      Thread.sleep(1000);
      Map<String, Long> before = sim.requestCounts();
      for (int i = 0; i < CLAIM_ROWS.size(); i++) {
        Row r = CLAIM_ROWS.get(i);
        api.client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
            .withName("bad-" + i).endMetadata().withProvisioner(Chaos.PROVISIONER).withParameters(r.params())
            .withReclaimPolicy("Delete").build()).create();
        create(api, "bad-" + i, "bad-" + i, r.claim());
      }
      List<String> wrong = new ArrayList<>();
      for (int i = 0; i < CLAIM_ROWS.size(); i++) {
        Row r = CLAIM_ROWS.get(i);
        String name = "bad-" + i;
        String prefix = "failed to provision volume with StorageClass \"" + name + "\": ";
        await().atMost(Duration.ofSeconds(60)).until(() -> !events(api, name).isEmpty());
        Event e = events(api, name).get(0);
        if (!"Warning".equals(e.getType()) || !e.getNote().startsWith(prefix + r.expected())
            || r.expected().endsWith("\"") && !e.getNote().equals(prefix + r.expected())) {
          wrong.add(r.label() + ": " + e.getType() + " " + e.getNote());
        }
        tried++;
      }
      assertThat(wrong).as("Events of the bad-input table").isEmpty();
      Thread.sleep(2000);
      Map<String, Long> after = sim.requestCounts();
      assertThat(after).as("no Cinder call for any bad input").isEqualTo(before);
      assertThat(api.client.persistentVolumeClaims().inNamespace("apps").list().getItems())
          .filteredOn(c -> c.getMetadata().getName().startsWith("bad-")).noneMatch(Chaos::bound);
      assertThat(sim.volumes()).hasSize(1);

      // A cluster whose kube-system namespace cannot be read gives no cluster id: one line, exit code 2.
      KubernetesMockServer bare = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
          new KubernetesCrudDispatcher(), false);
      bare.init(InetAddress.getLoopbackAddress(), 0);
      try (KubernetesClient bareClient = bare.createClient()) {
        Path bareConfig = Kubeconfigs.write(Files.createDirectories(dir.resolve("bare")),
            bareClient.getMasterUrl().toString(), "not-checked");
        assertConfigError(List.of("run", "--kubeconfig", bareConfig.toString(), "--cloud-config",
            Chaos.cloudConfig(dir, sim).toString(), "--no-leader-elect", "--metrics-address", ""),
            "namespace kube-system not found: cannot derive the cluster id");
      } finally {
        bare.destroy();
      }
    }

    // Configuration values: one line, exit code 2, before any Cinder or Kubernetes call.
    Path conf = dir.resolve("ok.conf");
    Files.writeString(conf, "[Global]\ncinder-endpoint = http://127.0.0.1:1/v3\n");
    Map<List<String>, String> configRows = new LinkedHashMap<>();
    configRows.put(List.of("--workers", "0"), "--workers must be between 1 and 1000, got 0");
    configRows.put(List.of("--attach-mode", "sideways"),
        "--attach-mode must be auto, attachments or legacy, got \"sideways\"");
    configRows.put(List.of("--orphan-mode", "maybe"), "--orphan-mode must be report or delete, got \"maybe\"");
    configRows.put(List.of("--orphan-mode", "delete", "--cluster-id", "kubernetes"),
        "--orphan-mode delete needs a cluster id unique to this cluster, and \"kubernetes\" (the old default) may be "
            + "shared by other clusters");
    configRows.put(List.of("--max-size-gib", "0"), "--max-size-gib must be positive, got 0");
    configRows.put(List.of("--kube-api-qps", "0"), "--kube-api-qps must be positive and --kube-api-burst at least 1");
    configRows.put(List.of("--provisioner-name", "bad name"),
        "--provisioner-name \"bad name\" is not a valid provisioner name");
    for (var row : configRows.entrySet()) {
      List<String> args = new ArrayList<>(List.of("run", "--cloud-config", conf.toString(), "--kubeconfig",
          dir.resolve("none").toString(), "--no-leader-elect", "--metrics-address", ""));
      args.addAll(row.getKey());
      assertConfigError(args, row.getValue());
    }
    Map<String, String> cloudRows = new LinkedHashMap<>();
    cloudRows.put("tls-insecure = maybe\ncinder-endpoint = http://127.0.0.1:1/v3\n", "tls-insecure");
    cloudRows.put("ca-file = /nonexistent/ca.pem\ncinder-endpoint = https://127.0.0.1:1/v3\n", "ca-file");
    cloudRows.put("username = u\npassword = p\n", "auth-url");
    cloudRows.put("auth-url = http://127.0.0.1:1/v3\nusername = u\n", "password");
    for (var row : cloudRows.entrySet()) {
      Path bad = dir.resolve("bad" + tried + ".conf");
      Files.writeString(bad, "[Global]\n" + row.getKey());
      assertConfigError(List.of("check", "--cloud-config", bad.toString()), row.getValue());
    }
    System.out.println("chaos bad inputs tried: " + tried);
  }

  private void assertConfigError(List<String> args, String expected) throws Exception {
    ChaosProcess p = ChaosProcess.start(dir, "config-" + tried, args);
    await().atMost(Duration.ofSeconds(60)).until(() -> !p.isAlive());
    List<String> lines = p.output().lines().filter(l -> l.startsWith("standalone-cinder:")).toList();
    assertThat(lines).as(String.join(" ", args) + "\n" + p.output()).singleElement().asString().contains(expected);
    assertThat(p.output()).doesNotContain("\tat ");
    assertThat(p.exitCode()).isEqualTo(2);
    tried++;
  }

  private static Object create(ChaosApiServer api, String name, String sc,
      UnaryOperator<PersistentVolumeClaimBuilder> tweak) {
    if (api.client.persistentVolumeClaims().inNamespace("apps").withName(name).get() != null) {
      return name;
    }
    PersistentVolumeClaimBuilder b = new PersistentVolumeClaimBuilder().withNewMetadata().withName(name)
        .withNamespace("apps").endMetadata().withNewSpec().withStorageClassName(sc).withAccessModes("ReadWriteOnce")
        .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec();
    if (!name.equals("warm-up") && tweak != null) {
      b = tweak.apply(b);
      // Rows that set their own size start from an empty request.
    }
    return api.client.persistentVolumeClaims().inNamespace("apps").resource(b.build()).create();
  }

  private static List<Event> events(ChaosApiServer api, String claim) {
    var c = api.client.persistentVolumeClaims().inNamespace("apps").withName(claim).get();
    return api.client.events().v1().events().inNamespace("apps").list().getItems().stream()
        .filter(e -> e.getRegarding() != null && c.getMetadata().getUid().equals(e.getRegarding().getUid()))
        .filter(e -> "ProvisioningFailed".equals(e.getReason())).toList();
  }
}
