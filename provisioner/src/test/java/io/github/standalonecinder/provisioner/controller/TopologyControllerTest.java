package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.TopologySelectorTermBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Topology end to end: nodes with zone labels in the CRUD mock, a simulator with three AZs. */
@EnableKubernetesMockClient(crud = true)
class TopologyControllerTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  private static final AtomicInteger NS = new AtomicInteger();
  private static final String LABEL = Topology.DEFAULT_NODE_LABEL;

  private CinderSimulator sim;
  private ControllerHarness h;
  private final String ns = "topo" + NS.incrementAndGet();

  private void start(Topology topology) throws Exception {
    // The scheduler applies hints (a Cinder with SameBackendFilter and DifferentBackendFilter enabled).
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).createDelay(Duration.ofMillis(50))
        .availabilityZones("az-a", "az-b", "nova").schedulerHintFilters(true).start();
    h = new ControllerHarness(client, sim, TestCinder.connect(sim), s -> s, topology);
  }

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
    if (sim != null) {
      sim.close();
    }
    client.nodes().delete();
  }

  private void node(String name, String zone) {
    var b = new NodeBuilder().withNewMetadata().withName(name).endMetadata();
    if (zone != null) {
      b.editMetadata().addToLabels(LABEL, zone).endMetadata();
    }
    client.nodes().resource(b.build()).create();
  }

  private void storageClass(String name, String binding, Map<String, String> params, String... allowedZones) {
    var b = new StorageClassBuilder().withNewMetadata().withName(name).endMetadata()
        .withProvisioner(h.settings.provisionerName()).withParameters(params).withReclaimPolicy("Delete")
        .withVolumeBindingMode(binding);
    if (allowedZones.length > 0) {
      b.withAllowedTopologies(new TopologySelectorTermBuilder().addNewMatchLabelExpression().withKey(LABEL)
          .withValues(allowedZones).endMatchLabelExpression().build());
    }
    client.storage().v1().storageClasses().resource(b.build()).create();
  }

  private PersistentVolumeClaim onNode(String name, String sc, String node) {
    return h.claim(ns, name, sc, "1Gi", b -> node == null ? b : b.editMetadata()
        .addToAnnotations(Annotations.SELECTED_NODE, node).endMetadata());
  }

  private String azOf(PersistentVolumeClaim claim) {
    PersistentVolume pv = h.pvOf(claim);
    return sim.volume(pv.getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID)).availabilityZone();
  }

  private static List<String> pinnedTo(PersistentVolume pv) {
    return pv.getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms().get(0).getMatchExpressions().get(0)
        .getValues();
  }

  @Test
  void waitForFirstConsumerClaimsLandInTheirNodesAzThroughTheZoneMap() throws Exception {
    start(new Topology(Topology.Mode.ZONES, null, Topology.parseZones(List.of("az-a=rack-1,rack-2",
        "az-b=rack-3"))));
    node("n1", "rack-2");
    node("n3", "rack-3");
    node("n9", "nova"); // not listed: the AZ of the zone's own name
    storageClass("wffc-" + ns, "WaitForFirstConsumer", Map.of());
    PersistentVolumeClaim a = h.awaitBound(onNode("a", "wffc-" + ns, "n1"));
    PersistentVolumeClaim b = h.awaitBound(onNode("b", "wffc-" + ns, "n3"));
    PersistentVolumeClaim c = h.awaitBound(onNode("c", "wffc-" + ns, "n9"));
    assertThat(azOf(a)).isEqualTo("az-a");
    assertThat(pinnedTo(h.pvOf(a))).containsExactly("rack-1", "rack-2");
    assertThat(azOf(b)).isEqualTo("az-b");
    assertThat(pinnedTo(h.pvOf(b))).containsExactly("rack-3");
    assertThat(azOf(c)).isEqualTo("nova");
    assertThat(pinnedTo(h.pvOf(c))).containsExactly("nova");
    assertThat(h.pvOf(a).getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms().get(0)
        .getMatchExpressions().get(0).getKey()).isEqualTo(LABEL);
  }

  @Test
  void immediateClaimsStayWithinAllowedTopologiesAndSpread() throws Exception {
    start(new Topology(Topology.Mode.ZONES, null, Map.of()));
    storageClass("two-" + ns, "Immediate", Map.of(), "az-a", "az-b");
    List<PersistentVolumeClaim> claims = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      claims.add(onNode("i" + i, "two-" + ns, null));
    }
    java.util.Set<String> azs = new java.util.HashSet<>();
    for (PersistentVolumeClaim c : claims) {
      h.awaitBound(c);
      azs.add(azOf(c));
      assertThat(pinnedTo(h.pvOf(c))).containsExactly(azOf(c));
    }
    assertThat(azs).as("never nova, which the class does not allow").isSubsetOf("az-a", "az-b").hasSize(2);
  }

  @Test
  void everyConflictIsAnEventAndNoCinderCall() throws Exception {
    start(new Topology(Topology.Mode.ZONES, null, Topology.parseZones(List.of("az-a=rack-1"))));
    node("unlabelled", null);
    node("n1", "rack-1");
    node("lost", "rack-9"); // no AZ named rack-9
    storageClass("wffc-" + ns, "WaitForFirstConsumer", Map.of());
    storageClass("pinned-" + ns, "WaitForFirstConsumer", Map.of("availability", "az-b"));
    storageClass("narrow-" + ns, "WaitForFirstConsumer", Map.of(), "rack-1");
    client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
        .withName("otherkey-" + ns).endMetadata().withProvisioner(h.settings.provisionerName())
        .withAllowedTopologies(new TopologySelectorTermBuilder().addNewMatchLabelExpression()
            .withKey("example.com/rack").withValues("r1").endMatchLabelExpression().build()).build()).create();
    long creates = sim.requestCount("POST /volumes");
    Map<PersistentVolumeClaim, String> expected = new java.util.LinkedHashMap<>();
    expected.put(onNode("unlabelled", "wffc-" + ns, "unlabelled"), "has no label \"" + LABEL + "\"");
    expected.put(onNode("unknown", "wffc-" + ns, "ghost"), "the selected node \"ghost\" is not known (yet)");
    expected.put(onNode("lost", "wffc-" + ns, "lost"), "Cinder has no availability zone \"rack-9\"");
    expected.put(onNode("pinned", "pinned-" + ns, "n1"), "the scheduler picked node \"n1\", which reaches Cinder "
        + "AZ \"az-a\", but the StorageClass parameter \"availability\" is \"az-b\"");
    node("n2", "nova");
    expected.put(onNode("narrow", "narrow-" + ns, "n2"), "outside the StorageClass's allowedTopologies (AZs "
        + "[az-a])");
    expected.put(onNode("otherkey", "otherkey-" + ns, null), "uses the key \"example.com/rack\"");
    for (var e : expected.entrySet()) {
      await().atMost(Duration.ofSeconds(20)).until(() -> !h.events(e.getKey(), "ProvisioningFailed").isEmpty());
      assertThat(h.events(e.getKey(), "ProvisioningFailed").get(0).getNote()).as(e.getKey().getMetadata().getName())
          .contains(e.getValue());
    }
    assertThat(sim.requestCount("POST /volumes")).as("no volume made for any of them").isEqualTo(creates);

    // The node is labelled: the claim waiting on it goes through, in the node's AZ.
    client.nodes().withName("unlabelled").edit(n -> new NodeBuilder(n).editMetadata().addToLabels(LABEL, "rack-1")
        .endMetadata().build());
    PersistentVolumeClaim fixed = expected.keySet().iterator().next();
    h.awaitBound(fixed);
    assertThat(azOf(fixed)).isEqualTo("az-a");
  }

  @Test
  void schedulerHintsFromClaimAnnotationsReachCinder() throws Exception {
    start(Topology.OFF);
    storageClass("a-" + ns, "Immediate", Map.of("availability", "az-a"));
    storageClass("b-" + ns, "Immediate", Map.of("availability", "az-b"));
    PersistentVolumeClaim first = h.awaitBound(onNode("first", "a-" + ns, null));
    String firstVolume = h.pvOf(first).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    String firstName = sim.volume(firstVolume).name();
    // Away from it by name (another AZ: another backend), beside it by id.
    PersistentVolumeClaim away = h.awaitBound(h.claim(ns, "away", "b-" + ns, "1Gi", b -> b.editMetadata()
        .addToAnnotations(SchedulerHints.ANTI_AFFINITY, firstName).endMetadata()));
    PersistentVolumeClaim beside = h.awaitBound(h.claim(ns, "beside", "a-" + ns, "1Gi", b -> b.editMetadata()
        .addToAnnotations(SchedulerHints.CSI_AFFINITY, firstVolume).endMetadata()));
    assertThat(sim.volume(h.pvOf(away).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID))
        .schedulerHints()).containsExactly(Map.entry("different_host", List.of(firstVolume)));
    assertThat(sim.volume(h.pvOf(beside).getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID))
        .schedulerHints()).containsExactly(Map.entry("same_host", List.of(firstVolume)));

    // A hint Cinder's scheduler cannot meet (away from a volume, in its only backend): Cinder's reason, in the Event.
    PersistentVolumeClaim impossible = h.claim(ns, "impossible", "a-" + ns, "1Gi", b -> b.editMetadata()
        .addToAnnotations(SchedulerHints.ANTI_AFFINITY, firstVolume).endMetadata());
    await().atMost(Duration.ofSeconds(30)).until(() -> !h.events(impossible, "ProvisioningFailed").isEmpty());
    assertThat(h.events(impossible, "ProvisioningFailed").get(0).getNote()).contains("went to status error",
        "Could not find any available weighted backend");
    PersistentVolumeClaim unknown = h.claim(ns, "unknown", "a-" + ns, "1Gi", b -> b.editMetadata()
        .addToAnnotations(SchedulerHints.AFFINITY, "no-such-volume").endMetadata());
    assertThat(h.awaitEvent(unknown, "ProvisioningFailed").getNote()).contains("Cinder has no volume of that name");
  }

  @Test
  void withTopologyOffPvsHaveNoAffinityAndAllowedTopologiesIsRefused() throws Exception {
    start(Topology.OFF);
    storageClass("flat-" + ns, "Immediate", Map.of("availability", "az-b"));
    storageClass("limited-" + ns, "Immediate", Map.of(), "az-a");
    PersistentVolumeClaim flat = h.awaitBound(onNode("flat", "flat-" + ns, null));
    assertThat(h.pvOf(flat).getSpec().getNodeAffinity()).isNull();
    assertThat(azOf(flat)).isEqualTo("az-b");
    PersistentVolumeClaim limited = onNode("limited", "limited-" + ns, null);
    assertThat(h.awaitEvent(limited, "ProvisioningFailed").getNote()).contains("--topology=zones");
  }
}
