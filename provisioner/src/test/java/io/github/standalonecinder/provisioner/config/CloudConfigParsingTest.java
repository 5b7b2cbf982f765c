package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

class CloudConfigParsingTest {
  @TempDir
  Path dir;

  private Optional<Path> file(String text) throws Exception {
    Path p = dir.resolve("cloud.conf");
    Files.writeString(p, text);
    return Optional.of(p);
  }

  @Test
  void goOriginalNoauthFile() throws Exception {
    CloudConfig c = CloudConfig.load(file("[Global]\ncinder-endpoint = http://cinder:8776/v3\n"
        + "username = admin\ntenant-name = demo\n"), Map.of());
    assertThat(c.mode()).isEqualTo(AuthMode.NOAUTH);
    assertThat(c.cinderEndpoint()).isEqualTo("http://cinder:8776/v3");
    assertThat(c.get("project-name")).as("tenant-* and project-* are one key").isEqualTo("demo");
  }

  @Test
  void cloudProviderFileWithOtherSectionsAndQuotes() throws Exception {
    CloudConfig c = CloudConfig.load(file("""
        [Global]
        auth-url = "https://keystone:5000/v3"
        username = alice
        password = 's3cret'
        user-domain-name = Default
        tenant-id = 0123
        region = RegionTwo
        os-endpoint-type = internalURL
        ; a comment
        [LoadBalancer]
        use-octavia = true
        [BlockStorage]
        bs-version = v3
        """), Map.of());
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(c.authUrl()).isEqualTo("https://keystone:5000/v3");
    assertThat(c.get("password")).as("gcfg quotes are double quotes only").isEqualTo("'s3cret'");
    assertThat(c.region()).isEqualTo("RegionTwo");
    assertThat(c.endpointInterface()).isEqualTo("internal");
  }

  @Test
  void environmentAloneAndFileWinsKeyByKey() throws Exception {
    Map<String, String> env = Map.of("OS_AUTH_URL", "http://ks/v3", "OS_USERNAME", "env-user", "OS_PASSWORD",
        "env-pass", "OS_PROJECT_NAME", "p", "OS_USER_DOMAIN_NAME", "Default", "OS_PROJECT_DOMAIN_NAME", "Default",
        "OS_REGION_NAME", "env-region");
    CloudConfig fromEnv = CloudConfig.load(Optional.empty(), env);
    assertThat(fromEnv.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(fromEnv.get("username")).isEqualTo("env-user");

    CloudConfig merged = CloudConfig.load(file("[Global]\nusername = file-user\nregion = file-region\n"), env);
    assertThat(merged.get("username")).isEqualTo("file-user");
    assertThat(merged.region()).isEqualTo("file-region");
    assertThat(merged.get("password")).as("taken from the environment").isEqualTo("env-pass");
  }

  @Test
  void modesFollowTheCredentialsGiven() throws Exception {
    assertThat(CloudConfig.load(Optional.empty(), Map.of("OS_AUTH_URL", "http://ks/v3",
        "OS_APPLICATION_CREDENTIAL_ID", "id", "OS_APPLICATION_CREDENTIAL_SECRET", "s")).mode())
        .isEqualTo(AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL);
    assertThat(CloudConfig.load(file("[Global]\nauth-url = http://ks/v3\nuser-id = u\npassword = p\n"
        + "trust-id = t\n"), Map.of()).mode()).isEqualTo(AuthMode.KEYSTONE_V3_TRUST);
    assertThat(CloudConfig.load(file("[Global]\nauth-url = http://ks:5000/v2.0/\nusername = u\npassword = p\n"
        + "tenant-name = t\n"), Map.of()).mode()).isEqualTo(AuthMode.KEYSTONE_V2_PASSWORD);
  }

  @Test
  void unsupportedKeysAndForeignSectionsAreWarnedAndSecretsAreMasked() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(CloudConfig.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      CloudConfig c = CloudConfig.load(file("[Global]\nauth-url = http://ks/v3\nusername = u\npassword = hunter2\n"
          + "user-domain-name = D\ntenant-id = p\ntrustee-id = x\napplication-credential-secret = topsecret\n"
          + "application-credential-id = ac\n[LoadBalancer]\nuse-octavia = true\n[Globals]\nx = y\n"), Map.of());
      assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
          "cloud config " + dir.resolve("cloud.conf") + ": section [globals] is not read by standalone-cinder and is "
              + "ignored (did you mean [Global]?)",
          "cloud config: [Global] trustee-id is not supported by standalone-cinder and is ignored");
      assertThat(c.toString()).doesNotContain("hunter2").doesNotContain("topsecret").contains("******");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void windowsLineEndsAndByteOrderMark() throws Exception {
    CloudConfig c = CloudConfig.load(file("\uFEFF[Global]\r\ncinder-endpoint = http://c:8776/v3 \r\n"
        + "username = \"a b\"\r\n"), Map.of());
    assertThat(c.cinderEndpoint()).isEqualTo("http://c:8776/v3");
    assertThat(c.get("username")).isEqualTo("a b");
  }

  @Test
  void cinderEndpointWithAuthUrlIsKeystoneAndDomainsPreferTheSpecificKeys() throws Exception {
    CloudConfig c = CloudConfig.load(Optional.empty(), Map.of("OS_AUTH_URL", "http://ks/v3", "OS_USERNAME", "u",
        "OS_PASSWORD", "p", "OS_PROJECT_NAME", "pr", "OS_DOMAIN_ID", "generic-id", "OS_USER_DOMAIN_NAME", "Users",
        "OS_CINDER_ENDPOINT", "http://cinder:8776/v3"));
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(c.endpointOverride()).isEqualTo("http://cinder:8776/v3");
    assertThat(c.userDomainName()).isEqualTo("Users");
    assertThat(c.userDomainId()).isNull();
    assertThat(c.projectDomainId()).as("no project-domain-*: the shared key").isEqualTo("generic-id");
    assertThat(c.projectDomainName()).isNull();
  }

  static Stream<Arguments> badConfigs() {
    return Stream.of(
        Arguments.of("[Global]\nregion = x\n", "set auth-url (Keystone) or cinder-endpoint (noauth)"),
        Arguments.of("[Global]\ncinder-endpoint = cinder:8776\n", "cinder-endpoint must be an http(s) URL"),
        Arguments.of("[Global]\ncinder-endpoint = http://c/v3\ntls-insecure = maybe\n",
            "tls-insecure must be \"true\" or \"false\", got \"maybe\""),
        Arguments.of("[Global]\ncinder-endpoint = http://c/v3\nca-file = /nonexistent/ca.pem\n", "ca-file"),
        Arguments.of("[Global]\ncinder-endpoint = http://c/v3\nos-endpoint-type = sideways\n", "os-endpoint-type"),
        Arguments.of("[Global]\nauth-url = http://ks/v3\nusername = u\n", "password is missing"),
        Arguments.of("[Global]\nauth-url = http://ks/v3\nusername = u\npassword = p\ntenant-id = t\n",
            "user-domain-name is missing"),
        Arguments.of("[Global]\nauth-url = http://ks/v3\nuser-id = u\npassword = p\ntenant-name = t\n",
            "tenant-domain-name is missing"),
        Arguments.of("[Global]\nauth-url = http://ks/v3\napplication-credential-id = a\n",
            "application-credential-secret is missing"),
        Arguments.of("[Global]\nauth-url = http://ks/v2.0\nusername = u\npassword = p\n", "tenant-name is missing"),
        Arguments.of("[LoadBalancer]\nx = y\n", "no [Global] section"),
        Arguments.of("[Global \"a\"]\ncinder-endpoint = http://c/v3\n",
            "no [Global] section (it has [Global \"a\"])"),
        Arguments.of("[Global]\nnot a key value\n", "line 2: expected '=' after not"),
        Arguments.of("[Global]\nauth_url = http://ks/v3\n", "line 2: unknown key auth_url in [Global]; "
            + "did you mean auth-url?"),
        Arguments.of("[Global]\ncinder-endpoint = http://c/v3\nregoin = x\n", "did you mean region?"),
        Arguments.of("[BlockStorage]\nnode-volume-attach-limt = 3\n", "did you mean node-volume-attach-limit?"),
        Arguments.of("[Global]\ncolour = blue\n", "line 2: unknown key colour in [Global]"),
        Arguments.of("cinder-endpoint = http://c/v3\n", "line 1: key cinder-endpoint comes before any section"),
        Arguments.of("[Global\n", "line 1: unterminated section header"),
        Arguments.of("[Global]\npassword = \"abc\n", "line 2: unterminated quoted value"),
        Arguments.of("[Global]\npassword = \"a\\qb\"\n", "line 2: unknown escape sequence \\q"),
        Arguments.of("[Global]\npassword = a\\b\n", "line 2: a backslash outside quotes must end the line"),
        Arguments.of("[Global]\npassword\n", "line 2: password in [Global] has no value"),
        Arguments.of("[Global]\n= x\n", "line 2: unexpected character '='"),
        Arguments.of("[Global]\nauth-strategy = maybe\ncinder-endpoint = http://c/v3\n",
            "auth-strategy must be keystone or noauth"),
        Arguments.of("[Global]\nauth-strategy = noauth\nauth-url = http://ks/v3\n",
            "auth-strategy is noauth, which needs cinder-endpoint"),
        Arguments.of("[Global]\nauth-strategy = keystone\ncinder-endpoint = http://c/v3\n",
            "auth-url is missing: auth-strategy = keystone needs Keystone's URL"));
  }

  @ParameterizedTest
  @MethodSource("badConfigs")
  void badConfigIsOneLineNamingTheKey(String text, String expected) throws Exception {
    Optional<Path> f = file(text);
    assertThatThrownBy(() -> CloudConfig.load(f, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(expected)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void environmentErrorsNameTheVariable() {
    assertThatThrownBy(() -> CloudConfig.load(Optional.empty(), Map.of("OS_CINDER_ENDPOINT", "http://c/v3",
        "OS_INSECURE", "perhaps"))).hasMessageContaining("OS_INSECURE (tls-insecure)");
  }
}
