package io.github.standalonecinder.cmd;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CinderGateways;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import io.github.standalonecinder.provisioner.config.CloudSet;
import io.github.standalonecinder.provisioner.config.ConfigException;
import io.github.standalonecinder.provisioner.config.GatewayOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the cloud configuration comes from, and how to turn it into a connected {@link CinderGateway}. */
final class CloudOptions {
  @Option(names = "--cloud-config", defaultValue = "${env:CLOUD_CONFIG}",
      description = "cloud.conf with a [Global] section (env CLOUD_CONFIG). Keys given there win over the OS_* "
          + "environment, key by key.")
  Path cloudConfig;

  @Option(names = "--os-cloud", description = "The cloud of a clouds.yaml to use (default: env OS_CLOUD, if set). "
      + "clouds.yaml is OS_CLIENT_CONFIG_FILE, else the first of ./clouds.yaml, ~/.config/openstack/clouds.yaml and "
      + "/etc/openstack/clouds.yaml; a secure.yaml from the same directories is merged over it. cloud.conf keys "
      + "win over it, and it wins over the OS_* environment.")
  String osCloud;

  @Option(names = "--cinder-connect-timeout", defaultValue = "10s", converter = DurationConverter.class,
      description = "Default: ${DEFAULT-VALUE}.")
  Duration connectTimeout;

  @Option(names = "--cinder-read-timeout", defaultValue = "60s", converter = DurationConverter.class,
      description = "Default: ${DEFAULT-VALUE}.")
  Duration readTimeout;

  /** Reads and checks the cloud configuration; no network. */
  CloudConfig load() {
    validateFlags();
    if (cloudConfig != null) {
      readable("--cloud-config", cloudConfig);
    }
    try {
      return CloudConfig.load(Optional.ofNullable(cloudConfig), System.getenv(), "", osCloud,
          CloudConfig.standardCloudsYamlDirs());
    } catch (ConfigException e) {
      throw UserError.input(e.getMessage());
    }
  }

  /** As {@link #load()}, for a reload while running: a problem is a ConfigException, not an exit. */
  CloudConfig reload() throws ConfigException {
    return reload(CloudSet.DEFAULT);
  }

  /** Every cloud of the configuration ({@link CloudSet}); the one-cloud configuration's problems are errors. */
  CloudSet loadAll() {
    validateFlags();
    if (cloudConfig != null) {
      readable("--cloud-config", cloudConfig);
    }
    try {
      return CloudSet.load(Optional.ofNullable(cloudConfig), System.getenv(), osCloud,
          CloudConfig.standardCloudsYamlDirs());
    } catch (ConfigException e) {
      throw UserError.input(e.getMessage());
    }
  }

  /** The cloud.conf file, when one is given: watched for a cloud that could not be read at start. */
  java.util.List<Path> files() {
    return cloudConfig == null ? java.util.List.of() : java.util.List.of(cloudConfig);
  }

  /** One cloud of {@link #loadAll()}, read afresh (credential rotation). */
  CloudConfig reload(String cloudName) throws ConfigException {
    return CloudSet.loadOne(Optional.ofNullable(cloudConfig), System.getenv(), osCloud,
        CloudConfig.standardCloudsYamlDirs(), cloudName);
  }

  void validateFlags() {
    RunCommand.positive("--cinder-connect-timeout", connectTimeout);
    RunCommand.positive("--cinder-read-timeout", readTimeout);
  }

  /** The text of a file the user named with {@code flag}, or one line saying why it cannot be read. */
  static String readable(String flag, Path file) {
    if (!Files.exists(file)) {
      throw UserError.input(flag + " " + file + ": no such file");
    }
    if (Files.isDirectory(file)) {
      throw UserError.input(flag + " " + file + " is a directory, not a file");
    }
    try {
      return Files.readString(file);
    } catch (IOException | RuntimeException e) {
      throw UserError.input(flag + " " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
    }
  }

  GatewayOptions options() {
    return GatewayOptions.defaults().withConnectTimeout(connectTimeout).withReadTimeout(readTimeout);
  }

  static CinderGateway connect(CloudConfig config, GatewayOptions options) {
    try {
      return CinderGateways.connect(config, options);
    } catch (ConfigException e) {
      throw UserError.input(e.getMessage());
    } catch (CinderException e) {
      // The message says who refused or could not be reached: Keystone or Cinder.
      throw new UserError(e.kind() == CinderException.Kind.UNREACHABLE || e.getMessage().startsWith("Keystone")
          ? e.getMessage() : "Cinder: " + e.getMessage());
    }
  }

  /** A noauth gateway to {@code endpoint}, as the demo needs. */
  static CinderGateway connectNoauth(String endpoint, String user, String project) {
    try {
      CloudConfig config = CloudConfig.load(Optional.empty(), Map.of("OS_CINDER_ENDPOINT", endpoint,
          "OS_USERNAME", user, "OS_PROJECT_NAME", project));
      return connect(config, GatewayOptions.defaults());
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }
}
