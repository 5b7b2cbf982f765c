package io.github.standalonecinder.provisioner.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every cloud of one configuration: the default cloud (the unnamed {@code [Global]} section with the {@code OS_*}
 * environment and {@code --os-cloud}), and one per {@code [Global "name"]} section, each with its own auth, region,
 * TLS and connector keys. A StorageClass picks one by its parameter {@code cloud} ({@code default} when absent).
 *
 * <p>With one cloud a problem is an error, as it always was. With several, a cloud whose section is invalid is
 * kept with its problem (its claims get Events saying it; the other clouds work), and only a configuration where
 * no cloud is usable is an error. A file with named clouds and no unnamed {@code [Global]} has no default cloud.
 */
public final class CloudSet {
  /** The name of the unnamed {@code [Global]} cloud, in StorageClasses, PV annotations and metrics. */
  public static final String DEFAULT = "default";

  /** One cloud: its configuration, or why it has none. */
  public record Member(String name, Optional<CloudConfig> config, String problem) {
    static Member ok(String name, CloudConfig config) {
      return new Member(name, Optional.of(config), null);
    }
  }

  private final List<Member> members;
  private final boolean named;

  private CloudSet(List<Member> members, boolean named) {
    this.members = List.copyOf(members);
    this.named = named;
  }

  /** Reads {@code file} once and every cloud in it; see the class comment for what is an error. */
  public static CloudSet load(Optional<Path> file, Map<String, String> env, String osCloud, List<Path> dirs)
      throws ConfigException {
    Optional<CloudConfFile> parsed = file.isPresent() ? Optional.of(CloudConfFile.read(file.get()))
        : Optional.empty();
    List<String> names = parsed.map(p -> p.subsections("global")).orElse(List.of());
    if (names.isEmpty()) {
      return new CloudSet(List.of(Member.ok(DEFAULT, CloudConfig.load(file, parsed, env, "", osCloud, dirs))),
          false);
    }
    List<Member> members = new ArrayList<>();
    for (String name : names) {
      if (name.equals(DEFAULT)) {
        throw new ConfigException("cloud config " + file.get() + ": [Global \"" + DEFAULT + "\"]: \"" + DEFAULT
            + "\" is the unnamed [Global] section's cloud; give this section another name");
      }
    }
    if (parsed.get().sections().contains(new CloudConfFile.Section("global", ""))) {
      members.add(member(file, parsed, env, "", osCloud, dirs));
    }
    for (String name : names) {
      members.add(member(file, parsed, env, name, null, dirs));
    }
    if (members.stream().allMatch(m -> m.config().isEmpty())) {
      throw new ConfigException(String.join("; ", members.stream().map(Member::problem).toList()));
    }
    return new CloudSet(members, true);
  }

  private static Member member(Optional<Path> file, Optional<CloudConfFile> parsed, Map<String, String> env,
      String section, String osCloud, List<Path> dirs) {
    String name = section.isEmpty() ? DEFAULT : section;
    try {
      return Member.ok(name, CloudConfig.load(file, parsed, env, section, osCloud, dirs));
    } catch (ConfigException e) {
      return new Member(name, Optional.empty(), e.getMessage());
    }
  }

  /** The configuration of one cloud, read afresh (a reload): {@code name} is {@link #DEFAULT} or a section's. */
  public static CloudConfig loadOne(Optional<Path> file, Map<String, String> env, String osCloud, List<Path> dirs,
      String name) throws ConfigException {
    boolean isDefault = name.equals(DEFAULT);
    return CloudConfig.load(file, env, isDefault ? "" : name, isDefault ? osCloud : null, dirs);
  }

  public List<Member> members() {
    return members;
  }

  /** True when the file names clouds ({@code [Global "name"]}); false for the one-cloud configuration. */
  public boolean named() {
    return named;
  }
}
