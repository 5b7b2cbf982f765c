package io.github.standalonecinder.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.mappers.SecretRef;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.provisioner.controller.ClusterIdentity;
import io.github.standalonecinder.provisioner.controller.EventRecorder;
import io.github.standalonecinder.provisioner.controller.ProvisionerEvents;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.ConfigRefusal;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.github.standalonecinder.provisioner.controller.ProvisionController;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings;
import io.github.standalonecinder.provisioner.controller.Topology;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import io.github.standalonecinder.simulator.emulation.SnapshotCrds;
import io.github.standalonecinder.provisioner.controller.SnapshotApi;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.github.standalonecinder.provisioner.kube.Updates;
import io.github.standalonecinder.provisioner.leader.LeaseElector;
import io.github.standalonecinder.provisioner.leader.Leadership;
import io.github.standalonecinder.provisioner.metrics.ControllerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chart's RBAC against the calls the code makes. The real {@link ProvisionController} runs against the Fabric8
 * CRUD mock server through a provision, an orphan sweep in delete mode and a delete (claims, PVs, Secrets, Events),
 * after deriving its cluster id from the kube-system namespace, beside Fabric8's LeaderElector
 * configured as RunCommand configures it; every request it sends is recorded as (apiGroup, resource, verb,
 * namespace, name) and must be allowed by the rendered Roles and ClusterRoles bound to the chart's ServiceAccount.
 * The other direction: the chart grants exactly {@link #CODE_CALLS}, and each of those is seen in the run.
 */
@EnableKubernetesMockClient(crud = true)
class ChartRbacTest {
  private static final Logger log = LoggerFactory.getLogger(ChartRbacTest.class);
  static KubernetesMockServer server;
  static KubernetesClient client;

  private static final String PROVISIONER_AGENT = "standalone-cinder-under-rbac-test";
  private static final String NAMESPACE = ChartFixture.NAMESPACE;

  /** (group, resource, verb, cluster-wide?) — every kind of call the code makes, and why. */
  record Grant(String group, String resource, String verb, boolean clusterWide) implements Comparable<Grant> {
    @Override
    public int compareTo(Grant o) {
      return toString().compareTo(o.toString());
    }
  }

  static final Set<Grant> CODE_CALLS = new TreeSet<>(List.of(
      // Informers over all namespaces; ClaimProvisioner.recordIntent/clearIntent: Updates.update = update from the
      // cached copy, get + update again after a 409; the orphan sweeper's get of a candidate's claim.
      new Grant("", "persistentvolumeclaims", "list", true),
      new Grant("", "persistentvolumeclaims", "watch", true),
      new Grant("", "persistentvolumeclaims", "get", true),
      new Grant("", "persistentvolumeclaims", "update", true),
      // VolumeExpander: a resized claim's status (capacity, resize conditions).
      new Grant("", "persistentvolumeclaims/status", "update", true),
      // Informer; pvExists and the orphan sweeper get; save create; VolumeDeleter finalizer removal (get + update)
      // and delete.
      new Grant("", "persistentvolumes", "list", true),
      new Grant("", "persistentvolumes", "watch", true),
      new Grant("", "persistentvolumes", "get", true),
      new Grant("", "persistentvolumes", "create", true),
      new Grant("", "persistentvolumes", "update", true),
      new Grant("", "persistentvolumes", "delete", true),
      new Grant("storage.k8s.io", "storageclasses", "list", true),
      new Grant("storage.k8s.io", "storageclasses", "watch", true),
      // VolumeModifier: the VolumeAttributesClass a claim asks for.
      new Grant("storage.k8s.io", "volumeattributesclasses", "get", true),
      // EventRecorder: create in the claim's namespace; a merge patch (Fabric8 gets first) bumps a repeat's series.
      // ProvisionerEvents: the same on the provisioner's Pod or Lease, in the release namespace.
      new Grant("events.k8s.io", "events", "create", true),
      new Grant("events.k8s.io", "events", "get", true),
      new Grant("events.k8s.io", "events", "patch", true),
      // ClusterIdentity.resolve: the kube-system namespace (by name only), whose UID is the default cluster id.
      new Grant("", "namespaces", "get", true),
      // SnapshotController: informers over VolumeSnapshots, contents and classes; finalizers and bindings through
      // Updates.update (get + update again after a 409); status writes; a content created per dynamic snapshot and
      // deleted with deletionPolicy Delete.
      new Grant("snapshot.storage.k8s.io", "volumesnapshots", "list", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshots", "watch", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshots", "get", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshots", "update", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshots/status", "update", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "list", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "watch", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "get", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "create", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "update", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents", "delete", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotcontents/status", "update", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotclasses", "list", true),
      new Grant("snapshot.storage.k8s.io", "volumesnapshotclasses", "watch", true),
      // SecretStore.ensure (create, get to verify, update to replace a stale Secret of ours for a PV not yet
      // saved), delete by name (also VolumeRemoval, for deleted claims and the orphan sweeper).
      new Grant("", "secrets", "create", false),
      new Grant("", "secrets", "get", false),
      new Grant("", "secrets", "update", false),
      new Grant("", "secrets", "delete", false),
      // LeaseElector: get, create, and renewals / take-overs / release as updates conditional on resourceVersion.
      new Grant("coordination.k8s.io", "leases", "get", false),
      new Grant("coordination.k8s.io", "leases", "create", false),
      new Grant("coordination.k8s.io", "leases", "update", false)));

  /** With topology.mode zones, also: the node informer (a selected node's zone label). */
  static final Set<Grant> TOPOLOGY_CALLS = new TreeSet<>(List.of(
      new Grant("", "nodes", "list", true),
      new Grant("", "nodes", "watch", true)));

  /** One request as RBAC sees it; namespace null for cluster-scoped or all-namespaces requests. */
  record Call(String group, String resource, String verb, String namespace, String name) {}

  @Test
  void chartGrantsExactlyWhatTheCodeCalls() {
    assertThat(new TreeSet<>(Rbac.of(ChartFixture.objects(ChartFixture.render("defaults.yaml"))).grants()))
        .containsExactlyElementsOf(CODE_CALLS);
    Set<Grant> withClaimSecrets = new TreeSet<>(CODE_CALLS);
    for (String verb : List.of("create", "get", "update", "delete")) {
      withClaimSecrets.add(new Grant("", "secrets", verb, true));
    }
    assertThat(new TreeSet<>(Rbac.of(ChartFixture.objects(ChartFixture.render("claim-namespace-secrets.yaml")))
        .grants())).containsExactlyElementsOf(withClaimSecrets);
    Set<Grant> withTopology = new TreeSet<>(CODE_CALLS);
    withTopology.addAll(TOPOLOGY_CALLS);
    assertThat(new TreeSet<>(Rbac.of(ChartFixture.objects(ChartFixture.render("topology-zones.yaml"))).grants()))
        .containsExactlyElementsOf(withTopology);
    // With remapAfterFailover: FailoverRemapper's pod list and its StorageClass get (docs/replication.md).
    Set<Grant> withRemap = new TreeSet<>(CODE_CALLS);
    withRemap.add(new Grant("", "pods", "list", true));
    withRemap.add(new Grant("storage.k8s.io", "storageclasses", "get", true));
    assertThat(new TreeSet<>(Rbac.of(ChartFixture.objects(ChartFixture.render("remap-after-failover.yaml")))
        .grants())).containsExactlyElementsOf(withRemap);
  }

  @Test
  void everyRequestOfAProvisionAndDeleteIsAllowed() throws Exception {
    // With topology on: the same calls as without, and the node informer's (TOPOLOGY_CALLS).
    Rbac rbac = Rbac.of(ChartFixture.objects(ChartFixture.render("topology-zones.yaml")));
    // Everything the test itself sends goes through `client`; the code under test gets its own user agent.
    drain();
    KubernetesClient provisioner = new KubernetesClientBuilder().withConfig(new ConfigBuilder(client.getConfiguration())
        .withUserAgent(PROVISIONER_AGENT).build()).build();
    VolumeMapperRegistry mappers = VolumeMapperRegistry.defaults();
    ProvisionerSettings flags = ProvisionerSettings.defaults(NAMESPACE,
        new Connector("k8s", "192.0.2.10", "iqn.2004-10.com.example:nodes", List.of(), List.of(), false, "x86_64",
            "linux2")).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).withClusterIds(List.of())
        .withOrphanSweeper(Duration.ofMillis(300), Duration.ZERO, ProvisionerSettings.OrphanMode.DELETE);
    CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP)
        .volumeType("iscsi", Map.of()).start();
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.empty(),
        Map.of("OS_CINDER_ENDPOINT", sim.endpoint())), GatewayOptions.defaults());
    StorageClass sc = (StorageClass) ChartFixture.objects(Files.readString(
        ChartFixture.ROOT.resolve("examples/storageclass-iscsi.yaml"))).get(0);
    PersistentVolumeClaim claim = (PersistentVolumeClaim) ChartFixture.objects(Files.readString(
        ChartFixture.ROOT.resolve("examples/claim-filesystem.yaml"))).get(0);
    client.resource(sc).create();
    client.resource(claim).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("kube-system").endMetadata()
        .build()).create();
    // The snapshot CRDs (the chart's prerequisite for snapshots) and a class naming us.
    SnapshotCrds.install(client);
    client.genericKubernetesResources(SnapshotApi.CLASSES).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshotClass").withNewMetadata()
        .withName("cinder-snapshots").endMetadata()
        .addToAdditionalProperties("driver", ProvisionerSettings.DEFAULT_PROVISIONER_NAME)
        .addToAdditionalProperties("deletionPolicy", "Delete").build()).create();

    // As RunCommand.run() does without --cluster-id.
    ProvisionerSettings settings = ClusterIdentity.resolve(flags, provisioner);
    CountDownLatch leading = new CountDownLatch(1);
    String lease = ProvisionerSettings.DEFAULT_PROVISIONER_NAME.replaceAll("[^a-zA-Z0-9.-]", "-").toLowerCase();
    // As RunCommand.run() configures it, with a short lease: acquire, renew, release.
    LeaseElector.Config leaseConfig = LeaseElector.Config.of(NAMESPACE, lease, "pod-0", Duration.ofSeconds(2));
    Leadership leadership = new Leadership(leaseConfig.renewDeadline());
    LeaseElector election = new LeaseElector(provisioner, leaseConfig, leadership, new LeaseElector.Listener() {
      @Override
      public void startedLeading() {
        leading.countDown();
      }

      @Override
      public void stoppedLeading(String why) {
      }
    });
    election.start();
    try (PersistentVolumeBinder binder = new PersistentVolumeBinder(client).start();
         ProvisionController controller = new ProvisionController(provisioner, cinder, mappers, settings,
             new Topology(Topology.Mode.ZONES, "example.com/rack-zone", Map.of("az-a", List.of("rack-1"))),
             new ControllerMetrics(new SimpleMeterRegistry()), "pod-0_abc")) {
      assertThat(leading.await(20, TimeUnit.SECONDS)).as("leadership").isTrue();
      // An orphan for the sweeper: it reads the PV and the claim by name and deletes the volume and its Secrets.
      String gone = "0f0f0f0f-0000-4000-8000-000000000001";
      String orphan = cinder.createVolume(new VolumeCreateRequest("pvc-" + gone, 1, null, null, null, Map.of(
          "standalone-cinder.openstack.org/cluster", settings.clusterId(),
          "standalone-cinder.openstack.org/pvc-namespace", NAMESPACE,
          "standalone-cinder.openstack.org/pvc-name", "gone", "standalone-cinder.openstack.org/pvc-uid", gone,
          "standalone-cinder.openstack.org/pv-name", "pvc-" + gone,
          "standalone-cinder.openstack.org/reclaim-policy", "Delete"), null, null)).id();
      controller.start();
      await("the orphan swept").atMost(Duration.ofSeconds(20)).until(() -> sim.volume(orphan) == null
          || "deleting".equals(sim.volume(orphan).status()));
      // Events on a claim, and a repeat that updates the first Event's series.
      EventRecorder events = new EventRecorder(provisioner, settings.provisionerName(), "pod-0_abc",
          Clock.systemUTC());
      PersistentVolumeClaim stored = client.resource(claim).get();
      events.warning(stored, "ProvisioningFailed", "Provision", "rbac probe");
      events.warning(stored, "ProvisioningFailed", "Provision", "rbac probe");
      // A refused cloud config, as RunCommand wires it: on the Pod the chart's env names, else on the Lease; a
      // repeat each, so both are created and patched in the release namespace.
      Deployment deployment = ChartFixture.only(ChartFixture.objects(ChartFixture.render("defaults.yaml")),
          Deployment.class);
      List<String> podEnv = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
          .filter(e -> e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null)
          .map(e -> e.getName() + "=" + e.getValueFrom().getFieldRef().getFieldPath()).toList();
      assertThat(podEnv).as("the downward API gives the Pod's name, namespace and UID").contains(
          "POD_NAME=metadata.name", "POD_NAMESPACE=metadata.namespace", "POD_UID=metadata.uid");
      Optional<ProvisionerEvents.LeaseName> leaseName = Optional.of(new ProvisionerEvents.LeaseName(NAMESPACE,
          lease));
      for (Map<String, String> env : List.of(Map.of("POD_NAME", "pod-0", "POD_NAMESPACE", NAMESPACE, "POD_UID",
          "0b0b0b0b-0000-4000-8000-000000000001"), Map.<String, String>of())) {
        ProvisionerEvents own = new ProvisionerEvents(new EventRecorder(provisioner, settings.provisionerName(),
            "pod-0", Clock.systemUTC()), ProvisionerEvents.target(env, NAMESPACE, leaseName));
        own.accept(ConfigRefusal.of(new ConfigException("rbac probe")));
        own.accept(ConfigRefusal.of(new ConfigException("rbac probe")));
      }
      assertThat(client.events().v1().events().inNamespace(NAMESPACE).list().getItems().stream()
          .filter(e -> "CloudConfigRefused".equals(e.getReason())).map(e -> e.getRegarding().getKind()))
          .containsExactlyInAnyOrder("Pod", "Lease");
      // A retried provision re-creates a Secret that exists: SecretStore verifies it with a get.
      SecretStore secrets = new SecretStore(provisioner);
      Secret probe = new SecretBuilder().withNewMetadata().withName("rbac-probe-chap").withNamespace(NAMESPACE)
          .endMetadata().withType("kubernetes.io/iscsi-chap").addToData("node.session.auth.username", "dQ==")
          .build();
      secrets.ensure(probe);
      secrets.ensure(probe);
      // A stale Secret of ours (a crash before the PV, new credentials per export) is replaced: an update.
      secrets.ensure(new SecretBuilder(probe).withData(java.util.Map.of("node.session.auth.username", "dg=="))
          .build(), existing -> true);
      secrets.delete(new SecretRef(NAMESPACE, "rbac-probe-chap"));
      // A claim write from a stale cached copy meets a 409 and reads the claim afresh: Updates.update's get.
      PersistentVolumeClaim stale = client.resource(claim).get();
      // The user's writes here, as kubectl edit: a 409 (the controller clearing its intent) means read again.
      var userClaims = client.persistentVolumeClaims().inNamespace(claim.getMetadata().getNamespace());
      Updates.update(userClaims.withName(stale.getMetadata().getName()), userClaims::resource,
          c -> new PersistentVolumeClaimBuilder(c).editMetadata().addToAnnotations("example.com/touched", "yes")
              .endMetadata().build());
      var claims = provisioner.persistentVolumeClaims().inNamespace(stale.getMetadata().getNamespace());
      Updates.update(claims.withName(stale.getMetadata().getName()), claims::resource,
          c -> new PersistentVolumeClaimBuilder(c).editMetadata().addToAnnotations("example.com/probe", "rbac")
              .endMetadata().build(), stale);
      await().atMost(Duration.ofSeconds(30)).until(() -> "Bound".equals(phase(claim)));
      // A resize: Cinder extend, the PV's capacity, the claim's status conditions.
      Updates.update(userClaims.withName(claim.getMetadata().getName()), userClaims::resource,
          c -> new PersistentVolumeClaimBuilder(c).editSpec()
              .editResources().addToRequests("storage", new io.fabric8.kubernetes.api.model.Quantity("2Gi"))
              .endResources().endSpec().build());
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        var c = client.resource(claim).get();
        return c.getStatus().getConditions() != null && c.getStatus().getConditions().stream()
            .anyMatch(x -> "FileSystemResizePending".equals(x.getType()));
      });
      // A VolumeAttributesClass of the type the volume has: read, and the claim's status says it is applied.
      client.resources(io.fabric8.kubernetes.api.model.storage.VolumeAttributesClass.class).resource(
          new io.fabric8.kubernetes.api.model.storage.VolumeAttributesClassBuilder().withNewMetadata()
              .withName("same").endMetadata().withDriverName(ProvisionerSettings.DEFAULT_PROVISIONER_NAME)
              .withParameters(Map.of("type", "iscsi")).build()).create();
      Updates.update(userClaims.withName(claim.getMetadata().getName()), userClaims::resource,
          c -> new PersistentVolumeClaimBuilder(c).editSpec()
              .withVolumeAttributesClassName("same").endSpec().build());
      await().atMost(Duration.ofSeconds(30)).until(() -> "same".equals(client.resource(claim).get().getStatus()
          .getCurrentVolumeAttributesClassName()));
      // A snapshot of the claim, ready, then deleted (deletionPolicy Delete); a snapshot and a content written
      // from stale copies meet a 409 and are read afresh (Updates.update's get).
      var vsApi = client.genericKubernetesResources(SnapshotApi.SNAPSHOTS).inNamespace(claim.getMetadata()
          .getNamespace());
      GenericKubernetesResource vs = vsApi.resource(new GenericKubernetesResourceBuilder()
          .withApiVersion(SnapshotApi.API_VERSION).withKind("VolumeSnapshot").withNewMetadata().withName("snap")
          .withNamespace(claim.getMetadata().getNamespace()).endMetadata()
          .addToAdditionalProperties("spec", Map.of("volumeSnapshotClassName", "cinder-snapshots",
              "source", Map.of("persistentVolumeClaimName", claim.getMetadata().getName()))).build()).create();
      await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(SnapshotApi.at(vsApi.withName("snap")
          .get(), "status", "readyToUse")));
      String contentName = SnapshotApi.contentName(vs.getMetadata().getUid());
      var contentsApi = client.genericKubernetesResources(SnapshotApi.CONTENTS);
      var ourSnapshots = provisioner.genericKubernetesResources(SnapshotApi.SNAPSHOTS)
          .inNamespace(claim.getMetadata().getNamespace());
      var ourContents = provisioner.genericKubernetesResources(SnapshotApi.CONTENTS);
      UnaryOperator<GenericKubernetesResource> touch = o -> {
        o.getMetadata().setLabels(Map.of("example.com/touched", "yes"));
        return o;
      };
      UnaryOperator<GenericKubernetesResource> probeLabel = o -> {
        o.getMetadata().setLabels(Map.of("example.com/touched", "yes", "example.com/probe", "rbac"));
        return o;
      };
      GenericKubernetesResource staleSnapshot = vsApi.withName("snap").get();
      Updates.update(vsApi.withName("snap"), vsApi::resource, touch);
      Updates.update(ourSnapshots.withName("snap"), ourSnapshots::resource, probeLabel, staleSnapshot);
      GenericKubernetesResource staleContent = contentsApi.withName(contentName).get();
      Updates.update(contentsApi.withName(contentName), contentsApi::resource, touch);
      Updates.update(ourContents.withName(contentName), ourContents::resource, probeLabel, staleContent);
      vsApi.withName("snap").delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> vsApi.withName("snap").get() == null
          && contentsApi.withName(contentName).get() == null);
      client.resource(claim).delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> client.persistentVolumes().list().getItems().isEmpty()
          && sim.volumes().isEmpty());
      // Let the elector renew at least once.
      Thread.sleep(700);
    } finally {
      election.release();
      provisioner.close();
      sim.close();
    }

    // Discovery (GET /apis/<group>/<version>, whether the snapshot API is served) is every user's through the
    // built-in system:discovery ClusterRole: not the chart's to grant.
    List<Call> calls = drain().stream().filter(r -> PROVISIONER_AGENT.equals(r.getHeader("User-Agent")))
        .filter(r -> !r.getPath().matches("^(/api(/[^/?]+)?|/apis(/[^/?]+){0,2})(\\?.*)?$"))
        .map(ChartRbacTest::call).toList();
    assertThat(calls).isNotEmpty();
    List<Call> denied = calls.stream().filter(c -> !rbac.allows(c)).toList();
    assertThat(denied).as("requests the chart's RBAC would refuse").isEmpty();
    Set<Grant> seen = new TreeSet<>();
    calls.forEach(c -> seen.add(new Grant(c.group(), c.resource(), c.verb(), c.namespace() == null)));
    Set<Grant> seenKinds = new TreeSet<>();
    seen.forEach(g -> seenKinds.add(new Grant(g.group(), g.resource(), g.verb(), false)));
    Set<Grant> codeKinds = new TreeSet<>();
    CODE_CALLS.forEach(g -> codeKinds.add(new Grant(g.group(), g.resource(), g.verb(), false)));
    TOPOLOGY_CALLS.forEach(g -> codeKinds.add(new Grant(g.group(), g.resource(), g.verb(), false)));
    assertThat(codeKinds).as("calls seen that CODE_CALLS does not list").containsAll(seenKinds);
    Set<Grant> unused = new TreeSet<>(codeKinds);
    unused.removeAll(seenKinds);
    assertThat(unused).as("granted but never called in a provision + delete").isEmpty();
  }

  private static String phase(PersistentVolumeClaim claim) {
    PersistentVolumeClaim c = client.resource(claim).get();
    return c == null || c.getStatus() == null ? null : c.getStatus().getPhase();
  }

  private static List<RecordedRequest> drain() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }

  private static final Pattern PATH = Pattern.compile(
      "^/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(?:/([^/]+))?$");

  static Call call(RecordedRequest r) {
    String full = r.getPath();
    String path = full.contains("?") ? full.substring(0, full.indexOf('?')) : full;
    String query = full.contains("?") ? full.substring(full.indexOf('?') + 1) : "";
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      throw new AssertionError("unexpected request path " + full);
    }
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(5) == null ? m.group(3) : m.group(3) + "/" + m.group(5);
    String name = m.group(4);
    boolean watch = query.matches("(.*&)?watch=(true|1)(&.*)?");
    String verb = switch (r.getMethod()) {
      case "GET" -> name != null ? "get" : watch ? "watch" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> name != null ? "delete" : "deletecollection";
      default -> throw new AssertionError("unexpected method " + r.getMethod());
    };
    return new Call(group, resource, verb, m.group(2), name);
  }

  /** The rendered RBAC as the API server evaluates it for the chart's ServiceAccount. */
  record Rbac(List<PolicyRule> clusterRules, List<Scoped> namespacedRules) {
    record Scoped(String namespace, PolicyRule rule) {}

    static Rbac of(List<HasMetadata> objects) {
      ServiceAccount sa = ChartFixture.only(objects, ServiceAccount.class);
      List<PolicyRule> cluster = new ArrayList<>();
      List<Scoped> namespaced = new ArrayList<>();
      for (ClusterRoleBinding b : ChartFixture.ofKind(objects, ClusterRoleBinding.class)) {
        if (b.getSubjects().stream().anyMatch(s -> s.getName().equals(sa.getMetadata().getName())
            && sa.getMetadata().getNamespace().equals(s.getNamespace()))) {
          ClusterRole role = ChartFixture.ofKind(objects, ClusterRole.class).stream()
              .filter(r -> r.getMetadata().getName().equals(b.getRoleRef().getName())).findFirst().orElseThrow();
          cluster.addAll(role.getRules());
        }
      }
      for (RoleBinding b : ChartFixture.ofKind(objects, RoleBinding.class)) {
        if (b.getSubjects().stream().anyMatch(s -> s.getName().equals(sa.getMetadata().getName()))) {
          assertThat(b.getRoleRef().getKind()).isEqualTo("Role");
          Role role = ChartFixture.ofKind(objects, Role.class).stream()
              .filter(r -> r.getMetadata().getName().equals(b.getRoleRef().getName())).findFirst().orElseThrow();
          role.getRules().forEach(rule -> namespaced.add(new Scoped(role.getMetadata().getNamespace(), rule)));
        }
      }
      return new Rbac(cluster, namespaced);
    }

    boolean allows(Call c) {
      if (clusterRules.stream().anyMatch(r -> matches(r, c))) {
        return true;
      }
      return c.namespace() != null
          && namespacedRules.stream().anyMatch(s -> s.namespace().equals(c.namespace()) && matches(s.rule(), c));
    }

    private static boolean matches(PolicyRule r, Call c) {
      boolean names = r.getResourceNames() == null || r.getResourceNames().isEmpty()
          || c.name() != null && r.getResourceNames().contains(c.name());
      return r.getApiGroups().contains(c.group()) && r.getResources().contains(c.resource())
          && r.getVerbs().contains(c.verb()) && names;
    }

    /** Every (group, resource, verb) granted; cluster-wide when a ClusterRole grants it. */
    Set<Grant> grants() {
      Set<Grant> out = new LinkedHashSet<>();
      clusterRules.forEach(r -> expand(r, true, out));
      namespacedRules.forEach(s -> expand(s.rule(), false, out));
      return out;
    }

    private static void expand(PolicyRule r, boolean clusterWide, Set<Grant> out) {
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) {
            out.add(new Grant(g, res, v, clusterWide));
          }
        }
      }
    }
  }
}
