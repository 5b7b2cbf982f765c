package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.SECRET_NAMESPACE;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SecretStore against the Fabric8 CRUD mock API server. */
@EnableKubernetesMockClient(crud = true)
class SecretStoreTest {
  static KubernetesClient client;

  private SecretStore store;

  @BeforeEach
  void setUp() {
    client.secrets().inAnyNamespace().delete();
    store = new SecretStore(client);
  }

  @Test
  void chapSecretRoundTrip() throws MappingException {
    IscsiMapper mapper = new IscsiMapper();
    MappedVolume mapped = mapper.map(fixture("iscsi-netapp-multipath-discovery-chap"), request(Map.of()));
    Secret wanted = mapped.secrets().get(0);

    store.ensure(wanted);

    Secret stored = client.secrets().inNamespace(SECRET_NAMESPACE).withName(PV + "-chap").get();
    assertThat(stored.getType()).isEqualTo("kubernetes.io/iscsi-chap");
    assertThat(stored.getMetadata().getLabels()).containsEntry("standalone-cinder.openstack.org/pv", PV);
    assertThat(TestData.decoded(stored)).containsEntry("node.session.auth.password", "v8Kd3Rq0Zt5Wm2Ly")
        .containsEntry("discovery.sendtargets.auth.username", "NetApp_iSCSI_CHAP_Username");

    var pv = IscsiMapperTest.pv(PV, mapped);
    for (SecretRef ref : mapper.ownedSecrets(pv)) {
      store.delete(ref);
    }
    assertThat(client.secrets().inNamespace(SECRET_NAMESPACE).withName(PV + "-chap").get()).isNull();
  }

  @Test
  void cephxSecretRoundTrip() throws MappingException {
    RbdMapper mapper = new RbdMapper();
    MappedVolume mapped = mapper.map(fixture("rbd-keyring"), request(Map.of()));
    store.ensure(mapped.secrets().get(0));

    Secret stored = client.secrets().inNamespace(SECRET_NAMESPACE).withName(PV + "-cephx").get();
    assertThat(stored.getType()).isEqualTo("kubernetes.io/rbd");
    assertThat(TestData.decoded(stored)).containsExactlyEntriesOf(Map.of("key", RbdMapperTest.KEY));

    mapper.ownedSecrets(IscsiMapperTest.pv(PV, mapped)).forEach(store::delete);
    assertThat(client.secrets().inNamespace(SECRET_NAMESPACE).list().getItems()).isEmpty();
  }

  @Test
  void ensuringAnIdenticalSecretAgainSucceeds() throws MappingException {
    Secret wanted = chapSecret("p9VmK3sRt6YqWz1Lh8Db");
    store.ensure(wanted);
    assertThatCode(() -> store.ensure(chapSecret("p9VmK3sRt6YqWz1Lh8Db"))).doesNotThrowAnyException();
  }

  @Test
  void anIdenticalSecretWrittenAsStringDataAlsoMatches() throws MappingException {
    store.ensure(chapSecret("p9VmK3sRt6YqWz1Lh8Db"));
    Secret asStringData = new SecretBuilder(chapSecret("x")).withData(null)
        .withStringData(Map.of("node.session.auth.username", "chap-user",
            "node.session.auth.password", "p9VmK3sRt6YqWz1Lh8Db"))
        .build();
    assertThatCode(() -> store.ensure(asStringData)).doesNotThrowAnyException();
  }

  @Test
  void differentDataIsAnErrorNamingTheSecretNotItsValues() throws MappingException {
    store.ensure(chapSecret("p9VmK3sRt6YqWz1Lh8Db"));

    assertThatThrownBy(() -> store.ensure(chapSecret("Other-Password-123")))
        .isInstanceOf(MappingException.class)
        .hasMessage("Secret standalone-cinder/" + PV + "-chap already exists with a different data (same keys, "
            + "different values); refusing to overwrite it")
        .message().doesNotContain("p9VmK3sRt6YqWz1Lh8Db", "Other-Password-123", "cDlW");
    assertThat(TestData.decoded(client.secrets().inNamespace(SECRET_NAMESPACE).withName(PV + "-chap").get()))
        .containsEntry("node.session.auth.password", "p9VmK3sRt6YqWz1Lh8Db");
  }

  @Test
  void aDifferentSecretIsReplacedOnlyWhenTheCallerSaysItMayBe() throws MappingException {
    store.ensure(chapSecret("p9VmK3sRt6YqWz1Lh8Db"));
    java.util.List<String> asked = new java.util.ArrayList<>();

    store.ensure(chapSecret("Other-Password-123"), existing -> {
      asked.add(TestData.decoded(existing).get("node.session.auth.password"));
      return true;
    });

    assertThat(asked).as("asked about the existing Secret").containsExactly("p9VmK3sRt6YqWz1Lh8Db");
    assertThat(TestData.decoded(client.secrets().inNamespace(SECRET_NAMESPACE).withName(PV + "-chap").get()))
        .containsEntry("node.session.auth.password", "Other-Password-123");
    assertThatThrownBy(() -> store.ensure(chapSecret("Third-Password-456"), existing -> false))
        .isInstanceOf(MappingException.class);
  }

  @Test
  void differentTypeOrMissingLabelsIsAnError() throws MappingException {
    Secret wanted = chapSecret("p9VmK3sRt6YqWz1Lh8Db");
    client.secrets().inNamespace(SECRET_NAMESPACE).resource(new SecretBuilder(wanted).withType("Opaque")
        .editMetadata().withLabels(Map.of("owner", "someone-else")).endMetadata().build()).create();

    assertThatThrownBy(() -> store.ensure(wanted))
        .isInstanceOf(MappingException.class)
        .hasMessageContaining("different type (Opaque, want kubernetes.io/iscsi-chap) and labels");
  }

  @Test
  void deletingAnAbsentSecretIsDone() {
    assertThatCode(() -> store.delete(new SecretRef(SECRET_NAMESPACE, "pvc-gone-chap"))).doesNotThrowAnyException();
  }

  private static Secret chapSecret(String password) {
    return ManagedSecrets.build(SECRET_NAMESPACE, PV + "-chap", PV, IscsiMapper.SECRET_TYPE,
        Map.of("node.session.auth.username", "chap-user", "node.session.auth.password", password));
  }
}
