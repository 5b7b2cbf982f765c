package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VolumeMapperRegistryTest {
  private final VolumeMapperRegistry registry = VolumeMapperRegistry.defaults();

  @Test
  void choosesTheMapperByDriverVolumeType() throws MappingException {
    assertThat(registry.forConnection(fixture("iscsi-lvm-tgt-chap"))).isInstanceOf(IscsiMapper.class);
    assertThat(registry.forConnection(fixture("rbd-keyring"))).isInstanceOf(RbdMapper.class);
    assertThat(registry.forConnection(fixture("fc-single-wwn"))).isInstanceOf(FcMapper.class);
  }

  @Test
  void unknownDriverVolumeTypeNamesItAndTheSupportedOnes() {
    assertThatThrownBy(() -> registry.forConnection(new ConnectionInfo("nfs", Map.of("export", "h:/v"))))
        .isInstanceOf(MappingException.class)
        .hasMessage("unsupported driver_volume_type \"nfs\"; supported: fibre_channel, iscsi, rbd");
  }

  @Test
  void choosesTheMapperFromThePvSource() throws MappingException {
    for (String name : List.of("iscsi-lvm-tgt-chap", "rbd-keyring", "fc-multi-wwn")) {
      ConnectionInfo info = fixture(name);
      VolumeMapper mapper = registry.forConnection(info);
      var pv = IscsiMapperTest.pv(PV, mapper.map(info, request(Map.of())));
      assertThat(registry.forVolume(pv)).containsSame(mapper);
    }
    var nfs = new PersistentVolumeBuilder().withNewSpec().withNewNfs().withServer("h").withPath("/v").endNfs()
        .endSpec().build();
    assertThat(registry.forVolume(nfs)).isEmpty();
    var otherCsi = new PersistentVolumeBuilder().withNewSpec().withNewCsi().withDriver("cinder.csi.openstack.org")
        .withVolumeHandle("x").endCsi().endSpec().build();
    assertThat(registry.forVolume(otherCsi)).isEmpty();
  }

  @Test
  void parameterNamesAreTheUnion() {
    assertThat(registry.parameterNames()).containsExactly("cephx-secret-name", "cephx-secret-namespace",
        "chap-credentials", "csi-cluster-id", "csi-image-features", "fsType", "iscsiInterface", "rbd-mode");
  }

  @Test
  void rejectsTwoMappersForOneType() {
    assertThatThrownBy(() -> new VolumeMapperRegistry(List.of(new FcMapper(), new FcMapper())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fibre_channel");
  }

  static Stream<Arguments> parameters() {
    return Stream.of(
        Arguments.of(Map.of(), null),
        Arguments.of(Map.of("fsType", "ext4", "iscsiInterface", "default", "rbd-mode", "in-tree"), null),
        Arguments.of(Map.of("rbd-mode", "csi", "csi-cluster-id", "ceph-east", "csi-image-features",
            "layering,exclusive-lock,journaling", "cephx-secret-name", "csi-rbd-secret",
            "cephx-secret-namespace", "ceph-csi"), null),
        Arguments.of(Map.of("fsType", "ext4; rm -rf /"),
            "StorageClass parameter \"fsType\" must be a filesystem name such as \"ext4\" or \"xfs\", "
                + "got \"ext4; rm -rf /\""),
        Arguments.of(Map.of("fsType", "EXT4"),
            "StorageClass parameter \"fsType\" must be a filesystem name such as \"ext4\" or \"xfs\", got \"EXT4\""),
        Arguments.of(Map.of("iscsiInterface", "my iface"),
            "StorageClass parameter \"iscsiInterface\" must be an open-iscsi interface name such as \"default\", "
                + "got \"my iface\""),
        Arguments.of(Map.of("rbd-mode", "x"),
            "StorageClass parameter \"rbd-mode\" must be \"in-tree\" or \"csi\", got \"x\""),
        Arguments.of(Map.of("rbd-mode", "csi"),
            "StorageClass parameter \"csi-cluster-id\" is required when \"rbd-mode\" is \"csi\""),
        Arguments.of(Map.of("rbd-mode", "csi", "csi-cluster-id", " "),
            "StorageClass parameter \"csi-cluster-id\" is required when \"rbd-mode\" is \"csi\""),
        Arguments.of(Map.of("csi-image-features", "layering exclusive-lock"),
            "StorageClass parameter \"csi-image-features\" must be a comma-separated list of RBD image features "
                + "such as \"layering,exclusive-lock\", got \"layering exclusive-lock\""),
        Arguments.of(Map.of("cephx-secret-name", "Ceph_Secret"),
            "StorageClass parameter \"cephx-secret-name\" must be a Secret name (lower-case DNS subdomain), "
                + "got \"Ceph_Secret\""),
        Arguments.of(Map.of("cephx-secret-name", "s", "cephx-secret-namespace", "ceph.csi"),
            "StorageClass parameter \"cephx-secret-namespace\" must be a namespace name (lower-case DNS label), "
                + "got \"ceph.csi\""),
        Arguments.of(Map.of("cephx-secret-namespace", "ceph"),
            "StorageClass parameter \"cephx-secret-namespace\" needs \"cephx-secret-name\""));
  }

  @ParameterizedTest
  @MethodSource("parameters")
  void validatesStorageClassParametersWithoutConnectionInfo(Map<String, String> params, String message) {
    if (message == null) {
      assertThatCode(() -> registry.validateParameters(params)).doesNotThrowAnyException();
    } else {
      assertThatThrownBy(() -> registry.validateParameters(params))
          .isInstanceOf(MappingException.class).hasMessage(message);
    }
  }
}
