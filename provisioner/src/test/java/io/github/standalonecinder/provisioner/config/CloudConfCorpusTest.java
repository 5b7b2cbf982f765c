package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real-looking cloud.conf files, written as cloud-provider-openstack's docs show them, each with every parsed
 * value asserted; and the shipped examples with every optional line uncommented.
 */
class CloudConfCorpusTest {
  private static final Path CORPUS = Path.of("src/test/resources/cloud-conf-corpus");
  private static final Path EXAMPLES = Path.of("../examples");
  /** A commented-out optional line of the examples: "# key = value …". */
  private static final Pattern OPTIONAL_LINE = Pattern.compile("(?m)^#\\s*([a-z][a-z-]*\\s*=)");

  @TempDir
  Path dir;

  private Path copy(Path file) throws Exception {
    Path ca = dir.resolve("ca.pem");
    Files.writeString(ca, "not parsed here");
    String text = Files.readString(file).replace("CA_FILE", ca.toString())
        .replace("/etc/standalone-cinder/ca/ca.pem", ca.toString())
        .replace("/etc/standalone-cinder/ca.pem", ca.toString());
    Path out = dir.resolve(file.getFileName());
    Files.writeString(out, text);
    return out;
  }

  private CloudConfig load(String name) throws Exception {
    return CloudConfig.load(Optional.of(copy(CORPUS.resolve(name))), Map.of());
  }

  private static Map<String, String> values(CloudConfig c) {
    return CloudConfig.KEYS.stream().filter(c::has).collect(Collectors.toMap(k -> k, c::get));
  }

  @Test
  void cloudControllerManagerFileSharedWithOtherSections() throws Exception {
    CloudConfig c = load("occm-shared.conf");
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(values(c)).containsOnly(
        entry("auth-url", "https://keystone.example.net:5000/v3"),
        entry("username", "k8s-service"),
        entry("password", "Ex@mple#Pass;word"),
        entry("user-domain-name", "Default"),
        entry("project-name", "kubernetes"),
        entry("project-domain-name", "Default"),
        entry("region", "RegionOne"),
        entry("ca-file", dir.resolve("ca.pem").toString()));
    assertThat(c.blockStorage()).containsOnly(entry("node-volume-attach-limit", "128"),
        entry("rescan-on-resize", "true"), entry("ignore-volume-az", "false"));
    assertThat(c.metadata()).containsOnly(entry("search-order", "configDrive,metadataService"));
    assertThat(c.namedClouds()).isEmpty();
  }

  @Test
  void applicationCredentialWithoutBlanksAndEqualsInTheSecret() throws Exception {
    CloudConfig c = load("csi-application-credential.conf");
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL);
    assertThat(values(c)).containsOnly(
        entry("auth-url", "https://identity.example.org/v3"),
        entry("application-credential-id", "4fe2a8c9e51d4b4c9a0f1d2e3c4b5a69"),
        entry("application-credential-secret", "kX3p-aBc_9=Zz=="),
        entry("region", "RegionTwo"),
        entry("os-endpoint-type", "internal"));
    assertThat(c.endpointInterface()).isEqualTo("internal");
  }

  @Test
  void namedCloudsAreReadAndEachCanBeLoaded() throws Exception {
    Path f = copy(CORPUS.resolve("multi-region.conf"));
    CloudConfig c = CloudConfig.load(Optional.of(f), Map.of());
    assertThat(c.namedClouds()).containsExactly("region-one", "region-two");
    assertThat(c.get("application-credential-id")).isEqualTo("default-cred-id");
    assertThat(c.blockStorage()).containsOnly(entry("bs-version", "v3"), entry("ignore-volume-az", "yes"));
    CloudConfig two = CloudConfig.load(Optional.of(f), Map.of(), "region-two");
    assertThat(values(two)).containsOnly(
        entry("auth-url", "https://keystone.example.com/identity/v3"),
        entry("application-credential-id", "two-cred-id"),
        entry("application-credential-secret", "two-cred-secret"),
        entry("region", "region-two"));
  }

  @Test
  void gcfgSyntaxCaseQuotesEscapesCommentsRepeatsAndContinuations() throws Exception {
    CloudConfig c = load("gcfg-syntax.conf");
    assertThat(values(c)).containsOnly(
        entry("auth-url", "http://keystone.lab:5000/v3"),
        entry("username", "svc cinder"),
        entry("password", "tab\there, quote\" backslash\\ newline\n end"),
        entry("user-domain-id", "default"),
        entry("domain-name", "ignored-because-user-domain-id-is-set"),
        entry("project-id", "3f1e9c2a5b7d4e60a1b2c3d4e5f60718"),
        entry("region", "RegionTwo"),
        entry("os-endpoint-type", "internalURL"),
        entry("cinder-endpoint", "http://cinder.lab:8776/v3?x=1&y=2"));
    assertThat(c.mode()).as("trust-id = (empty) unsets it").isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(c.userDomainId()).isEqualTo("default");
    assertThat(c.userDomainName()).isNull();
    assertThat(c.endpointOverride()).isEqualTo("http://cinder.lab:8776/v3?x=1&y=2");
    assertThat(c.blockStorage()).containsOnly(entry("rescan-on-resize", "true"));
  }

  @Test
  void specificDomainKeysBeatTheSharedOnes() throws Exception {
    CloudConfig c = load("domains.conf");
    assertThat(values(c)).containsOnly(
        entry("auth-url", "https://keystone.example.com:5000/v3"),
        entry("username", "storage"),
        entry("password", "secret"),
        entry("domain-id", "0a1b2c3d"),
        entry("domain-name", "Generic"),
        entry("user-domain-name", "Users"),
        entry("project-name", "volumes"),
        entry("project-domain-name", "Projects"));
    assertThat(c.userDomainName()).isEqualTo("Users");
    assertThat(c.userDomainId()).isNull();
    assertThat(c.projectDomainName()).isEqualTo("Projects");
    assertThat(c.projectDomainId()).isNull();
  }

  @Test
  void keystoneWithCinderEndpointIsKeystoneWithAnOverride() throws Exception {
    CloudConfig c = load("keystone-with-cinder-endpoint.conf");
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(values(c)).containsOnly(
        entry("auth-url", "https://keystone.example.com:5000/v3"),
        entry("user-id", "9d8c7b6a"),
        entry("password", "pw"),
        entry("project-id", "11223344"),
        entry("cinder-endpoint", "https://cinder.internal.example.com:8776/v3"));
    assertThat(c.endpointOverride()).isEqualTo("https://cinder.internal.example.com:8776/v3");
    assertThat(c.describeAuth()).contains("Keystone at https://keystone.example.com:5000/v3")
        .contains("from cinder-endpoint (catalog not used)");
  }

  @Test
  void explicitNoauthWinsOverAnAuthUrl() throws Exception {
    CloudConfig c = load("noauth-explicit.conf");
    assertThat(c.mode()).isEqualTo(AuthMode.NOAUTH);
    assertThat(c.cinderEndpoint()).isEqualTo("http://cinder.example.com:8776/v3/admin");
    assertThat(c.endpointOverride()).isNull();
    assertThat(c.describeAuth()).startsWith("noauth");
  }

  @Test
  void keystoneV2() throws Exception {
    CloudConfig c = load("keystone-v2.conf");
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V2_PASSWORD);
    assertThat(values(c)).containsOnly(
        entry("auth-url", "http://keystone.old.example.com:5000/v2.0/"),
        entry("username", "admin"),
        entry("password", "pass word"),
        entry("project-name", "admin"),
        entry("region", "RegionOne"));
  }

  private Path uncommented(String example) throws Exception {
    Path copy = copy(EXAMPLES.resolve(example));
    Files.writeString(copy, OPTIONAL_LINE.matcher(Files.readString(copy)).replaceAll("$1"));
    return copy;
  }

  @Test
  void shippedKeystoneExampleWithEveryOptionalLineUncommented() throws Exception {
    Path f = uncommented("cloud.conf.keystone");
    assertThat(Files.readString(f)).contains("\ntls-insecure = false").contains("\ncinder-endpoint = ");
    CloudConfig c = CloudConfig.load(Optional.of(f), Map.of());
    assertThat(values(c)).containsOnly(
        entry("auth-url", "https://keystone.example.com:5000/v3"),
        entry("username", "k8s-storage"),
        entry("password", "change-me"),
        entry("user-domain-name", "Default"),
        entry("project-name", "kubernetes"),
        entry("project-domain-name", "Default"),
        entry("region", "RegionOne"),
        entry("ca-file", dir.resolve("ca.pem").toString()),
        entry("application-credential-id", "0123456789abcdef"),
        entry("application-credential-secret", "change-me"),
        entry("os-endpoint-type", "internal"),
        entry("tls-insecure", "false"),
        entry("cinder-endpoint", "https://cinder.example.com:8776/v3"));
    assertThat(c.mode()).isEqualTo(AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL);
    assertThat(c.endpointOverride()).isEqualTo("https://cinder.example.com:8776/v3");
    assertThat(c.tlsInsecure()).isFalse();
  }

  @Test
  void shippedExamplesAsShippedAreValid() throws Exception {
    assertThat(CloudConfig.load(Optional.of(copy(EXAMPLES.resolve("cloud.conf.keystone"))), Map.of()).mode())
        .isEqualTo(AuthMode.KEYSTONE_V3_PASSWORD);
    assertThat(CloudConfig.load(Optional.of(EXAMPLES.resolve("cloud.conf.noauth")), Map.of()).mode())
        .isEqualTo(AuthMode.NOAUTH);
  }

  @Test
  void shippedSeveralCloudsExampleHasTwoUsableClouds() throws Exception {
    CloudSet set = CloudSet.load(Optional.of(EXAMPLES.resolve("cloud.conf.several")), Map.of(), null, List.of(dir));
    assertThat(set.members()).extracting(CloudSet.Member::name).containsExactly("default", "region-two");
    assertThat(set.members().get(0).config().orElseThrow().mode()).isEqualTo(AuthMode.NOAUTH);
    CloudConfig two = set.members().get(1).config().orElseThrow();
    assertThat(two.mode()).isEqualTo(AuthMode.KEYSTONE_V3_APPLICATION_CREDENTIAL);
    assertThat(two.region()).isEqualTo("RegionTwo");
    assertThat(two.connectorKeys()).containsOnly(entry("connector-initiator",
        "iqn.2004-10.com.example:storage-network-two"));
  }

  @Test
  void shippedNoauthExampleWithEveryOptionalLineUncommented() throws Exception {
    CloudConfig c = CloudConfig.load(Optional.of(uncommented("cloud.conf.noauth")), Map.of());
    assertThat(c.mode()).isEqualTo(AuthMode.NOAUTH);
    assertThat(values(c)).containsOnly(
        entry("cinder-endpoint", "http://cinder-simulator.standalone-cinder-e2e.svc:8776/v3"),
        entry("username", "admin"),
        entry("project-name", "admin"));
  }
}
