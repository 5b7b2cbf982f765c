package io.github.standalonecinder.mappers;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The check the Kubernetes API server makes of an iSCSI volume's {@code iqn} and {@code initiatorName}
 * ({@code validateISCSIVolumeSource}), to the letter: a name starting with {@code iqn} must match its IQN pattern
 * (which wants the {@code :identifier} part), one starting with {@code eui} or {@code naa} must be 16 or 32
 * alphanumerics after the prefix; any other name passes. Anything stricter refuses PVs the API server takes,
 * anything looser saves PVs it refuses (422) after the volume was exported.
 */
public final class KubernetesIscsiNames {
  // Go RE2 as Kubernetes writes them; \z for Go's $ (no final-newline match), explicit classes for [[:alnum:]]
  // and Go's \s, [^\n] for Go's '.'. The IQN pattern is unanchored at the start, as Kubernetes uses it.
  private static final Pattern IQN = Pattern.compile(
      "iqn\\.[0-9]{4}-[0-9]{2}\\.([A-Za-z0-9.-]+)(:[^,;*&$|\\t\\n\\f\\r ]+)\\z");
  private static final Pattern EUI = Pattern.compile("\\Aeui[^\\n][A-Za-z0-9]{16}\\z");
  private static final Pattern NAA = Pattern.compile("\\Anaa[^\\n][A-Za-z0-9]{32}\\z");

  private KubernetesIscsiNames() {
  }

  /** What the API server would say of {@code name}, or empty when it accepts it. */
  public static Optional<String> problem(String name) {
    if (name == null || name.isEmpty()) {
      return Optional.of("must not be empty");
    }
    if (name.startsWith("iqn") && !IQN.matcher(name).find()) {
      return Optional.of("must be valid format starting with iqn");
    }
    if (name.startsWith("eui") && !EUI.matcher(name).find()) {
      return Optional.of("must be valid format starting with eui");
    }
    if (name.startsWith("naa") && !NAA.matcher(name).find()) {
      return Optional.of("must be valid format starting with naa");
    }
    return Optional.empty();
  }
}
