package io.github.standalonecinder.cmd;

import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.CloudSet;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.ConfigRefusal;
import io.github.standalonecinder.provisioner.config.ConnectorConfig;
import io.github.standalonecinder.provisioner.config.ReloadingCinderGateway;
import io.github.standalonecinder.provisioner.controller.Clouds;
import io.github.standalonecinder.provisioner.leader.Fence;
import io.github.standalonecinder.provisioner.leader.FencedCinderGateway;
import io.github.standalonecinder.provisioner.metrics.CloudStates;
import io.github.standalonecinder.provisioner.metrics.MeteredCinderGateway;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects every cloud of the configuration and wraps each gateway as the controller needs it: reloaded (credential
 * rotation), metered with its {@code cloud} tag, its state tracked ({@link CloudStates}), fenced.
 *
 * <p>One cloud (no {@code [Global "name"]} section) fails fast, as it always did: a problem is one line and exit 2.
 * With several, a cloud that is invalid or cannot connect is logged and started disconnected: its calls fail as
 * unreachable (its claims get Events saying why) and it is tried again every reload interval, while the other
 * clouds work.
 */
final class CloudConnections {
  private static final Logger log = LoggerFactory.getLogger(CloudConnections.class);

  private CloudConnections() {}

  static Clouds connect(CloudSet set, CloudOptions options, Connector flags, MeterRegistry registry,
      Duration reloadInterval, Consumer<ConfigRefusal> onRefusal, Fence fence, CloudStates states) {
    List<Clouds.Cloud> out = new ArrayList<>();
    for (CloudSet.Member m : set.members()) {
      String name = m.name();
      String problem = m.problem();
      Connector connector = flags;
      CinderGateway connected = null;
      if (m.config().isPresent()) {
        CloudConfig config = m.config().get();
        try {
          connector = ConnectorConfig.override(flags, config.connectorKeys(), section(name));
        } catch (ConfigException e) {
          if (!set.named()) {
            throw UserError.input(e.getMessage());
          }
          problem = e.getMessage();
        }
        if (problem == null) {
          if (!set.named()) {
            connected = CloudOptions.connect(config, options.options());
          } else {
            try {
              connected = CinderGateways.connect(config, options.options());
            } catch (ConfigException | CinderException e) {
              problem = e.getMessage();
            }
          }
        }
      }
      ReloadingCinderGateway.Loader loader = () -> options.reload(name);
      List<Path> files = m.config().map(CloudConfig::sources).orElse(options.files());
      ReloadingCinderGateway reloading;
      if (problem == null) {
        reloading = ReloadingCinderGateway.start(name, connected, loader, options.options(), files, registry,
            reloadInterval, onRefusal);
      } else {
        log.error("cloud {} is not usable: {}; its claims wait (with Events saying so) while the other clouds work, "
            + "and it is tried again every {} s", name, problem, Math.max(1, reloadInterval.toSeconds()));
        reloading = ReloadingCinderGateway.startDisconnected(name, problem, loader, options.options(), files,
            registry, reloadInterval, onRefusal);
      }
      CinderGateway metered = MeteredCinderGateway.wrap(reloading.gateway(), registry, name);
      out.add(new Clouds.Cloud(name, FencedCinderGateway.wrap(states.track(name, metered, problem), fence),
          connector));
    }
    return Clouds.of(out);
  }

  private static String section(String cloud) {
    return CloudSet.DEFAULT.equals(cloud) ? "[Global]" : "[Global \"" + cloud + "\"]";
  }
}
