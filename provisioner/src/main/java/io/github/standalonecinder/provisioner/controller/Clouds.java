package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.config.CloudSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The clouds one provisioner serves, by name, and which of them an object belongs to: a StorageClass by its
 * parameter {@code cloud}, a PV by its annotation {@link Annotations#CLOUD}, both "default" when absent (every PV
 * made before there were several clouds belongs to the default one).
 */
public final class Clouds {
  /** One cloud: its gateway (already metered and fenced) and the connector its exports name. */
  public record Cloud(String name, CinderGateway gateway, Connector connector) {}

  private final Map<String, Cloud> byName;

  private Clouds(Map<String, Cloud> byName) {
    this.byName = byName;
  }

  /** One unnamed cloud: the provisioner as it was before there were several. */
  public static Clouds single(CinderGateway gateway, Connector connector) {
    return of(List.of(new Cloud(CloudSet.DEFAULT, gateway, connector)));
  }

  public static Clouds of(List<Cloud> clouds) {
    Map<String, Cloud> m = new LinkedHashMap<>();
    for (Cloud c : clouds) {
      if (m.put(c.name(), c) != null) {
        throw new IllegalArgumentException("cloud " + c.name() + " given twice");
      }
    }
    if (m.isEmpty()) {
      throw new IllegalArgumentException("no cloud");
    }
    return new Clouds(Map.copyOf(m));
  }

  public Optional<Cloud> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  public List<Cloud> all() {
    return new ArrayList<>(byName.values());
  }

  /** The cloud a class provisions in: its parameter {@code cloud}, or "default". */
  static String ofClass(StorageClass sc) {
    Map<String, String> p = sc.getParameters();
    String v = p == null ? null : p.entrySet().stream()
        .filter(e -> e.getKey().equalsIgnoreCase(ClaimPlanner.PARAM_CLOUD)).map(Map.Entry::getValue)
        .findFirst().orElse(null);
    return v == null || v.isBlank() ? CloudSet.DEFAULT : v.trim();
  }

  /** The cloud a PV's volume lives in. */
  static String ofPv(PersistentVolume pv) {
    return Annotations.cloudOf(pv, Annotations.CLOUD);
  }

  /** Why a cloud cannot be used: it is not in the configuration. */
  static String notConfigured(String cloud) {
    return "cloud \"" + cloud + "\" is not configured: the cloud config has no "
        + (CloudSet.DEFAULT.equals(cloud) ? "[Global] section" : "[Global \"" + cloud + "\"] section")
        + " (after adding it, restart the provisioner)";
  }
}
