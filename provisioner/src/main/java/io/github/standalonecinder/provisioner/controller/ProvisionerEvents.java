package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.github.standalonecinder.provisioner.config.ConfigRefusal;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events about the provisioner itself rather than a claim or volume: a refused cloud configuration
 * ({@value #CONFIG_REFUSED}, Warning). They go on the provisioner's own Pod (the chart passes {@code POD_NAME},
 * {@code POD_NAMESPACE} and {@code POD_UID} from the downward API), else on its leader Lease, else nowhere (said
 * once in the log). Written through an {@link EventRecorder}, so repeats count in one Event's series.
 */
public final class ProvisionerEvents implements Consumer<ConfigRefusal> {
  private static final Logger log = LoggerFactory.getLogger(ProvisionerEvents.class);
  public static final String CONFIG_REFUSED = "CloudConfigRefused";

  private final EventRecorder recorder;
  private final Optional<HasMetadata> target;
  private final AtomicBoolean toldNoTarget = new AtomicBoolean();

  /** A Lease by place: the leader-election Lease, when election is on. */
  public record LeaseName(String namespace, String name) {}

  public ProvisionerEvents(EventRecorder recorder, Optional<HasMetadata> target) {
    this.recorder = recorder;
    this.target = target;
  }

  /**
   * Which object the provisioner's own Events are about: its Pod when {@code POD_NAME} names it (in
   * {@code POD_NAMESPACE}, else {@code namespace}; with {@code POD_UID} when set), else the leader Lease when there is
   * one, else none.
   */
  public static Optional<HasMetadata> target(Map<String, String> env, String namespace, Optional<LeaseName> lease) {
    String pod = blankToNull(env.get("POD_NAME"));
    if (pod != null) {
      String podNamespace = blankToNull(env.get("POD_NAMESPACE"));
      return Optional.of(new PodBuilder().withNewMetadata().withName(pod)
          .withNamespace(podNamespace != null ? podNamespace : namespace).withUid(blankToNull(env.get("POD_UID")))
          .endMetadata().build());
    }
    return lease.map(l -> new LeaseBuilder().withNewMetadata().withName(l.name()).withNamespace(l.namespace())
        .endMetadata().build());
  }

  @Override
  public void accept(ConfigRefusal refusal) {
    if (target.isEmpty()) {
      if (toldNoTarget.compareAndSet(false, true)) {
        log.warn("refused cloud configurations are not written as Events: no Pod is known (POD_NAME unset) and "
            + "leader election, whose Lease would carry them, is off");
      }
      return;
    }
    recorder.warning(target.get(), CONFIG_REFUSED, "ReloadCloudConfig", refusal.note());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
