package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.TopologySelectorTerm;
import io.fabric8.kubernetes.api.model.TopologySelectorTermBuilder;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ZonePlacementTest {
  private static final String LABEL = Topology.DEFAULT_NODE_LABEL;
  private static final Topology IDENTITY = new Topology(Topology.Mode.ZONES, null, Map.of());
  private static final Topology MAPPED = new Topology(Topology.Mode.ZONES, null,
      Topology.parseZones(List.of("az-a=rack-1,rack-2", "az-b=rack-3")));

  private static Node node(String zone) {
    var b = new NodeBuilder().withNewMetadata().withName("n1").endMetadata();
    if (zone != null) {
      b.editMetadata().addToLabels(LABEL, zone).endMetadata();
    }
    return b.build();
  }

  private static List<TopologySelectorTerm> allowed(String key, String... zones) {
    return List.of(new TopologySelectorTermBuilder().addNewMatchLabelExpression().withKey(key)
        .withValues(zones).endMatchLabelExpression().build());
  }

  private static ProvisioningException refusal(ThrowingPlacement p) {
    try {
      p.run();
    } catch (ProvisioningException e) {
      return e;
    }
    throw new AssertionError("no refusal");
  }

  interface ThrowingPlacement {
    void run() throws ProvisioningException;
  }

  @Test
  void withTopologyOffTheClassDecidesAndAllowedTopologiesIsAnError() throws ProvisioningException {
    assertThat(ZonePlacement.availabilityZone(Topology.OFF, null, null, "n1", null, "u")).isNull();
    assertThat(ZonePlacement.availabilityZone(Topology.OFF, "nova", List.of(), "n1", null, "u")).isEqualTo("nova");
    ProvisioningException e = refusal(() -> ZonePlacement.availabilityZone(Topology.OFF, null,
        allowed(LABEL, "az-a"), null, null, "u"));
    assertThat(e.permanent()).isTrue();
    assertThat(e).hasMessageContaining("--topology=zones");
    assertThat(ZonePlacement.nodeAffinity(Topology.OFF, "nova")).isNull();
  }

  @Test
  void theSelectedNodesZoneGivesTheAz() throws ProvisioningException {
    assertThat(ZonePlacement.availabilityZone(IDENTITY, null, null, "n1", node("az-b"), "u")).isEqualTo("az-b");
    assertThat(ZonePlacement.availabilityZone(MAPPED, null, null, "n1", node("rack-2"), "u")).isEqualTo("az-a");
    assertThat(ZonePlacement.availabilityZone(MAPPED, null, null, "n1", node("nova"), "u")).as("not listed: identity")
        .isEqualTo("nova");
  }

  @Test
  void aNodeThatCannotBePlacedIsAnErrorToRetryNotAGuess() {
    ProvisioningException unlabelled = refusal(() -> ZonePlacement.availabilityZone(IDENTITY, null, null, "n1",
        node(null), "u"));
    assertThat(unlabelled.permanent()).isFalse();
    assertThat(unlabelled).hasMessage("the selected node \"n1\" has no label \"topology.kubernetes.io/zone\": the "
        + "Cinder AZ for it is not known; label the node (or run with --topology=off on a flat cluster)");
    assertThat(refusal(() -> ZonePlacement.availabilityZone(IDENTITY, null, null, "n1", null, "u")))
        .hasMessage("the selected node \"n1\" is not known (yet)");
    // az-a is listed with other zones: a node labelled az-a reaches none.
    assertThat(refusal(() -> ZonePlacement.availabilityZone(MAPPED, null, null, "n1", node("az-a"), "u")))
        .hasMessage("the selected node \"n1\" is in zone \"az-a\", which no Cinder AZ is mapped to (--topology-zone)");
  }

  @Test
  void conflictsBetweenTheNodeTheClassAndAllowedTopologiesArePermanent() {
    ProvisioningException classConflict = refusal(() -> ZonePlacement.availabilityZone(MAPPED, "az-b", null, "n1",
        node("rack-1"), "u"));
    assertThat(classConflict.permanent()).isTrue();
    assertThat(classConflict).hasMessage("the scheduler picked node \"n1\", which reaches Cinder AZ \"az-a\", but "
        + "the StorageClass parameter \"availability\" is \"az-b\"");
    assertThat(refusal(() -> ZonePlacement.availabilityZone(MAPPED, null, allowed(LABEL, "rack-3"), "n1",
        node("rack-1"), "u"))).hasMessage("the scheduler picked node \"n1\", which reaches Cinder AZ \"az-a\", "
        + "outside the StorageClass's allowedTopologies (AZs [az-b])");
    assertThat(refusal(() -> ZonePlacement.availabilityZone(MAPPED, "az-a", allowed(LABEL, "rack-3"), null, null,
        "u"))).hasMessage("the StorageClass parameter \"availability\" is \"az-a\", outside its own "
        + "allowedTopologies (AZs [az-b])");
    assertThat(refusal(() -> ZonePlacement.availabilityZone(MAPPED, null, allowed("example.com/rack", "r1"), null,
        null, "u"))).hasMessageContaining("uses the key \"example.com/rack\"");
  }

  @Test
  void immediateClaimsSpreadOverTheAllowedAzsTheSameForAClaimEveryTime() throws ProvisioningException {
    List<TopologySelectorTerm> both = allowed(LABEL, "rack-2", "rack-3");
    Set<String> chosen = new HashSet<>();
    for (int i = 0; i < 40; i++) {
      String az = ZonePlacement.availabilityZone(MAPPED, null, both, null, null, "uid-" + i);
      assertThat(ZonePlacement.availabilityZone(MAPPED, null, both, null, null, "uid-" + i)).isEqualTo(az);
      chosen.add(az);
    }
    assertThat(chosen).containsExactlyInAnyOrder("az-a", "az-b");
    assertThat(ZonePlacement.availabilityZone(MAPPED, null, null, null, null, "u")).as("Cinder's default AZ")
        .isNull();
  }

  @Test
  void aPvIsPinnedToTheZonesThatReachItsVolumesAz() {
    var mapped = ZonePlacement.nodeAffinity(MAPPED, "az-a").getRequired().getNodeSelectorTerms();
    assertThat(mapped).singleElement().satisfies(t -> assertThat(t.getMatchExpressions()).singleElement()
        .satisfies(r -> {
          assertThat(r.getKey()).isEqualTo(LABEL);
          assertThat(r.getOperator()).isEqualTo("In");
          assertThat(r.getValues()).containsExactly("rack-1", "rack-2");
        }));
    assertThat(ZonePlacement.nodeAffinity(IDENTITY, "nova").getRequired().getNodeSelectorTerms().get(0)
        .getMatchExpressions().get(0).getValues()).containsExactly("nova");
    assertThat(ZonePlacement.nodeAffinity(IDENTITY, null)).isNull();
  }

  @Test
  void theZoneMapIsParsedAndANodeZoneReachesOneAz() {
    assertThat(Topology.parseZones(List.of("az-a=rack-1, rack-2"))).containsEntry("az-a", List.of("rack-1",
        "rack-2"));
    assertThatThrownBy(() -> Topology.parseZones(List.of("az-a"))).hasMessage("\"az-a\" is not AZ=zone[,zone...]");
    assertThatThrownBy(() -> Topology.parseZones(List.of("az-a=r1,,r2"))).hasMessageContaining("an empty zone");
    assertThatThrownBy(() -> Topology.parseZones(List.of("az-a=r1", "az-a=r2"))).hasMessage("AZ az-a is listed "
        + "twice");
    assertThatThrownBy(() -> new Topology(Topology.Mode.ZONES, null, Topology.parseZones(List.of("az-a=r1",
        "az-b=r1")))).hasMessage("node zone r1 is mapped to two AZs, az-a and az-b: a node must reach one AZ");
  }
}
