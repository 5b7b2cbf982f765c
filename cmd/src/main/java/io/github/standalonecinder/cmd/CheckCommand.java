package io.github.standalonecinder.cmd;

import io.github.standalonecinder.provisioner.cinder.ApiVersion;
import io.github.standalonecinder.provisioner.cinder.AvailabilityZone;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.CloudSet;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.github.standalonecinder.provisioner.controller.Topology;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Authenticate, reach Cinder, and print its API version, microversion range, volume types and "
        + "availability zones; with --topology=zones, the AZ <- node zone map and (with --kubeconfig) the zones "
        + "the nodes are in. Exits 0 only when all of that worked. With several clouds ([Global \"name\"] "
        + "sections), checks every cloud and prints one line each; exits non-zero if any fails.")
final class CheckCommand implements Runnable {
  @Mixin
  CloudOptions cloud;

  @Mixin
  TopologyOptions topology;

  @Option(names = "--kubeconfig", defaultValue = "${env:KUBECONFIG}",
      description = "With --topology=zones: read the nodes' zone labels from this cluster (read-only).")
  Path kubeconfig;

  @Override
  public void run() {
    Topology zonesMap = topology.toTopology();
    String kubeconfigText = zonesMap.enabled() && kubeconfig != null ? CloudOptions.readable("--kubeconfig",
        kubeconfig) : null;
    CloudSet clouds = cloud.loadAll();
    if (clouds.named()) {
      checkEach(clouds);
      return;
    }
    CloudConfig config = clouds.members().get(0).config().orElseThrow();
    System.out.println("Configuration: " + config);
    System.out.println("Authentication: " + config.describeAuth());
    CinderGateway cinder = CloudOptions.connect(config, cloud.options());
    try {
      ApiVersion v = cinder.apiVersion();
      System.out.println("Cinder endpoint: " + v.endpoint());
      System.out.println("API version: v" + v.major()
          + (v.major() >= 3 ? ", microversions " + v.minMicroversion() + " to " + v.maxMicroversion()
              + ", using " + v.usedMicroversion() : ""));
      List<VolumeType> types = cinder.listVolumeTypes();
      System.out.println("Volume types (" + types.size() + "):");
      for (VolumeType t : types) {
        System.out.println("  " + t.name() + "  id=" + t.id() + (t.multiattach() ? "  multiattach" : ""));
      }
      List<AvailabilityZone> zones = cinder.listAvailabilityZones();
      System.out.println("Availability zones (" + zones.size() + "):");
      for (AvailabilityZone z : zones) {
        System.out.println("  " + z.name() + (z.available() ? "" : "  (unavailable)"));
      }
      Map<String, Integer> nodesPerZone = kubeconfigText == null ? null : nodesPerZone(kubeconfigText, zonesMap);
      TopologyReport.lines(zonesMap, zones.stream().map(AvailabilityZone::name).toList(), nodesPerZone)
          .forEach(System.out::println);
      System.out.println("OK");
    } catch (CinderException e) {
      throw new UserError("Cinder answered, but " + e.getMessage());
    }
  }

  /** One line per cloud: what it is and what its Cinder answered, or why it failed; fails if any failed. */
  private void checkEach(CloudSet clouds) {
    int failed = 0;
    for (CloudSet.Member m : clouds.members()) {
      String line;
      try {
        CloudConfig config = m.config().orElseThrow(() -> new UserError(m.problem()));
        CinderGateway cinder = CloudOptions.connect(config, cloud.options());
        ApiVersion v = cinder.apiVersion();
        int types = cinder.listVolumeTypes().size();
        int zones = cinder.listAvailabilityZones().size();
        line = "OK: " + config.describeAuth() + "; v" + v.major() + (v.usedMicroversion() == null ? ""
            : " microversion " + v.usedMicroversion()) + ", " + types + " volume type" + (types == 1 ? "" : "s")
            + ", " + zones + " availability zone" + (zones == 1 ? "" : "s");
      } catch (UserError | CinderException e) {
        failed++;
        line = "FAILED: " + e.getMessage();
      }
      System.out.println("cloud " + m.name() + ": " + line);
    }
    if (failed > 0) {
      throw new UserError(failed + " of " + clouds.members().size() + " clouds failed the check");
    }
    System.out.println("OK");
  }

  /** Node count per zone label value ("" for nodes without it), in zone order. */
  private Map<String, Integer> nodesPerZone(String kubeconfigText, Topology zonesMap) {
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(null,
        kubeconfigText, kubeconfig.toString())).build()) {
      Map<String, Integer> out = new TreeMap<>();
      for (Node n : kube.nodes().list().getItems()) {
        Map<String, String> labels = n.getMetadata().getLabels();
        String zone = labels == null ? "" : labels.getOrDefault(zonesMap.nodeLabel(), "");
        out.merge(zone, 1, Integer::sum);
      }
      return out;
    } catch (RuntimeException e) {
      throw new UserError("cannot list the nodes with --kubeconfig " + kubeconfig + ": " + e.getMessage());
    }
  }
}
