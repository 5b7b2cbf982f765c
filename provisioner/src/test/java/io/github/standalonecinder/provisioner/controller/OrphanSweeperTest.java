package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.github.standalonecinder.mappers.SecretStore;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.controller.OrphanSweeper.Kept;
import io.github.standalonecinder.provisioner.controller.OrphanSweeper.Ownership;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings.OrphanMode;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The orphan sweeper's decisions: the cache index and the pure verdicts first, then whole sweeps in process against
 * the CRUD mock API server (its request log shows what a sweep asks) and the Cinder simulator.
 */
@EnableKubernetesMockClient(crud = true)
class OrphanSweeperTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  static final String US = "11111111-2222-4333-8444-555555555555";
  static final List<String> DERIVED = List.of(US, ClusterIdentity.LEGACY_DEFAULT);
  static final String NS = "kube-system";

  // ------------------------------------------------------------------ fixtures

  static Map<String, String> meta(String cluster, String uid, String policy) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(Annotations.META_CLUSTER, cluster);
    m.put(Annotations.META_CLAIM_NAMESPACE, "apps");
    m.put(Annotations.META_CLAIM_NAME, "claim-" + uid);
    m.put(Annotations.META_CLAIM_UID, uid);
    m.put(Annotations.META_PV_NAME, "pvc-" + uid);
    if (policy != null) {
      m.put(Annotations.META_RECLAIM_POLICY, policy);
    }
    return m;
  }

  static CinderVolume volume(String id, Map<String, String> metadata) {
    return new CinderVolume(id, "pvc-" + metadata.get(Annotations.META_CLAIM_UID), "in-use", 1, null, null, metadata,
        false, List.of(), Instant.parse("2026-01-01T00:00:00Z"));
  }

  static PersistentVolume pv(String name, String volumeId, String reclaim, UnaryOperator<PersistentVolumeBuilder> t) {
    PersistentVolumeBuilder b = new PersistentVolumeBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewSpec().withPersistentVolumeReclaimPolicy(reclaim).addToCapacity("storage", new Quantity("1Gi"))
        .withNewIscsi().withTargetPortal("192.0.2.1:3260").withIqn("iqn.2010-10.org.example:target").withLun(0)
        .endIscsi().endSpec();
    if (volumeId != null) {
      b.editMetadata().addToAnnotations(Annotations.CINDER_VOLUME_ID, volumeId).endMetadata();
    }
    return t.apply(b).build();
  }

  static PersistentVolume pv(String name, String volumeId, String reclaim) {
    return pv(name, volumeId, reclaim, b -> b);
  }

  static PersistentVolumeClaim claim(String name, String uid, UnaryOperator<PersistentVolumeClaimBuilder> t) {
    return t.apply(new PersistentVolumeClaimBuilder().withNewMetadata().withNamespace("apps").withName(name)
        .withUid(uid).endMetadata().withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
        .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec()).build();
  }

  static PersistentVolumeClaimBuilder provisioning(PersistentVolumeClaimBuilder b, String pvName) {
    return b.editMetadata().addToFinalizers(Annotations.CLAIM_FINALIZER)
        .addToAnnotations(Annotations.CLAIM_PROVISIONING, pvName).endMetadata();
  }

  // ------------------------------------------------------------------ the index and the verdicts

  @Test
  void theIndexJudgesEachVolumeByTheCaches() {
    List<PersistentVolume> pvs = List.of(
        pv("pvc-a", "vol-a", "Delete"),
        pv("pvc-b", "vol-b", "Retain"),
        pv("pvc-c", "vol-c-kept", "Delete"),
        pv("pvc-d", null, "Retain"),
        pv("handmade-i", null, "Retain", b -> b.editSpec().withIscsi(null).withNewCsi()
            .withDriver("cinder.csi.openstack.org").withVolumeHandle("99999999-0000-4000-8000-000000000009")
            .endCsi().endSpec()),
        pv("handmade-j", null, "Retain", b -> b.editSpec().editIscsi()
            .withIqn("iqn.2010-10.org.openstack:volume-88888888-0000-4000-8000-000000000008").endIscsi().endSpec()));
    List<PersistentVolumeClaim> claims = List.of(
        claim("e", "e", b -> b),
        claim("f-new", "f-other", b -> provisioning(b, "pvc-f")));
    OrphanSweeper.Index index = OrphanSweeper.Index.of(pvs, claims);

    assertThat(index.judge(volume("vol-a", meta(US, "a", "Delete"))).ownership()).isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("vol-a", meta(US, "a", "Delete"))).recordRetain()).isFalse();
    var b = index.judge(volume("vol-b", meta(US, "b", "Delete")));
    assertThat(b.ownership()).isEqualTo(Ownership.OWNED);
    assertThat(b.recordRetain()).as("its PV says Retain, its metadata Delete").isTrue();
    assertThat(index.judge(volume("vol-b", meta(US, "b", null))).recordRetain()).as("nothing recorded").isTrue();
    assertThat(index.judge(volume("vol-b", meta(US, "b", "Retain"))).recordRetain()).as("already").isFalse();
    assertThat(index.judge(volume("vol-c-dup", meta(US, "c", "Delete"))).ownership())
        .as("pvc-c names another volume").isEqualTo(Ownership.DUPLICATE);
    assertThat(index.judge(volume("vol-c-kept", meta(US, "c", "Delete"))).ownership()).isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("vol-d", meta(US, "d", "Delete"))).ownership())
        .as("a PV of its name without a volume id is not ours to judge by").isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("vol-e", meta(US, "e", "Delete"))).ownership()).as("claim by UID")
        .isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("vol-f", meta(US, "f", "Delete"))).ownership())
        .as("a claim provisioning its PV name").isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("vol-g", meta(US, "g", "Delete"))).ownership()).isEqualTo(Ownership.GONE);
    assertThat(index.judge(new CinderVolume("vol-h", "manual", "available", 1, null, null,
        Map.of(Annotations.META_CLUSTER, US), false, List.of(), null)).ownership()).isEqualTo(Ownership.NOT_OURS);
    assertThat(index.judge(volume("99999999-0000-4000-8000-000000000009", meta(US, "i", "Delete"))).ownership())
        .as("a CSI volume handle names it").isEqualTo(Ownership.OWNED);
    assertThat(index.judge(volume("88888888-0000-4000-8000-000000000008", meta(US, "j", "Delete"))).ownership())
        .as("an IQN ending in volume-<id> names it").isEqualTo(Ownership.OWNED);
  }

  @Test
  void volumeIdsNamedByAPv() {
    assertThat(OrphanSweeper.volumeIdsNamedBy(pv("p", "x", "Delete"))).containsExactly("x");
    assertThat(OrphanSweeper.volumeIdsNamedBy(pv("p", null, "Delete"))).isEmpty();
    assertThat(OrphanSweeper.volumeIdsNamedBy(pv("p", null, "Delete", b -> b.editSpec().withIscsi(null).withNewRbd()
        .withImage("volume-12345678-1234-4234-8234-123456789abc").withMonitors("m:6789").endRbd().endSpec())))
        .containsExactly("12345678-1234-4234-8234-123456789abc");
    assertThat(OrphanSweeper.volumeIdsNamedBy(pv("p", null, "Delete", b -> b.editSpec().withIscsi(null)
        .withNewCinder().withVolumeID("in-tree-id").endCinder().endSpec()))).containsExactly("in-tree-id");
  }

  @Test
  void whatTheApiServerSaysDecidesACandidate() {
    CinderVolume v = volume("vol-x", meta(US, "x", "Delete"));
    OrphanSweeper.Meta m = OrphanSweeper.Meta.of(v);
    AtomicInteger claimReads = new AtomicInteger();
    assertThat(OrphanSweeper.confirm(v, m, pv("pvc-x", "vol-x", "Delete"), () -> {
      claimReads.incrementAndGet();
      return null;
    })).as("the cache lagged: the PV names it").isEqualTo(Ownership.OWNED);
    assertThat(OrphanSweeper.confirm(v, m, pv("pvc-x", "vol-y", "Delete"), () -> {
      claimReads.incrementAndGet();
      return null;
    })).isEqualTo(Ownership.DUPLICATE);
    assertThat(claimReads).as("the claim is read only when no PV has its name").hasValue(0);
    assertThat(OrphanSweeper.confirm(v, m, pv("pvc-x", null, "Delete"), () -> null)).isEqualTo(Ownership.OWNED);
    assertThat(OrphanSweeper.confirm(v, m, null, () -> claim("claim-x", "x", b -> b))).isEqualTo(Ownership.OWNED);
    assertThat(OrphanSweeper.confirm(v, m, null, () -> claim("claim-x", "x2", b -> b)))
        .as("a new claim of the same name").isEqualTo(Ownership.GONE);
    assertThat(OrphanSweeper.confirm(v, m, null, () -> claim("claim-x", "x2", b -> provisioning(b, "pvc-x"))))
        .isEqualTo(Ownership.OWNED);
    assertThat(OrphanSweeper.confirm(v, m, null, () -> null)).isEqualTo(Ownership.GONE);
  }

  @Test
  void onlyOurOwnTaggedDeleteVolumesMayGoAndOnlyInDeleteMode() {
    OrphanMode delete = OrphanMode.DELETE;
    assertThat(OrphanSweeper.keptBecause(volume("v", meta(US, "u", "Delete")), DERIVED, delete)).isNull();
    assertThat(OrphanSweeper.keptBecause(volume("v", meta(US, "u", "Delete")), DERIVED, OrphanMode.REPORT))
        .isEqualTo(Kept.REPORT_MODE);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta(US, "u", "Retain")), DERIVED, delete))
        .isEqualTo(Kept.RETAIN);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta(US, "u", null)), DERIVED, delete))
        .isEqualTo(Kept.NO_RECLAIM_POLICY);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta(US, "u", "Recycle")), DERIVED, delete))
        .isEqualTo(Kept.NO_RECLAIM_POLICY);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta("kubernetes", "u", "Delete")), DERIVED, delete))
        .isEqualTo(Kept.LEGACY_CLUSTER_ID);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta("kubernetes", "u", "Retain")), DERIVED, delete))
        .isEqualTo(Kept.RETAIN);
    assertThat(OrphanSweeper.keptBecause(volume("v", meta("mine", "u", "Delete")), List.of("mine"), delete))
        .as("an explicit id").isNull();
  }

  // ------------------------------------------------------------------ whole sweeps

  @Test
  void aSweepAsksTheApiServerOnlyAboutCandidatesAndDeletesOnlyWhatItMay() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start()) {
      CinderGateway cinder = TestCinder.connect(sim);
      List<PersistentVolume> pvs = new ArrayList<>();
      List<PersistentVolumeClaim> claims = new ArrayList<>();
      // 40 owned volumes, each with its PV and claim.
      for (int i = 0; i < 40; i++) {
        String uid = "owned-" + i;
        String id = create(cinder, meta(US, uid, "Delete"));
        pvs.add(client.resource(pv("pvc-" + uid, id, "Delete")).create());
        claims.add(client.resource(claim("claim-" + uid, uid, c -> c)).create());
      }
      // An admin set this one's PV to Retain: the sweep records it.
      String patched = create(cinder, meta(US, "patched", "Delete"));
      pvs.add(client.resource(pv("pvc-patched", patched, "Retain")).create());
      // Orphans of every kind.
      String gone = create(cinder, meta(US, "gone", "Delete"));
      String keptId = create(cinder, meta(US, "dup", "Delete"));
      String duplicate = create(cinder, meta(US, "dup", "Delete"));
      pvs.add(client.resource(pv("pvc-dup", keptId, "Delete")).create());
      String retained = create(cinder, meta(US, "retained", "Retain"));
      String older = create(cinder, meta(US, "older", null));
      String legacy = create(cinder, meta("kubernetes", "legacy", "Delete"));
      String foreign = create(cinder, meta("another-cluster", "foreign", "Delete"));
      // The cache lags: the API server has this PV, the cache does not.
      String lagged = create(cinder, meta(US, "lagged", "Delete"));
      client.resource(pv("pvc-lagged", lagged, "Delete")).create();
      for (String secret : List.of("pvc-gone-chap", "pvc-dup-chap")) {
        client.resource(new SecretBuilder().withNewMetadata().withName(secret).withNamespace(NS).endMetadata()
            .build()).create();
      }

      List<RecordedRequest> before = drain();
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      ProvisionerSettings settings = ProvisionerSettings.defaults(NS, ControllerHarness.CONNECTOR)
          .withClusterIds(DERIVED).withOrphanSweeper(Duration.ZERO, Duration.ofHours(1), OrphanMode.DELETE);
      OrphanSweeper sweeper = new OrphanSweeper(client, cinder,
          new CinderExporter(cinder, settings.connector(), settings.attachMode()), new SecretStore(client), settings,
          registry, () -> claims, () -> pvs, Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
      List<OrphanSweeper.Orphan> found = sweeper.sweep();
      List<String> requests = drain().stream().map(r -> r.getMethod() + " " + r.getPath()).toList();

      assertThat(found).extracting(OrphanSweeper.Orphan::volumeId, OrphanSweeper.Orphan::ownership,
          OrphanSweeper.Orphan::kept).containsExactlyInAnyOrder(
          org.assertj.core.groups.Tuple.tuple(gone, Ownership.GONE, null),
          org.assertj.core.groups.Tuple.tuple(duplicate, Ownership.DUPLICATE, null),
          org.assertj.core.groups.Tuple.tuple(retained, Ownership.GONE, Kept.RETAIN),
          org.assertj.core.groups.Tuple.tuple(older, Ownership.GONE, Kept.NO_RECLAIM_POLICY),
          org.assertj.core.groups.Tuple.tuple(legacy, Ownership.GONE, Kept.LEGACY_CLUSTER_ID));
      Set<String> left = new TreeSet<>();
      sim.volumes().stream().filter(v -> !"deleting".equals(v.status())).forEach(v -> left.add(v.id()));
      assertThat(left).doesNotContain(gone, duplicate).contains(keptId, retained, older, legacy, foreign, lagged,
          patched).hasSize(40 + 7);
      assertThat(sim.volume(patched).metadata()).containsEntry(Annotations.META_RECLAIM_POLICY, "Retain");
      assertThat(client.secrets().inNamespace(NS).withName("pvc-gone-chap").get()).isNull();
      assertThat(client.secrets().inNamespace(NS).withName("pvc-dup-chap").get())
          .as("a duplicate's PV name is the living PV's: its Secrets stay").isNotNull();
      assertThat(registry.get("standalone_cinder_orphan_volumes").tag("reason", "retain").gauge().value())
          .isEqualTo(1.0);
      assertThat(registry.get("standalone_cinder_orphan_volumes").tag("reason", "legacy-cluster-id").gauge().value())
          .isEqualTo(1.0);
      assertThat(registry.get("standalone_cinder_orphan_volumes").tag("reason", "report-mode").gauge().value())
          .isEqualTo(0.0);
      assertThat(registry.get("standalone_cinder_orphan_volumes_deleted").counter().count()).isEqualTo(2.0);

      // Every request of the sweep: the candidates' PV by name, their claim when no PV has the name, and the deleted
      // orphan's Secrets (two kinds, in the provisioner's and the claim's namespace). No LIST, nothing else.
      List<String> expected = new ArrayList<>();
      for (String uid : List.of("gone", "retained", "older", "legacy", "lagged")) {
        expected.add("GET /api/v1/persistentvolumes/pvc-" + uid);
      }
      expected.add("GET /api/v1/persistentvolumes/pvc-dup");
      for (String uid : List.of("gone", "retained", "older", "legacy")) {
        expected.add("GET /api/v1/namespaces/apps/persistentvolumeclaims/claim-" + uid);
      }
      for (String ns : List.of(NS, "apps")) {
        for (String suffix : List.of("-chap", "-cephx")) {
          expected.add("DELETE /api/v1/namespaces/" + ns + "/secrets/pvc-gone" + suffix);
        }
      }
      assertThat(requests).as("requests before the sweep: %s", before.size()).containsExactlyInAnyOrderElementsOf(
          expected);
    } finally {
      client.persistentVolumes().delete();
      client.persistentVolumeClaims().inAnyNamespace().delete();
      client.secrets().inNamespace(NS).delete();
    }
  }

  @Test
  void aCandidateAPvInTheCacheNamesByNowIsLeftWithoutARequest() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start()) {
      CinderGateway cinder = TestCinder.connect(sim);
      String id = create(cinder, meta(US, "late", "Delete"));
      AtomicReference<List<PersistentVolume>> cache = new AtomicReference<>(List.of());
      ProvisionerSettings settings = ProvisionerSettings.defaults(NS, ControllerHarness.CONNECTOR)
          .withClusterIds(DERIVED).withOrphanSweeper(Duration.ZERO, Duration.ofHours(1), OrphanMode.DELETE);
      AtomicInteger reads = new AtomicInteger();
      OrphanSweeper sweeper = new OrphanSweeper(client, cinder,
          new CinderExporter(cinder, settings.connector(), settings.attachMode()), new SecretStore(client), settings,
          new SimpleMeterRegistry(), List::of, () -> {
            // The index's read sees no PV; by the time the candidates are looked at, a hand-made one names it.
            return reads.getAndIncrement() == 0 ? cache.get() : List.of(pv("handmade", id, "Retain"));
          }, Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
      drain();
      assertThat(sweeper.sweep()).isEmpty();
      assertThat(drain()).isEmpty();
      assertThat(sim.volume(id)).isNotNull();
    }
  }

  @Test
  void whatCannotBeCheckedOrDeletedStaysAndRetainIsRecordedWhateverTheAge() throws Exception {
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start();
        KubernetesClient unreachable = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
            new io.fabric8.kubernetes.client.ConfigBuilder().withMasterUrl("http://127.0.0.1:1")
                .withRequestRetryBackoffLimit(0).build()).build()) {
      CinderGateway cinder = TestCinder.connect(sim);
      String unchecked = create(cinder, meta(US, "unchecked", "Delete"));
      ProvisionerSettings settings = ProvisionerSettings.defaults(NS, ControllerHarness.CONNECTOR)
          .withClusterIds(DERIVED).withOrphanSweeper(Duration.ZERO, Duration.ofHours(1), OrphanMode.DELETE);
      Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(2));
      // The API server cannot be asked about the candidate: it counts as owned.
      OrphanSweeper blind = new OrphanSweeper(unreachable, cinder,
          new CinderExporter(cinder, settings.connector(), settings.attachMode()), new SecretStore(unreachable),
          settings, new SimpleMeterRegistry(), List::of, List::of, later);
      assertThat(blind.sweep()).isEmpty();
      assertThat(sim.volume(unchecked).status()).isNotEqualTo("deleting");

      // Cinder refuses the delete: kept as delete-failed, deleted by a later sweep.
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      OrphanSweeper sweeper = new OrphanSweeper(client, cinder,
          new CinderExporter(cinder, settings.connector(), settings.attachMode()), new SecretStore(client), settings,
          registry, List::of, List::of, later);
      sim.faults().failNext(1, "DELETE", "/volumes/" + unchecked, 500);
      assertThat(sweeper.sweep()).extracting(OrphanSweeper.Orphan::kept).containsExactly(Kept.DELETE_FAILED);
      assertThat(registry.get("standalone_cinder_orphan_volumes").tag("reason", "delete-failed").gauge().value())
          .isEqualTo(1.0);
      assertThat(sweeper.sweep()).extracting(OrphanSweeper.Orphan::deleted).containsExactly(true);
      assertThat(registry.get("standalone_cinder_orphan_volumes").tag("reason", "delete-failed").gauge().value())
          .isEqualTo(0.0);

      // A PV set to Retain a moment after its volume was made: recorded at once, though the volume is too young to
      // be judged.
      String young = create(cinder, meta(US, "young", "Delete"));
      OrphanSweeper now = new OrphanSweeper(client, cinder,
          new CinderExporter(cinder, settings.connector(), settings.attachMode()), new SecretStore(client), settings,
          new SimpleMeterRegistry(), List::of, () -> List.of(pv("pvc-young", young, "Retain")), Clock.systemUTC());
      assertThat(now.sweep()).isEmpty();
      assertThat(sim.volume(young).metadata()).containsEntry(Annotations.META_RECLAIM_POLICY, "Retain");
    }
  }

  private static String create(CinderGateway cinder, Map<String, String> metadata) {
    return cinder.createVolume(new VolumeCreateRequest("pvc-" + metadata.get(Annotations.META_CLAIM_UID), 1, null,
        null, null, metadata, null, null)).id();
  }

  private static List<RecordedRequest> drain() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }
}
