package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Cinder scheduler hints a claim asks for with annotations: its volume on the same backend as some volumes
 * ({@code same_host}), or on another ({@code different_host}). Values are comma lists of volume ids or names, as
 * cinder-csi takes them (its annotation names are accepted too); a name must name exactly one volume.
 */
final class SchedulerHints {
  static final String AFFINITY = "standalone-cinder.openstack.org/affinity";
  static final String ANTI_AFFINITY = "standalone-cinder.openstack.org/anti-affinity";
  static final String CSI_AFFINITY = "cinder.csi.openstack.org/affinity";
  static final String CSI_ANTI_AFFINITY = "cinder.csi.openstack.org/anti-affinity";
  private static final Pattern UUID = Pattern.compile(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private SchedulerHints() {
  }

  /**
   * The hints for {@code POST /volumes}; empty when the claim asks for none.
   *
   * @param byName the volumes of a name (a Cinder look-up), for entries that are not ids
   */
  static Map<String, List<String>> of(Map<String, String> annotations, Function<String, List<CinderVolume>> byName)
      throws ProvisioningException {
    if (annotations == null) {
      return Map.of();
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    List<String> same = ids(entries(annotations, AFFINITY, CSI_AFFINITY), byName);
    List<String> different = ids(entries(annotations, ANTI_AFFINITY, CSI_ANTI_AFFINITY), byName);
    Set<String> both = new LinkedHashSet<>(same);
    both.retainAll(different);
    if (!both.isEmpty()) {
      throw ProvisioningException.invalid("the claim asks for its volume both beside and away from Cinder volume "
          + String.join(", ", both) + " (annotations " + AFFINITY + " and " + ANTI_AFFINITY + ")");
    }
    if (!same.isEmpty()) {
      out.put("same_host", same);
    }
    if (!different.isEmpty()) {
      out.put("different_host", different);
    }
    return out;
  }

  private static List<String> entries(Map<String, String> annotations, String... keys) {
    List<String> out = new ArrayList<>();
    for (String key : keys) {
      String value = annotations.get(key);
      if (value == null) {
        continue;
      }
      for (String e : value.split(",")) {
        if (!e.isBlank()) {
          out.add(e.trim());
        }
      }
    }
    return out;
  }

  private static List<String> ids(List<String> entries, Function<String, List<CinderVolume>> byName)
      throws ProvisioningException {
    Set<String> ids = new LinkedHashSet<>();
    for (String e : entries) {
      if (UUID.matcher(e).matches()) {
        ids.add(e.toLowerCase(java.util.Locale.ROOT));
        continue;
      }
      List<CinderVolume> named;
      try {
        named = byName.apply(e).stream().filter(v -> !v.hasStatus("deleting")).toList();
      } catch (CinderException ex) {
        throw CinderFailures.of("look up Cinder volume " + e + " (scheduler hint)", ex);
      }
      if (named.isEmpty()) {
        throw ProvisioningException.invalid("the claim's scheduler hint names Cinder volume \"" + e + "\", and "
            + "Cinder has no volume of that name");
      }
      if (named.size() > 1) {
        throw ProvisioningException.invalid("the claim's scheduler hint names Cinder volume \"" + e + "\", and "
            + named.size() + " volumes have that name: give its id instead");
      }
      ids.add(named.get(0).id());
    }
    return List.copyOf(ids);
  }
}
