package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.SECRET_NAMESPACE;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.CSIPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.RBDPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretReference;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RbdMapperTest {
  static final String KEY = "AQBhJ5ZlAAAAABAAk7Xq3wPz9Q8yV2mN4tR6sA==";
  static final List<String> MONITORS = List.of("10.40.0.11:6789", "10.40.0.12:6789", "10.40.0.13:6789");
  static final Map<String, String> CSI = Map.of("rbd-mode", "csi", "csi-cluster-id", "b9127830-b0cc-4e34-aa47-9d1a2e9949a8");
  static final Map<String, String> ADMIN_SECRET = Map.of("cephx-secret-name", "ceph-client-cinder");

  private final RbdMapper mapper = new RbdMapper();

  @Test
  void inTreeWithKeyringCreatesCephxSecret() throws MappingException {
    MappedVolume mapped = mapper.map(fixture("rbd-keyring"), request(Map.of("fsType", "xfs")));

    RBDPersistentVolumeSource rbd = mapped.source().getRbd();
    assertThat(rbd.getMonitors()).isEqualTo(MONITORS);
    assertThat(rbd.getPool()).isEqualTo("volumes");
    assertThat(rbd.getImage()).isEqualTo("volume-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    assertThat(rbd.getUser()).isEqualTo("cinder");
    assertThat(rbd.getFsType()).isEqualTo("xfs");
    assertThat(rbd.getSecretRef()).isEqualTo(new SecretReference(PV + "-cephx", SECRET_NAMESPACE));
    Secret secret = mapped.secrets().get(0);
    assertThat(mapped.secrets()).hasSize(1);
    assertThat(secret.getType()).isEqualTo("kubernetes.io/rbd");
    assertThat(secret.getMetadata().getNamespace()).isEqualTo(SECRET_NAMESPACE);
    assertThat(secret.getMetadata().getLabels()).containsEntry("standalone-cinder.openstack.org/pv", PV)
        .containsEntry("app.kubernetes.io/managed-by", "standalone-cinder");
    assertThat(TestData.decoded(secret)).containsExactlyEntriesOf(Map.of("key", KEY));
    Golden.assertMatches("rbd-keyring", mapped.source());
  }

  @Test
  void inTreeWithoutKeyringReferencesTheStorageClassSecret() throws MappingException {
    MappedVolume mapped = mapper.map(fixture("rbd-no-keyring"), request(ADMIN_SECRET));

    assertThat(mapped.secrets()).isEmpty();
    assertThat(mapped.source().getRbd().getSecretRef())
        .isEqualTo(new SecretReference("ceph-client-cinder", SECRET_NAMESPACE));
    Golden.assertMatches("rbd-no-keyring", mapped.source());

    MappedVolume elsewhere = mapper.map(fixture("rbd-no-keyring"),
        request(Map.of("cephx-secret-name", "ceph-client-cinder", "cephx-secret-namespace", "ceph")));
    assertThat(elsewhere.source().getRbd().getSecretRef()).isEqualTo(new SecretReference("ceph-client-cinder", "ceph"));
  }

  @Test
  void keyringWinsOverTheStorageClassSecret() throws MappingException {
    MappedVolume mapped = mapper.map(fixture("rbd-keyring"), request(ADMIN_SECRET));
    assertThat(mapped.source().getRbd().getSecretRef().getName()).isEqualTo(PV + "-cephx");
  }

  @Test
  void ipv6HostsAreBracketedAndIntegerPortsAccepted() throws MappingException {
    MappedVolume mapped = mapper.map(fixture("rbd-ipv6-int-ports"), request(ADMIN_SECRET, null, true));
    assertThat(mapped.source().getRbd().getMonitors())
        .containsExactly("[fd00:40::11]:3300", "[fd00:40::12]:3300", "[fd00:40::13]:3300");
    assertThat(mapped.source().getRbd().getPool()).isEqualTo("cinder-ssd");
    Golden.assertMatches("rbd-ipv6-int-ports", mapped.source());
  }

  @Test
  void authDisabledNeedsNoSecret() throws MappingException {
    ConnectionInfo info = fixture("rbd-no-keyring", d -> {
      d.put("auth_enabled", false);
      d.put("auth_username", null);
    });
    RBDPersistentVolumeSource rbd = mapper.map(info, request(Map.of())).source().getRbd();
    assertThat(rbd.getSecretRef()).isNull();
    assertThat(rbd.getUser()).isNull();
  }

  @Test
  void csiWithKeyringCreatesUserIdAndKeySecret() throws MappingException {
    MappedVolume mapped = mapper.map(fixture("rbd-keyring"), request(CSI));

    assertThat(mapped.source().getRbd()).isNull();
    CSIPersistentVolumeSource csi = mapped.source().getCsi();
    assertThat(csi.getDriver()).isEqualTo("rbd.csi.ceph.com");
    assertThat(csi.getVolumeHandle()).isEqualTo("volume-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    assertThat(csi.getVolumeAttributes()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "clusterID", "b9127830-b0cc-4e34-aa47-9d1a2e9949a8", "pool", "volumes", "staticVolume", "true",
        "imageFeatures", "layering"));
    assertThat(csi.getNodeStageSecretRef()).isEqualTo(new SecretReference(PV + "-cephx", SECRET_NAMESPACE));
    Secret secret = mapped.secrets().get(0);
    assertThat(TestData.decoded(secret)).containsExactlyInAnyOrderEntriesOf(Map.of("userID", "cinder", "userKey", KEY));
    Golden.assertMatches("rbd-csi-keyring", mapped.source());
  }

  @Test
  void csiWithoutKeyringReferencesTheStorageClassSecret() throws MappingException {
    Map<String, String> params = Map.of("rbd-mode", "csi", "csi-cluster-id", "ceph-east",
        "csi-image-features", "layering,exclusive-lock", "cephx-secret-name", "csi-rbd-secret",
        "cephx-secret-namespace", "ceph-csi", "fsType", "ext4");
    MappedVolume mapped = mapper.map(fixture("rbd-no-keyring"), request(params));

    assertThat(mapped.secrets()).isEmpty();
    CSIPersistentVolumeSource csi = mapped.source().getCsi();
    assertThat(csi.getNodeStageSecretRef()).isEqualTo(new SecretReference("csi-rbd-secret", "ceph-csi"));
    assertThat(csi.getVolumeAttributes()).containsEntry("imageFeatures", "layering,exclusive-lock");
    Golden.assertMatches("rbd-csi-no-keyring", mapped.source());
  }

  @Test
  void keyringSectionOfTheAuthUserIsChosen() {
    String keyring = "[client.admin]\nkey = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
        + "[client.cinder]\n  key = \"" + KEY + "\"\n";
    assertThat(CephKeyring.key(keyring, "cinder")).isEqualTo(KEY);
    assertThat(CephKeyring.key(keyring, "glance")).isNull();
    assertThat(CephKeyring.key("[client.x]\nkey = " + KEY, null)).isEqualTo(KEY);
  }

  static Stream<Arguments> badInput() {
    return Stream.of(
        bad("name without slash", d -> d.put("name", "volume-1"),
            "rbd connection_info field \"name\" must be \"<pool>/<image>\", got \"volume-1\""),
        bad("name with empty image", d -> d.put("name", "volumes/"),
            "field \"name\" must be \"<pool>/<image>\", got \"volumes/\""),
        bad("name with two slashes", d -> d.put("name", "volumes/ns/volume-1"),
            "field \"name\" must be \"<pool>/<image>\", got \"volumes/ns/volume-1\""),
        bad("no name", d -> d.remove("name"), "rbd connection_info field \"name\" is missing"),
        bad("no hosts", d -> d.remove("hosts"), "field \"hosts\" is missing"),
        bad("empty hosts", d -> d.put("hosts", List.of()), "field \"hosts\" must be a non-empty list"),
        bad("hosts as string", d -> d.put("hosts", "10.40.0.11"),
            "field \"hosts\" must be a list of strings, got \"10.40.0.11\""),
        bad("no ports", d -> d.remove("ports"), "field \"ports\" is missing"),
        bad("fewer ports than hosts", d -> d.put("ports", List.of("6789", "6789")),
            "rbd connection_info fields \"hosts\" and \"ports\" must be lists of the same length, got 3 hosts "
                + "list [10.40.0.11, 10.40.0.12, 10.40.0.13] and 2 ports list [6789, 6789]"),
        bad("port word", d -> d.put("ports", List.of("6789", "mon", "6789")),
            "field \"ports[1]\" must be an integer from 1 to 65535, got \"mon\""),
        bad("port zero", d -> d.put("ports", List.of(6789, 0, 6789)),
            "field \"ports[1]\" must be an integer from 1 to 65535, got 0"),
        bad("user as list", d -> d.put("auth_username", List.of("cinder")),
            "field \"auth_username\" must be a string, got list [cinder]"),
        bad("auth_enabled as string", d -> d.put("auth_enabled", "yes"),
            "field \"auth_enabled\" must be a boolean, got \"yes\""));
  }

  private static Arguments bad(String name, Consumer<Map<String, Object>> edit, String message) {
    return Arguments.of(name, edit, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void rejectsBadInputNamingFieldAndValue(String name, Consumer<Map<String, Object>> edit, String message) {
    assertThatThrownBy(() -> mapper.map(fixture("rbd-no-keyring", edit), request(ADMIN_SECRET)))
        .isInstanceOf(MappingException.class)
        .hasMessageContaining(message);
  }

  @Test
  void withoutAnyKeySourceTheErrorSaysWhatToSet() {
    assertThatThrownBy(() -> mapper.map(fixture("rbd-no-keyring"), request(Map.of())))
        .isInstanceOf(MappingException.class)
        .hasMessage("rbd volume volumes/volume-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f needs a cephx key: Cinder "
            + "returned no \"keyring\" and StorageClass parameter \"cephx-secret-name\" is not set");
  }

  @Test
  void keyringWithoutKeyIsAnErrorThatHidesTheKeyring() {
    ConnectionInfo info = fixture("rbd-keyring", d -> d.put("keyring", "[client.cinder]\ncaps mon = \"profile rbd\""));
    assertThatThrownBy(() -> mapper.map(info, request(Map.of())))
        .isInstanceOf(MappingException.class)
        .hasMessage("rbd connection_info field \"keyring\" has no usable \"key\" entry for client.cinder "
            + "(value not shown)");
  }

  @Test
  void csiWithKeyringNeedsTheUser() {
    ConnectionInfo info = fixture("rbd-keyring", d -> d.remove("auth_username"));
    assertThatThrownBy(() -> mapper.map(info, request(CSI)))
        .isInstanceOf(MappingException.class)
        .hasMessageContaining("field \"auth_username\" is missing");
  }

  @Test
  void ownsOnlyTheCephxSecretItCreated() throws MappingException {
    PersistentVolume inTree = IscsiMapperTest.pv(PV, mapper.map(fixture("rbd-keyring"), request(Map.of())));
    PersistentVolume csi = IscsiMapperTest.pv(PV, mapper.map(fixture("rbd-keyring"), request(CSI)));
    PersistentVolume adminSecret = IscsiMapperTest.pv(PV, mapper.map(fixture("rbd-no-keyring"), request(ADMIN_SECRET)));
    PersistentVolume adminCsi = IscsiMapperTest.pv(PV, mapper.map(fixture("rbd-no-keyring"),
        request(Map.of("rbd-mode", "csi", "csi-cluster-id", "c", "cephx-secret-name", "csi-rbd-secret"))));

    assertThat(List.of(inTree, csi, adminSecret, adminCsi)).allMatch(mapper::handles);
    assertThat(mapper.ownedSecrets(inTree)).containsExactly(new SecretRef(SECRET_NAMESPACE, PV + "-cephx"));
    assertThat(mapper.ownedSecrets(csi)).containsExactly(new SecretRef(SECRET_NAMESPACE, PV + "-cephx"));
    assertThat(mapper.ownedSecrets(adminSecret)).isEmpty();
    assertThat(mapper.ownedSecrets(adminCsi)).isEmpty();
  }
}
