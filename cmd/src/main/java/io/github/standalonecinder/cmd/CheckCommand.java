package io.github.standalonecinder.cmd;

import io.github.standalonecinder.provisioner.cinder.ApiVersion;
import io.github.standalonecinder.provisioner.cinder.AvailabilityZone;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import io.github.standalonecinder.provisioner.config.CloudConfig;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Authenticate, reach Cinder, and print its API version, microversion range, volume types and "
        + "availability zones. Exits 0 only when all of that worked.")
final class CheckCommand implements Runnable {
  @Mixin
  CloudOptions cloud;

  @Override
  public void run() {
    CloudConfig config = cloud.load();
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
      System.out.println("OK");
    } catch (CinderException e) {
      throw new UserError("Cinder answered, but " + e.getMessage());
    }
  }
}
