package io.github.standalonecinder.mappers;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden PV spec must deserialize into Fabric8's Kubernetes model with no field it does not know. */
class GoldenSchemaTest {

  static Stream<Path> goldenFiles() throws IOException {
    try (Stream<Path> files = Files.list(Golden.DIR)) {
      List<Path> yaml = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(yaml).as("golden files in %s", Golden.DIR).hasSizeGreaterThanOrEqualTo(10);
      return yaml.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("goldenFiles")
  void goldenIsAValidPersistentVolumeSpec(Path file) throws IOException {
    PersistentVolumeSpec spec = Serialization.unmarshal(Files.readString(file), PersistentVolumeSpec.class);

    assertThat(UnknownFields.in(spec)).as("fields unknown to the Kubernetes schema in %s", file).isEmpty();
    long sources = Stream.of(spec.getIscsi(), spec.getRbd(), spec.getFc(), spec.getCsi())
        .filter(s -> s != null).count();
    assertThat(sources).as("exactly one volume source in %s", file).isEqualTo(1);
  }

  @Test
  void unknownFieldsAreFoundAtAnyDepth() {
    String yaml = "iscsi:\n  targetPortal: 10.0.0.1:3260\n  iqn: iqn.2010-10.org.openstack:v\n  lun: 0\n"
        + "  initiator: iqn.1994-05.com.redhat:x\n  secretRef:\n    name: s\n    namespce: ns\n"
        + "bogus: 1\n";
    PersistentVolumeSpec spec = Serialization.unmarshal(yaml, PersistentVolumeSpec.class);
    assertThat(UnknownFields.in(spec)).containsExactlyInAnyOrder(".bogus", ".iscsi.initiator",
        ".iscsi.secretRef.namespce");
  }
}
