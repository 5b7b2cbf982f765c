package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** clouds.yaml found on the search path, secure.yaml merged in, and its place between cloud.conf and OS_*. */
class CloudsYamlTest {
  @TempDir
  Path dir;

  private List<Path> dirs() throws Exception {
    Path first = Files.createDirectories(dir.resolve("cwd"));
    Path second = Files.createDirectories(dir.resolve("home/.config/openstack"));
    Path third = Files.createDirectories(dir.resolve("etc/openstack"));
    return List.of(first, second, third);
  }

  @Test
  void theFirstCloudsYamlOnThePathWithSecureYamlMergedIn() throws Exception {
    List<Path> dirs = dirs();
    Files.writeString(dirs.get(1).resolve("clouds.yaml"), """
        clouds:
          prod:
            auth:
              auth_url: https://keystone.example.com:5000/v3
              username: k8s-storage
              project_name: kubernetes
              user_domain_name: Default
              project_domain_name: Default
            region_name: RegionOne
            interface: internal
            identity_api_version: 3
            verify: false
            profile: vexxhost
          other:
            auth:
              auth_url: https://elsewhere/v3
        """);
    Files.writeString(dirs.get(2).resolve("clouds.yaml"), "clouds:\n  prod:\n    region_name: ignored\n");
    Files.writeString(dirs.get(2).resolve("secure.yaml"), "clouds:\n  prod:\n    auth:\n      password: s3cret\n");
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        CloudsYaml.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    CloudConfig c;
    try {
      c = CloudConfig.load(Optional.empty(), Map.of(), "", "prod", dirs);
    } finally {
      logger.detachAppender(logs);
    }
    assertThat(logs.list).extracting(e -> e.getFormattedMessage()).containsExactly("clouds.yaml "
        + dirs.get(1).resolve("clouds.yaml") + " cloud prod: not used by standalone-cinder: profile");
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(c.authUrl()).isEqualTo("https://keystone.example.com:5000/v3");
    assertThat(c.get("username")).isEqualTo("k8s-storage");
    assertThat(c.get("password")).as("from secure.yaml").isEqualTo("s3cret");
    assertThat(c.get("project-name")).isEqualTo("kubernetes");
    assertThat(c.region()).as("the first clouds.yaml found is the one read").isEqualTo("RegionOne");
    assertThat(c.endpointInterface()).isEqualTo("internal");
    assertThat(c.tlsInsecure()).as("verify: false").isTrue();
    assertThat(c.toString()).doesNotContain("s3cret");
  }

  @Test
  void osCloudFromTheEnvironmentAndPrecedenceFileThenYamlThenEnvironment() throws Exception {
    List<Path> dirs = dirs();
    Files.writeString(dirs.get(0).resolve("clouds.yaml"), """
        clouds:
          lab:
            auth_type: v3applicationcredential
            auth:
              auth_url: http://keystone.lab/v3
              application_credential_id: from-yaml
              application_credential_secret: yaml-secret
            region_name: yaml-region
        """);
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, "[Global]\nregion = conf-region\n");
    CloudConfig c = CloudConfig.load(Optional.of(conf), Map.of("OS_CLOUD", "lab", "OS_REGION_NAME", "env-region",
        "OS_INTERFACE", "admin", "OS_APPLICATION_CREDENTIAL_ID", "from-env"), "", null, dirs);
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL);
    assertThat(c.region()).as("cloud.conf wins").isEqualTo("conf-region");
    assertThat(c.get("application-credential-id")).as("clouds.yaml wins over OS_*").isEqualTo("from-yaml");
    assertThat(c.endpointInterface()).as("OS_* fills what the files leave out").isEqualTo("admin");
  }

  @Test
  void noauthTokenAndEndpointOverride() throws Exception {
    List<Path> dirs = dirs();
    Files.writeString(dirs.get(0).resolve("clouds.yaml"), """
        clouds:
          standalone:
            auth_type: none
            auth:
              endpoint: http://cinder:8776/v3
          scoped:
            auth_type: token
            auth:
              auth_url: http://keystone/v3
              token: gAAAAAB-token
              project_id: p-id
            block_storage_endpoint_override: http://cinder.internal:8776/v3
        """);
    CloudConfig noauth = CloudConfig.load(Optional.empty(), Map.of(), "", "standalone", dirs);
    assertThat(noauth.mode()).isEqualTo(AuthMode.NOAUTH);
    assertThat(noauth.cinderEndpoint()).isEqualTo("http://cinder:8776/v3");
    CloudConfig token = CloudConfig.load(Optional.empty(), Map.of(), "", "scoped", dirs);
    assertThat(token.mode()).isEqualTo(AuthMode.KEYSTONE_V3_TOKEN);
    assertThat(token.endpointOverride()).isEqualTo("http://cinder.internal:8776/v3");
    assertThat(token.toString()).doesNotContain("gAAAAAB-token");
  }

  @Test
  void aMissingFileOrCloudIsOneLine() throws Exception {
    List<Path> dirs = dirs();
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), Map.of("OS_CLOUD", "prod"), "", null, dirs))
        .isInstanceOf(ConfigException.class).hasMessageContaining("no clouds.yaml in");
    Files.writeString(dirs.get(0).resolve("clouds.yaml"), "clouds:\n  a: {}\n  b: {}\n");
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), Map.of(), "", "c", dirs))
        .isInstanceOf(ConfigException.class).hasMessageContaining("no cloud named c (it has [a, b])");
    Files.writeString(dirs.get(0).resolve("clouds.yaml"), "clouds:\n  a:\n    auth_type: v3oidcauthcode\n");
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), Map.of(), "", "a", dirs))
        .isInstanceOf(ConfigException.class).hasMessageContaining("auth_type v3oidcauthcode is not supported");
  }
}
