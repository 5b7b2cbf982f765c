package io.github.standalonecinder.cmd;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.controller.EventRecorder;
import io.github.standalonecinder.provisioner.controller.FailoverRemapper;
import io.github.standalonecinder.provisioner.controller.ProvisionerSettings;
import io.github.standalonecinder.provisioner.controller.RemapPlan;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "remap", mixinStandardHelpOptions = true,
    description = "After a Cinder replication failover or failback: rebuild the PVs whose volume's connection moved "
        + "to the other site (same name, claim and reclaim policy, new source and Secrets; the volume is never "
        + "deleted). PVs whose claims pods use wait for them, unless --include-in-use or the claim is annotated "
        + RemapPlan.REMAP_NOW + "=" + RemapPlan.REMAP_NOW_VALUE + ". Exits 0 when every affected PV was handled.")
final class RemapCommand implements Callable<Integer> {
  @Option(names = "--dry-run", description = "Only list the affected PVs and what would be done; change nothing.")
  boolean dryRun;

  @Option(names = "--include-in-use", description = "Also rebuild PVs whose claims pods use (their pods must then "
      + "be restarted).")
  boolean includeInUse;

  @Option(names = "--provisioner-name", defaultValue = "${env:PROVISIONER_NAME:-openstack.org/standalone-cinder}",
      description = "The provisioner whose PVs are looked at (env PROVISIONER_NAME). Default: ${DEFAULT-VALUE}.")
  String provisionerName;

  @Option(names = "--identity", defaultValue = "${env:PROVISIONER_IDENTITY}",
      description = "Identity on the PVs (env PROVISIONER_IDENTITY). Default: the provisioner name.")
  String identity;

  @Option(names = "--namespace", defaultValue = "${env:POD_NAMESPACE:-kube-system}",
      description = "The provisioner's namespace, where its Secrets are (env POD_NAMESPACE). Default: "
          + "${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--kubeconfig", defaultValue = "${env:KUBECONFIG}",
      description = "kubeconfig file (env KUBECONFIG). Default: in-cluster configuration.")
  Path kubeconfig;

  @Option(names = "--attach-mode", defaultValue = "auto",
      description = "auto, attachments or legacy, as the provisioner's. Default: ${DEFAULT-VALUE}.")
  String attachMode;

  @Mixin
  CloudOptions cloud;

  @Mixin
  ConnectorOptions connector;

  @Override
  public Integer call() throws InterruptedException {
    ProvisionerSettings.AttachMode mode = RunCommand.attachMode(attachMode);
    if (namespace == null || namespace.isBlank()) {
      throw UserError.input("--namespace must not be empty");
    }
    ProvisionerSettings settings = ProvisionerSettings.defaults(namespace, connector.toConnector());
    settings = new ProvisionerSettings(provisionerName, identity, settings.namespace(), settings.clusterIds(),
        settings.volumeNamePrefix(), settings.workers(), settings.connector(), mode, settings.availableTimeout(),
        settings.resyncPeriod(), settings.baseBackoff(), settings.maxBackoff(), settings.maxSizeGiB());
    cloud.validateFlags();
    var kubeConfig = RunCommand.kubeConfig(kubeconfig);
    var cloudConfig = cloud.load();
    CinderGateway cinder = CloudOptions.connect(cloudConfig, cloud.options());
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(kubeConfig).build()) {
      FailoverRemapper remapper = new FailoverRemapper(kube, cinder, VolumeMapperRegistry.defaults(), settings,
          new EventRecorder(kube, settings.provisionerName(), "remap-command", Clock.systemUTC()));
      if (dryRun) {
        List<RemapPlan.Decision> plan = remapper.plan(includeInUse);
        plan.forEach(d -> System.out.println(line(d)));
        System.out.println(plan.size() + " affected PV" + (plan.size() == 1 ? "" : "s") + "; nothing changed "
            + "(dry run)");
        return 0;
      }
      FailoverRemapper.Result r = remapper.run(includeInUse);
      r.decisions().forEach(d -> System.out.println(line(d)));
      r.failures().forEach(f -> System.out.println("FAILED " + f));
      System.out.println(r.decisions().size() + " affected, " + r.remapped() + " re-mapped, " + r.unchanged()
          + " unchanged, " + r.waiting() + " waiting for their pods, " + r.failures().size() + " failed");
      return r.failures().isEmpty() ? 0 : 1;
    } catch (CinderException e) {
      throw new UserError("Cinder answered, but " + e.getMessage());
    } catch (KubernetesClientException e) {
      throw new UserError("the Kubernetes API answered, but " + e.getMessage());
    }
  }

  /** {@code <pv> <namespace>/<claim> volume <id> <from> -> <to> <ACTION>: <reason>}. */
  static String line(RemapPlan.Decision d) {
    return d.pvName() + " " + d.claimNamespace() + "/" + d.claimName() + " volume " + d.volumeId() + " "
        + d.from() + " -> " + d.to() + " " + d.action() + ": " + d.reason();
  }
}
