package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.CONNECTOR;
import static io.github.standalonecinder.mappers.TestData.NODE_IQN;
import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.SECRET_NAMESPACE;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ISCSIPersistentVolumeSource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
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

class IscsiMapperTest {
  private final IscsiMapper mapper = new IscsiMapper();

  record Case(String fixture, Map<String, String> params, Connector connector, boolean readOnly,
      String portal, String iqn, int lun, List<String> portals, Map<String, String> secretData) {
    @Override
    public String toString() {
      return fixture;
    }
  }

  static Stream<Case> cases() {
    String lio = "iqn.2010-10.org.openstack:volume-7d3e5f0a-2c41-4b8e-a6d9-1f0e2b3c4d5e";
    String netapp = "iqn.1992-08.com.netapp:sn.4f3b2a10c9d811eaa4b1005056a7c1d2:vs.5";
    return Stream.of(
        // LVM + tgtadm: session CHAP, LUN 1 (tgt keeps LUN 0 for the controller).
        new Case("iscsi-lvm-tgt-chap", Map.of(), CONNECTOR, false, "192.168.122.10:3260",
            "iqn.2010-10.org.openstack:volume-4b1c4bbc-d6a4-4e1b-9f0a-8a2b6fd1a5e3", 1, List.of(),
            Map.of(IscsiMapper.SESSION_USERNAME, "Xc8Qe4iGZ7bKjN2mTpLw",
                IscsiMapper.SESSION_PASSWORD, "p9VmK3sRt6YqWz1Lh8Db")),
        // LVM + lioadm with a secondary IP: two portals, one IQN, LUN 0.
        new Case("iscsi-lio-multipath", Map.of("fsType", "xfs", "iscsiInterface", "iface-10g"), CONNECTOR, false,
            "10.20.0.11:3260", lio, 0, List.of("10.20.1.11:3260"),
            Map.of(IscsiMapper.SESSION_USERNAME, "hT4kW9pZq2RmV7xYc3Nb",
                IscsiMapper.SESSION_PASSWORD, "Lq7Wd2Fs9Kp4Xz6Rm1Vt")),
        // NetApp single LIF without CHAP; no connector configured, read-only claim.
        new Case("iscsi-netapp-no-chap", Map.of("fsType", "ext4"), null, true, "172.16.30.21:3260", netapp, 3,
            List.of(), null),
        // NetApp with use_chap_auth: session and discovery CHAP, IPv6 LIF kept verbatim.
        new Case("iscsi-netapp-multipath-discovery-chap", Map.of(), CONNECTOR, false, "172.16.30.21:3260", netapp,
            4, List.of("172.16.31.21:3260", "[fd00:30::21]:3260"),
            Map.of(IscsiMapper.SESSION_USERNAME, "NetApp_iSCSI_CHAP_Username",
                IscsiMapper.SESSION_PASSWORD, "v8Kd3Rq0Zt5Wm2Ly",
                IscsiMapper.DISCOVERY_USERNAME, "NetApp_iSCSI_CHAP_Username",
                IscsiMapper.DISCOVERY_PASSWORD, "v8Kd3Rq0Zt5Wm2Ly")),
        // Storwize: one IQN per node; node2's portal cannot share node1's IQN and is dropped.
        new Case("iscsi-storwize-multipath-per-node-iqns", Map.of(), CONNECTOR, false, "192.168.50.11:3260",
            "iqn.1986-03.com.ibm:2145.v7k-cluster1.node1", 0, List.of("192.168.51.11:3260"), null));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void mapsCinderConnectionInfo(Case c) throws MappingException {
    MappedVolume mapped = mapper.map(fixture(c.fixture()), request(c.params(), c.connector(), c.readOnly()));

    ISCSIPersistentVolumeSource iscsi = mapped.source().getIscsi();
    assertThat(iscsi.getTargetPortal()).isEqualTo(c.portal());
    assertThat(iscsi.getIqn()).isEqualTo(c.iqn());
    assertThat(iscsi.getLun()).isEqualTo(c.lun());
    assertThat(iscsi.getPortals()).isEqualTo(c.portals());
    assertThat(iscsi.getReadOnly()).isEqualTo(c.readOnly());
    assertThat(iscsi.getFsType()).isEqualTo(c.params().get("fsType"));
    assertThat(iscsi.getIscsiInterface()).isEqualTo(c.params().get("iscsiInterface"));
    assertThat(iscsi.getInitiatorName()).isEqualTo(c.connector() == null ? null : NODE_IQN);
    if (c.secretData() == null) {
      assertThat(mapped.secrets()).isEmpty();
      assertThat(iscsi.getSecretRef()).isNull();
      assertThat(iscsi.getChapAuthSession()).isNull();
    } else {
      Secret secret = mapped.secrets().get(0);
      assertThat(mapped.secrets()).hasSize(1);
      assertThat(secret.getMetadata().getName()).isEqualTo(PV + "-chap");
      assertThat(secret.getMetadata().getNamespace()).isEqualTo(SECRET_NAMESPACE);
      assertThat(secret.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "app.kubernetes.io/managed-by", "standalone-cinder", "standalone-cinder.openstack.org/pv", PV));
      assertThat(secret.getType()).isEqualTo("kubernetes.io/iscsi-chap");
      assertThat(TestData.decoded(secret)).isEqualTo(c.secretData());
      assertThat(iscsi.getSecretRef()).isEqualTo(new SecretReference(PV + "-chap", SECRET_NAMESPACE));
      assertThat(iscsi.getChapAuthSession()).isTrue();
      assertThat(iscsi.getChapAuthDiscovery())
          .isEqualTo(c.secretData().containsKey(IscsiMapper.DISCOVERY_USERNAME));
    }
    Golden.assertMatches(c.fixture(), mapped.source());
  }

  @Test
  void multipathListsWithoutIqnsOrLunsReuseTheSingleValues() throws MappingException {
    ConnectionInfo info = fixture("iscsi-lio-multipath", d -> {
      d.remove("target_iqns");
      d.remove("target_luns");
    });
    ISCSIPersistentVolumeSource iscsi = mapper.map(info, request(Map.of())).source().getIscsi();
    assertThat(iscsi.getPortals()).containsExactly("10.20.1.11:3260");
  }

  @Test
  void differentLunOnASecondaryPortalDropsThatPortal() throws MappingException {
    ConnectionInfo info = fixture("iscsi-lio-multipath", d -> d.put("target_luns", List.of(0, 2)));
    assertThat(mapper.map(info, request(Map.of())).source().getIscsi().getPortals()).isEmpty();
  }

  static Stream<Arguments> badInput() {
    return Stream.of(
        bad("no target_portal", d -> d.remove("target_portal"),
            "iscsi connection_info field \"target_portal\" is missing"),
        bad("null target_iqn", d -> d.put("target_iqn", null),
            "iscsi connection_info field \"target_iqn\" is missing"),
        bad("numeric target_iqn", d -> d.put("target_iqn", 42),
            "field \"target_iqn\" must be a string, got 42"),
        bad("target_iqn without the :identifier", d -> d.put("target_iqn", "iqn.2010-10.org.openstack.volume-4b1c"),
            "field \"target_iqn\" is \"iqn.2010-10.org.openstack.volume-4b1c\", which Kubernetes refuses: it must be "
                + "valid format starting with iqn"),
        bad("naa of 16", d -> d.put("target_iqn", "naa.62004567BA64678D"),
            "which Kubernetes refuses: it must be valid format starting with naa"),
        bad("secondary target_iqns entry", d -> d.put("target_iqns", List.of("iqn.2010-10.org.openstack:v",
            "iqn.2010-10.org.openstack")), "field \"target_iqns[1]\""),
        bad("word target_lun", d -> d.put("target_lun", "one"),
            "field \"target_lun\" must be an integer from 0 to 255, got \"one\""),
        bad("out-of-range target_lun", d -> d.put("target_lun", 256),
            "field \"target_lun\" must be an integer from 0 to 255, got 256"),
        bad("fractional target_lun", d -> d.put("target_lun", 1.5),
            "field \"target_lun\" must be an integer from 0 to 255, got 1.5"),
        bad("unknown auth_method", d -> d.put("auth_method", "kerberos"),
            "field \"auth_method\" must be \"CHAP\" or absent, got \"kerberos\""),
        bad("CHAP without password", d -> d.remove("auth_password"),
            "field \"auth_password\" is missing"),
        bad("CHAP without username", d -> d.put("auth_username", ""),
            "field \"auth_username\" is missing"),
        bad("target_portals not a list", d -> d.put("target_portals", "10.20.0.11:3260"),
            "field \"target_portals\" must be a list of strings, got \"10.20.0.11:3260\""),
        bad("portal entry not a string", d -> d.put("target_portals", List.of("10.20.0.11:3260", 7)),
            "field \"target_portals[1]\" must be a non-empty string, got 7"),
        bad("fewer iqns than portals", d -> d.put("target_iqns", List.of("iqn.2010-10.org.openstack:v")),
            "field \"target_iqns\" must list one entry per target_portals entry (2), got 1"),
        bad("more luns than portals", d -> d.put("target_luns", List.of(0, 0, 0)),
            "field \"target_luns\" must list one entry per target_portals entry (2), got 3"),
        bad("bad lun in list", d -> d.put("target_luns", List.of(0, "x")),
            "field \"target_luns[1]\" must be an integer from 0 to 255, got \"x\""));
  }

  private static Arguments bad(String name, Consumer<Map<String, Object>> edit, String message) {
    return Arguments.of(name, edit, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void rejectsBadInputNamingFieldAndValue(String name, Consumer<Map<String, Object>> edit, String message) {
    assertThatThrownBy(() -> mapper.map(fixture("iscsi-lio-multipath", edit), request(Map.of())))
        .isInstanceOf(InvalidConnectionException.class)
        .hasMessageContaining(message);
  }

  @Test
  void rejectsAConnectorInitiatorKubernetesWouldRefuse() {
    Connector connector = new Connector("n1", null, "iqn.1994-05.com.redhat", null, null, false, null, null);
    assertThatThrownBy(() -> mapper.map(fixture("iscsi-netapp-no-chap"), request(Map.of(), connector, false)))
        .isInstanceOf(MappingException.class)
        .hasMessage("connector initiator \"iqn.1994-05.com.redhat\" is refused by Kubernetes as an iSCSI "
            + "initiatorName: it must be valid format starting with iqn");
  }

  @Test
  void ownsOnlyTheChapSecretDerivedFromThePvName() throws MappingException {
    PersistentVolume pv = pv(PV, mapper.map(fixture("iscsi-lvm-tgt-chap"), request(Map.of())));
    assertThat(mapper.handles(pv)).isTrue();
    assertThat(mapper.ownedSecrets(pv)).containsExactly(new SecretRef(SECRET_NAMESPACE, PV + "-chap"));

    PersistentVolume foreign = pv("pvc-other", mapper.map(fixture("iscsi-lvm-tgt-chap"), request(Map.of())));
    assertThat(mapper.ownedSecrets(foreign)).isEmpty();

    PersistentVolume noChap = pv(PV, mapper.map(fixture("iscsi-netapp-no-chap"), request(Map.of())));
    assertThat(mapper.ownedSecrets(noChap)).isEmpty();
  }

  static PersistentVolume pv(String name, MappedVolume mapped) {
    return new PersistentVolumeBuilder().withNewMetadata().withName(name).endMetadata()
        .withSpec(mapped.source()).build();
  }
}
