package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.CONNECTOR;
import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.SECRET_NAMESPACE;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.mappers.MappingRequest.SecretPlacement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Credentials that open more than their volume stay out of claim namespaces unless the class accepts it; those
 * that open one volume go where the class says.
 */
class SharedSecretPlacementTest {
  private final RbdMapper rbd = new RbdMapper();
  private final IscsiMapper iscsi = new IscsiMapper();

  private static MappingRequest request(Map<String, String> parameters, SecretPlacement placement) {
    String namespace = placement == SecretPlacement.PROVISIONER ? SECRET_NAMESPACE : "shop";
    return new MappingRequest(PV, "shop", "orders-db", "cinder", namespace, parameters, CONNECTOR, false, placement);
  }

  @Test
  void cindersPoolWideCephxKeyGoesToAClaimNamespaceOnlyWithTheClassesConsent() throws MappingException {
    assertThatThrownBy(() -> rbd.map(fixture("rbd-keyring"), request(Map.of(), SecretPlacement.CLAIM)))
        .isInstanceOf(PermanentMappingException.class)
        .hasMessageStartingWith("the cephx key Cinder returned (client.cinder, for the whole pool volumes) opens "
            + "more than this volume; StorageClass \"cinder\" puts Secrets in the claim's namespace")
        .hasMessageContaining("\"shared-secrets-in-claim-namespace\": \"true\"");
    assertThat(rbd.map(fixture("rbd-keyring"), request(Map.of(), SecretPlacement.CLAIM_WITH_SHARED)).secrets())
        .singleElement().satisfies(s -> assertThat(s.getMetadata().getNamespace()).isEqualTo("shop"));
    assertThat(rbd.map(fixture("rbd-keyring"), request(Map.of(), SecretPlacement.PROVISIONER)).secrets())
        .singleElement().satisfies(s -> assertThat(s.getMetadata().getNamespace()).isEqualTo(SECRET_NAMESPACE));
  }

  @Test
  void anAdminsCephxSecretIsReferencedNotCopiedSoItIsNoConcernHere() throws MappingException {
    Map<String, String> named = Map.of(RbdMapper.CEPHX_SECRET_NAME, "ceph-client");
    assertThat(rbd.map(fixture("rbd-no-keyring"), request(named, SecretPlacement.CLAIM)).secrets()).isEmpty();
  }

  @Test
  void perVolumeChapGoesToTheClaimNamespaceAndSharedChapNeedsConsent() throws MappingException {
    assertThat(iscsi.map(fixture("iscsi-lvm-tgt-chap"), request(Map.of(), SecretPlacement.CLAIM)).secrets())
        .singleElement().satisfies(s -> assertThat(s.getMetadata().getNamespace()).isEqualTo("shop"));
    Map<String, String> shared = Map.of(IscsiMapper.CHAP_CREDENTIALS, "shared");
    assertThatThrownBy(() -> iscsi.map(fixture("iscsi-lvm-tgt-chap"), request(shared, SecretPlacement.CLAIM)))
        .isInstanceOf(PermanentMappingException.class)
        .hasMessageStartingWith("the backend's CHAP credentials (one pair for every volume");
    assertThat(iscsi.map(fixture("iscsi-lvm-tgt-chap"), request(shared, SecretPlacement.CLAIM_WITH_SHARED))
        .secrets()).hasSize(1);
    assertThat(iscsi.map(fixture("iscsi-lvm-tgt-chap"), request(shared, SecretPlacement.PROVISIONER)).secrets())
        .hasSize(1);
  }

  @Test
  void discoveryChapGuardsThePortalAndIsShared() throws MappingException {
    assertThatThrownBy(() -> iscsi.map(fixture("iscsi-netapp-multipath-discovery-chap"),
        request(Map.of(), SecretPlacement.CLAIM)))
        .isInstanceOf(PermanentMappingException.class)
        .hasMessageStartingWith("the discovery CHAP credentials Cinder returned (they guard the whole portal ");
    assertThat(iscsi.map(fixture("iscsi-netapp-multipath-discovery-chap"),
        request(Map.of(), SecretPlacement.CLAIM_WITH_SHARED)).secrets()).hasSize(1);
  }

  @Test
  void chapCredentialsMustBeOneOfTwoWords() {
    assertThatThrownBy(() -> iscsi.validateParameters(Map.of(IscsiMapper.CHAP_CREDENTIALS, "host")))
        .hasMessage("StorageClass parameter \"chap-credentials\" must be \"per-volume\" or \"shared\", got \"host\"");
  }
}
