package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** CHAP passwords and cephx keys must never reach exception messages or toString output. */
class SecretLeakTest {
  static final List<String> SECRETS = List.of("p9VmK3sRt6YqWz1Lh8Db", "Lq7Wd2Fs9Kp4Xz6Rm1Vt", "v8Kd3Rq0Zt5Wm2Ly",
      RbdMapperTest.KEY, "AQBhJ5Zl");

  static Stream<Arguments> badInputWithSecretsAround() {
    String key = RbdMapperTest.KEY;
    return Stream.of(
        // Secret fields mistyped: their values must not be echoed.
        bad("iscsi-lvm-tgt-chap", d -> d.put("auth_password", List.of("p9VmK3sRt6YqWz1Lh8Db"))),
        bad("iscsi-lvm-tgt-chap", d -> d.put("auth_password", Map.of("v", "p9VmK3sRt6YqWz1Lh8Db"))),
        bad("iscsi-netapp-multipath-discovery-chap", d -> d.put("discovery_auth_password", List.of("v8Kd3Rq0Zt5Wm2Ly"))),
        bad("rbd-keyring", d -> d.put("keyring", List.of(d.get("keyring")))),
        bad("rbd-keyring", d -> d.put("keyring", "[client.other]\nkey " + key + "\n")),
        bad("rbd-keyring", d -> d.put("keyring", "[client.a]\nkey = " + key + "\n[client.b]\nkey = " + key)),
        bad("rbd-keyring", d -> d.put("keyring", "key = not*base64 " + key)),
        // Other fields broken while secrets sit next to them.
        bad("iscsi-lvm-tgt-chap", d -> d.put("auth_method", "p9VmK3sRt6YqWz1Lh8Db".length())),
        bad("iscsi-lvm-tgt-chap", d -> d.remove("auth_username")),
        bad("iscsi-lvm-tgt-chap", d -> d.put("target_lun", -1)),
        bad("iscsi-lio-multipath", d -> d.put("target_iqns", List.of("x"))),
        bad("iscsi-netapp-multipath-discovery-chap", d -> d.put("discovery_auth_method", "MD5")),
        bad("rbd-keyring", d -> d.put("name", "no-slash")),
        bad("rbd-keyring", d -> d.put("ports", List.of("6789"))),
        bad("rbd-keyring", d -> d.remove("auth_username")));
  }

  private static Arguments bad(String fixture, Consumer<Map<String, Object>> edit) {
    return Arguments.of(fixture, edit);
  }

  @ParameterizedTest
  @MethodSource("badInputWithSecretsAround")
  void exceptionMessagesNeverContainSecretValues(String fixture, Consumer<Map<String, Object>> edit) {
    ConnectionInfo info = fixture(fixture, edit);
    Map<String, String> params = Map.of("rbd-mode", "csi", "csi-cluster-id", "c");
    VolumeMapper mapper = fixture.startsWith("rbd") ? new RbdMapper() : new IscsiMapper();

    Throwable thrown = catchThrowable(() -> mapper.map(info, request(params)));

    assertThat(thrown).isInstanceOf(MappingException.class);
    assertThat(thrown.getMessage()).doesNotContain(SECRETS);
  }

  @Test
  void toStringNeverShowsSecretValues() throws MappingException {
    for (String name : List.of("iscsi-lvm-tgt-chap", "iscsi-netapp-multipath-discovery-chap", "rbd-keyring")) {
      ConnectionInfo info = fixture(name);
      MappedVolume mapped = VolumeMapperRegistry.defaults().forConnection(info).map(info, request(Map.of()));
      assertThat(mapped.secrets()).isNotEmpty();
      assertThat(info.toString()).doesNotContain(SECRETS);
      assertThat(mapped.toString()).doesNotContain(SECRETS);
      Object parsed = name.startsWith("rbd") ? RbdConnection.parse(info) : IscsiConnection.parse(info);
      assertThat(parsed.toString()).doesNotContain(SECRETS).contains("<redacted>");
    }
  }
}
