package io.github.standalonecinder.e2e;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import io.github.standalonecinder.simulator.emulation.PersistentVolumeBinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The real-Cinder lab's Cinder and an emulated cluster (the mock API server and its PV binder) with the provisioner
 * jar running against both, as the lab tests of one feature each use them. Closing stops all of it.
 */
final class LabCluster implements AutoCloseable {
  final Lab lab;
  final CinderGateway cinder;
  final MockApiServer api;
  final ProvisionerProcess provisioner;
  private final PersistentVolumeBinder binder;

  private LabCluster(Lab lab, CinderGateway cinder, MockApiServer api, PersistentVolumeBinder binder,
      ProvisionerProcess provisioner) {
    this.lab = lab;
    this.cinder = cinder;
    this.api = api;
    this.binder = binder;
    this.provisioner = provisioner;
  }

  /**
   * The lab, or the test skipped saying why (printed too, so a skip is seen in the build log).
   *
   * @param test       the test's name, for the skip line
   * @param noauthOnly the test sends raw noauth requests
   * @param keys       lab.env entries the test needs (a lab from before they were added lacks them)
   */
  static Lab require(String test, boolean noauthOnly, String... keys) {
    Optional<Lab> found = Lab.find();
    String why = found.isEmpty() ? Lab.whyMissing()
        : noauthOnly && found.get().keystone() ? "the lab runs behind Keystone; this test needs noauth" : null;
    for (int i = 0; why == null && i < keys.length; i++) {
      try {
        if (found.get().get(keys[i]).isBlank()) {
          why = "the lab has no " + keys[i] + " (rerun test-e2e/lab/up.sh)";
        }
      } catch (IllegalStateException e) {
        why = "the lab has no " + keys[i] + " (rerun test-e2e/lab/up.sh)";
      }
    }
    if (why != null) {
      System.out.println("SKIP " + test + ": " + why);
    }
    Assumptions.assumeTrue(why == null, why);
    return found.get();
  }

  /** A cloud.conf for the lab in {@code dir}, a Cinder client, the cluster, and `run` with {@code extraArgs}. */
  static LabCluster start(Lab lab, Path dir, String clusterIdPrefix, String... extraArgs) throws Exception {
    return startWith(lab, dir, lab.cloudConf(true), clusterIdPrefix, extraArgs);
  }

  /** As above with the given cloud.conf; {@link #cinder} talks to its default cloud. */
  static LabCluster startWith(Lab lab, Path dir, String cloudConf, String clusterIdPrefix, String... extraArgs)
      throws Exception {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, cloudConf);
    CinderGateway cinder = CinderGateways.connect(CloudConfig.load(Optional.of(conf), Map.of()),
        GatewayOptions.defaults());
    MockApiServer api = new MockApiServer(dir);
    PersistentVolumeBinder binder = new PersistentVolumeBinder(api.client).start();
    List<String> args = new ArrayList<>(List.of("run", "--kubeconfig", api.kubeconfig.toString(), "--cloud-config",
        conf.toString(), "--no-leader-elect", "--namespace", "kube-system", "--metrics-address", "",
        "--cluster-id", clusterIdPrefix + System.nanoTime(), "--connector-initiator",
        "iqn.2004-10.com.example:e2e-node", "--connector-host", "e2e-node"));
    args.addAll(List.of(extraArgs));
    ProvisionerProcess provisioner = ProvisionerProcess.start(dir, Map.of(), args.toArray(String[]::new));
    return new LabCluster(lab, cinder, api, binder, provisioner);
  }

  /** A claim of namespace "default", as the API server has it now. */
  PersistentVolumeClaim claim(String name) {
    return api.client.persistentVolumeClaims().inNamespace("default").withName(name).get();
  }

  /** The claim's PV (named after its UID), or null. */
  PersistentVolume pv(PersistentVolumeClaim c) {
    return api.client.persistentVolumes().withName("pvc-" + c.getMetadata().getUid()).get();
  }

  /** The libiscsi URL of an iSCSI PV's LUN, with the CHAP credentials of its own Secret: what kubelet would use. */
  String lun(PersistentVolume pv) {
    var iscsi = pv.getSpec().getIscsi();
    Secret chap = api.client.secrets().inNamespace(iscsi.getSecretRef().getNamespace())
        .withName(iscsi.getSecretRef().getName()).get();
    return "iscsi://" + decode(chap, "node.session.auth.username") + "%" + decode(chap, "node.session.auth.password")
        + "@" + iscsi.getTargetPortal().replaceFirst(":3260$", "") + "/" + iscsi.getIqn() + "/" + iscsi.getLun();
  }

  private static String decode(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    try (MockApiServer a = api; PersistentVolumeBinder b = binder; ProvisionerProcess p = provisioner) {
      // closed in reverse: the provisioner, the binder, the API server
    }
  }
}
