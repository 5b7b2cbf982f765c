package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.mappers.Connector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several clouds in one cloud.conf: which are read, from where, and what a mistake in one of them costs. */
class CloudSetTest {
  @TempDir
  Path dir;

  private Optional<Path> file(String text) throws Exception {
    Path f = dir.resolve("cloud.conf");
    Files.writeString(f, text);
    return Optional.of(f);
  }

  private CloudSet load(String text, Map<String, String> env) throws Exception {
    return CloudSet.load(file(text), env, null, List.of(dir));
  }

  private static CloudConfig config(CloudSet set, String name) {
    return set.members().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow().config()
        .orElseThrow();
  }

  @Test
  void oneUnnamedSectionIsTheDefaultCloudAsBeforeAndItsProblemsAreErrors() throws Exception {
    CloudSet one = load("[Global]\ncinder-endpoint = http://a:8776/v3\n", Map.of());
    assertThat(one.named()).isFalse();
    assertThat(one.members()).extracting(CloudSet.Member::name).containsExactly("default");
    assertThatThrownBy(() -> load("[Global]\nusername = u\n", Map.of())).isInstanceOf(ConfigException.class)
        .hasMessageContaining("no Cinder to talk to");
  }

  @Test
  void namedSectionsAreCloudsEachWithItsOwnAuthAndNoneTakesTheEnvironment() throws Exception {
    CloudSet set = load("""
        [Global]
        cinder-endpoint = http://a:8776/v3
        [Global "fast"]
        auth-url = http://keystone-fast:5000/v3
        username = u
        password = p
        user-domain-name = Default
        tenant-id = t
        region = RegionFast
        [Global "cheap"]
        cinder-endpoint = http://cheap:8776/v3
        """, Map.of("OS_REGION_NAME", "FromEnv", "OS_USERNAME", "env-user"));
    assertThat(set.named()).isTrue();
    assertThat(set.members()).extracting(CloudSet.Member::name).containsExactly("default", "fast", "cheap");
    assertThat(config(set, "default").get("region")).isEqualTo("FromEnv");
    assertThat(config(set, "fast").mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(config(set, "fast").region()).isEqualTo("RegionFast");
    assertThat(config(set, "cheap").mode()).isEqualTo(AuthMode.NOAUTH);
    assertThat(config(set, "cheap").get("region")).as("the environment belongs to the default cloud").isNull();
    assertThat(config(set, "cheap").get("username")).isNull();
  }

  @Test
  void aMistakeInOneNamedCloudIsThatCloudsAlone() throws Exception {
    CloudSet set = load("""
        [Global]
        cinder-endpoint = http://a:8776/v3
        [Global "typo"]
        cinder_endpoint = http://b:8776/v3
        [Global "half"]
        username = u
        """, Map.of());
    assertThat(set.members()).extracting(CloudSet.Member::name).containsExactly("default", "typo", "half");
    assertThat(set.members().get(0).config()).isPresent();
    assertThat(set.members().get(1).config()).isEmpty();
    assertThat(set.members().get(1).problem()).contains("unknown key cinder_endpoint in [Global \"typo\"]")
        .contains("did you mean cinder-endpoint?");
    assertThat(set.members().get(2).problem()).isEqualTo("cloud config: no Cinder to talk to: set auth-url "
        + "(Keystone) or cinder-endpoint (noauth), in [Global \"half\"]");
    assertThatThrownBy(() -> load("[Global \"x\"]\nusername = u\n[Global \"y\"]\nregion = r\n", Map.of()))
        .as("no cloud usable at all").isInstanceOf(ConfigException.class)
        .hasMessageContaining("[Global \"x\"]").hasMessageContaining("[Global \"y\"]");
  }

  @Test
  void withoutAnUnnamedSectionThereIsNoDefaultCloud() throws Exception {
    CloudSet set = load("[Global \"only\"]\ncinder-endpoint = http://o:8776/v3\n",
        Map.of("OS_CINDER_ENDPOINT", "http://env:8776/v3"));
    assertThat(set.members()).extracting(CloudSet.Member::name).containsExactly("only");
  }

  @Test
  void defaultIsNotANameASectionMayTake() throws Exception {
    assertThatThrownBy(() -> load("[Global]\ncinder-endpoint = http://a/v3\n[Global \"default\"]\n"
        + "cinder-endpoint = http://b/v3\n", Map.of())).isInstanceOf(ConfigException.class)
        .hasMessageContaining("[Global \"default\"]: \"default\" is the unnamed [Global] section's cloud");
  }

  @Test
  void aSectionTakesItsCredentialsFromACloudsYamlEntryAsCinderCsiDoes() throws Exception {
    Path yaml = dir.resolve("other-clouds.yaml");
    Files.writeString(yaml, """
        clouds:
          region-two:
            auth:
              auth_url: http://keystone-two:5000/v3
              username: two
              password: secret-two
              project_name: p2
              user_domain_name: Default
              project_domain_name: Default
            region_name: RegionTwo
        """);
    CloudSet set = load("[Global]\ncinder-endpoint = http://a/v3\n[Global \"two\"]\nuse-clouds = true\n"
        + "clouds-file = " + yaml + "\ncloud = region-two\nregion = Overridden\n", Map.of());
    CloudConfig two = config(set, "two");
    assertThat(two.authUrl()).isEqualTo("http://keystone-two:5000/v3");
    assertThat(two.get("username")).isEqualTo("two");
    assertThat(two.region()).as("the section's keys win over the entry's").isEqualTo("Overridden");
    assertThat(two.sources()).contains(yaml);
    assertThat(two.toString()).doesNotContain("secret-two");

    CloudSet missing = load("[Global]\ncinder-endpoint = http://a/v3\n[Global \"two\"]\nuse-clouds = true\n",
        Map.of());
    assertThat(missing.members().get(1).problem()).contains("use-clouds = true needs cloud = ");
    CloudSet stray = load("[Global]\ncinder-endpoint = http://a/v3\n[Global \"two\"]\ncloud = region-two\n"
        + "cinder-endpoint = http://b/v3\n", Map.of());
    assertThat(stray.members().get(1).problem()).contains("cloud is set without use-clouds = true");
  }

  @Test
  void eachCloudMayNameItsOwnConnectorOverTheFlags() throws Exception {
    CloudSet set = load("""
        [Global]
        cinder-endpoint = http://a/v3
        [Global "b"]
        cinder-endpoint = http://b/v3
        connector-initiator = iqn.2004-10.com.example:net-b
        connector-wwpns = 10:00:00:90:fa:0d:67:54, 0x10000090FA0D6755
        connector-multipath = true
        """, Map.of());
    Connector flags = ConnectorConfig.of("k8s", "10.0.0.1", "iqn.2004-10.com.example:net-a", List.of(), false,
        "--connector-");
    assertThat(config(set, "default").connectorKeys()).isEmpty();
    assertThat(ConnectorConfig.override(flags, config(set, "default").connectorKeys(), "[Global]")).isSameAs(flags);
    Connector b = ConnectorConfig.override(flags, config(set, "b").connectorKeys(), "[Global \"b\"]");
    assertThat(b.initiator()).isEqualTo("iqn.2004-10.com.example:net-b");
    assertThat(b.wwpns()).containsExactly("10000090fa0d6754", "10000090fa0d6755");
    assertThat(b.multipath()).isTrue();
    assertThat(b.host()).as("keys not given come from the flags").isEqualTo("k8s");
    assertThat(config(set, "b").toString()).doesNotContain("connector");

    assertThatThrownBy(() -> ConnectorConfig.override(flags, Map.of("connector-initiator", "node-b"),
        "[Global \"b\"]")).hasMessage("cloud config: [Global \"b\"] connector-initiator: \"node-b\" is not an iSCSI "
        + "name (iqn.…, eui.… or naa.…)");
    assertThatThrownBy(() -> ConnectorConfig.override(flags, Map.of("connector-multipath", "sometimes"),
        "[Global \"b\"]")).hasMessageContaining("connector-multipath must be true or false");
  }
}
