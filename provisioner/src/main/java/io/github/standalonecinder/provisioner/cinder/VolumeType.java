package io.github.standalonecinder.provisioner.cinder;

import java.util.Map;

/** A volume type; {@code multiattach} is read from the extra spec {@code multiattach="<is> True"}. */
public record VolumeType(String id, String name, Map<String, String> extraSpecs) {
  public VolumeType {
    extraSpecs = extraSpecs == null ? Map.of() : Map.copyOf(extraSpecs);
  }

  public boolean multiattach() {
    String v = extraSpecs.get("multiattach");
    return v != null && v.replace("<is>", "").trim().equalsIgnoreCase("true");
  }
}
