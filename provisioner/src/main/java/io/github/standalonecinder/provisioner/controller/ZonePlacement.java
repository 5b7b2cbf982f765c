package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.TopologySelectorLabelRequirement;
import io.fabric8.kubernetes.api.model.TopologySelectorTerm;
import io.fabric8.kubernetes.api.model.VolumeNodeAffinity;
import io.fabric8.kubernetes.api.model.VolumeNodeAffinityBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Where a claim's volume is made and which nodes its PV is for, as pure decisions over the {@link Topology}, the
 * class's {@code availability} and {@code allowedTopologies}, and (WaitForFirstConsumer) the node the scheduler
 * picked. Every conflict is an error before Cinder is asked for anything.
 */
final class ZonePlacement {
  private ZonePlacement() {
  }

  /**
   * The AZ to create the volume in; null lets Cinder choose (its default AZ).
   *
   * @param classAz      the class's {@code availability} parameter, or null
   * @param allowed      the class's {@code allowedTopologies}, or null/empty
   * @param selectedNode the node the scheduler picked (WaitForFirstConsumer), or null
   * @param node         that node as the cache has it, or null when not known
   * @param claimUid     spreads Immediate claims over several allowed AZs
   */
  static String availabilityZone(Topology topology, String classAz, List<TopologySelectorTerm> allowed,
      String selectedNode, Node node, String claimUid) throws ProvisioningException {
    boolean restricted = allowed != null && !allowed.isEmpty();
    if (!topology.enabled()) {
      if (restricted) {
        throw ProvisioningException.invalid("the StorageClass has allowedTopologies, but the provisioner runs with "
            + "--topology=off: start it with --topology=zones, or remove allowedTopologies");
      }
      return classAz;
    }
    Set<String> allowedAzs = restricted ? allowedAzs(topology, allowed) : Set.of();
    if (selectedNode != null) {
      String az = azOfNode(topology, selectedNode, node);
      if (classAz != null && !classAz.equals(az)) {
        throw ProvisioningException.invalid("the scheduler picked node \"" + selectedNode + "\", which reaches "
            + "Cinder AZ \"" + az + "\", but the StorageClass parameter \"availability\" is \"" + classAz + "\"");
      }
      if (restricted && !allowedAzs.contains(az)) {
        throw ProvisioningException.invalid("the scheduler picked node \"" + selectedNode + "\", which reaches "
            + "Cinder AZ \"" + az + "\", outside the StorageClass's allowedTopologies (AZs " + allowedAzs + ")");
      }
      return az;
    }
    if (classAz != null) {
      if (restricted && !allowedAzs.contains(classAz)) {
        throw ProvisioningException.invalid("the StorageClass parameter \"availability\" is \"" + classAz
            + "\", outside its own allowedTopologies (AZs " + allowedAzs + ")");
      }
      return classAz;
    }
    if (!restricted) {
      return null;
    }
    // Immediate binding among several AZs: spread the claims, the same AZ for a claim on every retry.
    List<String> azs = new ArrayList<>(allowedAzs);
    CRC32 crc = new CRC32();
    crc.update(claimUid.getBytes(StandardCharsets.UTF_8));
    return azs.get((int) (crc.getValue() % azs.size()));
  }

  /** The AZs the class's allowedTopologies name, through the zone map; only the topology node label is known. */
  static Set<String> allowedAzs(Topology topology, List<TopologySelectorTerm> allowed)
      throws ProvisioningException {
    Set<String> azs = new LinkedHashSet<>();
    for (TopologySelectorTerm term : allowed) {
      List<TopologySelectorLabelRequirement> exprs = term.getMatchLabelExpressions() == null ? List.of()
          : term.getMatchLabelExpressions();
      for (TopologySelectorLabelRequirement r : exprs) {
        if (!topology.nodeLabel().equals(r.getKey())) {
          throw ProvisioningException.invalid("the StorageClass's allowedTopologies uses the key \"" + r.getKey()
              + "\"; this provisioner places volumes by \"" + topology.nodeLabel() + "\" (--topology-node-label)");
        }
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        Set<String> reached = topology.azsOf(values);
        if (reached.isEmpty()) {
          throw ProvisioningException.invalid("the StorageClass's allowedTopologies zones " + values
              + " reach no Cinder AZ (--topology-zone)");
        }
        azs.addAll(reached);
      }
    }
    return azs;
  }

  /** The AZ the node reaches, by its zone label and the zone map. */
  static String azOfNode(Topology topology, String nodeName, Node node) throws ProvisioningException {
    if (node == null) {
      throw ProvisioningException.retryable("the selected node \"" + nodeName + "\" is not known (yet)", null);
    }
    var labels = node.getMetadata().getLabels();
    String zone = labels == null ? null : labels.get(topology.nodeLabel());
    if (zone == null || zone.isBlank()) {
      throw ProvisioningException.retryable("the selected node \"" + nodeName + "\" has no label \""
          + topology.nodeLabel() + "\": the Cinder AZ for it is not known; label the node (or run with "
          + "--topology=off on a flat cluster)", null);
    }
    return topology.azOf(zone).orElseThrow(() -> ProvisioningException.retryable("the selected node \"" + nodeName
        + "\" is in zone \"" + zone + "\", which no Cinder AZ is mapped to (--topology-zone)", null));
  }

  /** The PV's node affinity for a volume in {@code az}; null with topology off or when the AZ is not known. */
  static VolumeNodeAffinity nodeAffinity(Topology topology, String az) {
    if (!topology.enabled() || az == null) {
      return null;
    }
    return new VolumeNodeAffinityBuilder().withNewRequired().withNodeSelectorTerms(new NodeSelectorTermBuilder()
        .withMatchExpressions(new NodeSelectorRequirementBuilder().withKey(topology.nodeLabel()).withOperator("In")
            .withValues(topology.zonesOf(az)).build()).build()).endRequired().build();
  }
}
