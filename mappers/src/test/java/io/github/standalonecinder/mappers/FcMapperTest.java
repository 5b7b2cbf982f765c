package io.github.standalonecinder.mappers;

import static io.github.standalonecinder.mappers.TestData.PV;
import static io.github.standalonecinder.mappers.TestData.fixture;
import static io.github.standalonecinder.mappers.TestData.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.FCVolumeSource;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FcMapperTest {
  private final FcMapper mapper = new FcMapper();

  static Stream<Arguments> cases() {
    return Stream.of(
        // FibreChannelDriver docstring shape: one WWN as a string.
        Arguments.of("fc-single-wwn", Map.of(), List.of("500507680b21ac36"), 1),
        // PowerMax populate_data shape: WWN list plus initiator_target_map; mixed case is lower-cased.
        Arguments.of("fc-multi-wwn", Map.of("fsType", "xfs"),
            List.of("5000097358119a05", "5000097358119a09", "500009735811a405", "500009735811a409"), 12),
        // target_wwns/target_luns form os-brick prefers: the WWN with another LUN is dropped.
        Arguments.of("fc-target-wwns-luns", Map.of(), List.of("21000024ff7a1b2c", "21000024ff7a1b2d"), 5));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void mapsCinderConnectionInfo(String name, Map<String, String> params, List<String> wwns, int lun)
      throws MappingException {
    MappedVolume mapped = mapper.map(fixture(name), request(params));

    FCVolumeSource fc = mapped.source().getFc();
    assertThat(fc.getTargetWWNs()).isEqualTo(wwns);
    assertThat(fc.getLun()).isEqualTo(lun);
    assertThat(fc.getWwids()).isEmpty();
    assertThat(fc.getFsType()).isEqualTo(params.get("fsType"));
    assertThat(fc.getReadOnly()).isFalse();
    assertThat(mapped.secrets()).isEmpty();
    Golden.assertMatches(name, mapped.source());
  }

  @Test
  void usesWwidsWhenThereIsNoTargetWwn() throws MappingException {
    ConnectionInfo info = fixture("fc-single-wwn", d -> {
      d.remove("target_wwn");
      d.put("wwids", "3600507680c8101a9a000000000000bd1");
    });
    MappedVolume mapped = mapper.map(info, request(Map.of(), null, true));
    FCVolumeSource fc = mapped.source().getFc();
    assertThat(fc.getWwids()).containsExactly("3600507680c8101a9a000000000000bd1");
    assertThat(fc.getTargetWWNs()).isEmpty();
    assertThat(fc.getLun()).isNull();
    Golden.assertMatches("fc-wwids", mapped.source());
  }

  @Test
  void colonSeparatedWwnsAreNormalised() throws MappingException {
    ConnectionInfo info = fixture("fc-single-wwn", d -> d.put("target_wwn", "50:05:07:68:0B:21:AC:36"));
    assertThat(mapper.map(info, request(Map.of())).source().getFc().getTargetWWNs())
        .containsExactly("500507680b21ac36");
  }

  static Stream<Arguments> badInput() {
    return Stream.of(
        bad("no wwn or wwids", d -> d.remove("target_wwn"),
            "fibre_channel connection_info field \"target_wwn\" is missing"),
        bad("wwn not hex", d -> d.put("target_wwn", "port-a"),
            "field \"target_wwn\" must be a WWN of 16 hex digits, got \"port-a\""),
        bad("wwn in list too short", d -> d.put("target_wwn", List.of("500507680b21ac36", "5005")),
            "field \"target_wwn[1]\" must be a WWN of 16 hex digits, got \"5005\""),
        bad("wwn as number", d -> d.put("target_wwn", 5005),
            "field \"target_wwn\" must be a list of strings, got 5005"),
        bad("no lun", d -> d.remove("target_lun"), "field \"target_lun\" is missing"),
        bad("lun word", d -> d.put("target_lun", "first"),
            "field \"target_lun\" must be an integer from 0 to 255, got \"first\""),
        bad("luns and wwns differ in length", d -> d.put("target_luns", List.of(1, 1)),
            "fields \"target_wwn\" and \"target_luns\" must have the same length, got 1 WWNs and 2 LUNs"),
        bad("initiator_target_map as list", d -> d.put("initiator_target_map", List.of("10000090fa3c4d5e")),
            "field \"initiator_target_map\" must be an object of initiator WWN to target WWN lists"));
  }

  private static Arguments bad(String name, Consumer<Map<String, Object>> edit, String message) {
    return Arguments.of(name, edit, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void rejectsBadInputNamingFieldAndValue(String name, Consumer<Map<String, Object>> edit, String message) {
    assertThatThrownBy(() -> mapper.map(fixture("fc-single-wwn", edit), request(Map.of())))
        .isInstanceOf(MappingException.class)
        .hasMessageContaining(message);
  }

  @Test
  void handlesFcVolumesAndOwnsNoSecrets() throws MappingException {
    var pv = IscsiMapperTest.pv(PV, mapper.map(fixture("fc-multi-wwn"), request(Map.of())));
    assertThat(mapper.handles(pv)).isTrue();
    assertThat(mapper.ownedSecrets(pv)).isEmpty();
  }
}
