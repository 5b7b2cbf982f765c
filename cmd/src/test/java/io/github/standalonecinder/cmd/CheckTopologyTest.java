package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check --topology=zones}: the AZ <- zone map it would use and the zones it sees on the nodes. */
@EnableKubernetesMockClient(crud = true, https = false)
class CheckTopologyTest {
  static KubernetesClient client;

  @TempDir
  Path dir;

  private void node(String name, String zone) {
    var b = new NodeBuilder().withNewMetadata().withName(name).endMetadata();
    if (zone != null) {
      b.editMetadata().addToLabels("topology.kubernetes.io/zone", zone).endMetadata();
    }
    client.nodes().resource(b.build()).create();
  }

  @Test
  void checkPrintsTheZoneMapAndTheNodesZones() throws Exception {
    node("n1", "rack-1");
    node("n2", "rack-1");
    node("n3", "nova");
    node("n4", "rack-9");
    node("n5", null);
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "%s"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.formatted(client.getMasterUrl()));
    PrintStream oldOut = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (CinderSimulator sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI)
        .availabilityZones("az-a", "nova").start()) {
      Path conf = dir.resolve("cloud.conf");
      Files.writeString(conf, "[Global]\ncinder-endpoint = " + sim.endpoint() + "\n");
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      int exit = Main.execute("check", "--cloud-config", conf.toString(), "--topology", "zones",
          "--topology-zone", "az-a=rack-1,rack-2", "--topology-zone", "az-x=rack-7", "--kubeconfig",
          kubeconfig.toString());
      String text = out.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(text).isZero();
      assertThat(text).contains("""
          Topology: zones, node label topology.kubernetes.io/zone
            Cinder AZ az-a <- node zones rack-1,rack-2
            Cinder AZ nova <- node zones nova (same name)
            Cinder AZ az-x is mapped (--topology-zone) but Cinder does not have it
          Node zones (5 nodes):
            (none): 1 node(s), no topology.kubernetes.io/zone label: WaitForFirstConsumer claims on them fail
            nova: 1 node(s), reach Cinder AZ nova
            rack-1: 2 node(s), reach Cinder AZ az-a
            rack-9: 1 node(s), map to AZ rack-9, which Cinder does not have
          OK
          """);
    } finally {
      System.setOut(oldOut);
    }
  }
}
