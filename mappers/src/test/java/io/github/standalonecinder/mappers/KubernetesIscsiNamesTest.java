package io.github.standalonecinder.mappers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The API server's iSCSI name rule (validateISCSIVolumeSource), case by case. */
class KubernetesIscsiNamesTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "iqn.2010-10.org.openstack:volume-6f2a1b0c", // Cinder LVM
      "iqn.2015-02.example.com:test",
      "iqn.1994-05.com.redhat:a13fc3d1cc22",
      "iqn.1992-08.com.netapp:sn.4b3f0e6a2a1c11e8:vs.3",
      "eui.0123456789ABCDEF",
      "eui.02004567A425678D",
      "naa.62004567BA64678D0123456789ABCDEF",
      "my-target", // no known prefix: the API server checks nothing
  })
  void namesTheApiServerAccepts(String name) {
    assertThat(KubernetesIscsiNames.problem(name)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "iqn.2010-10.org.openstack.volume-6f2a1b0c", // target_prefix without ':'
      "iqn.2010-10.org.openstack",
      "iqn.2015-2.example.com:test",
      "iqn.2015-02.example.com:test;ls;",
      "iqn.2015-02.example.com:a b",
      "iqn.2015-02.example.com:test\n",
      "iqn",
  })
  void iqnsTheApiServerRefuses(String name) {
    assertThat(KubernetesIscsiNames.problem(name)).contains("must be valid format starting with iqn");
  }

  @ParameterizedTest
  @ValueSource(strings = {"eui.0123456789ABCDE", "eui.0123456789ABCDEF0", "eui.0123456789ABCDE_"})
  void euisTheApiServerRefuses(String name) {
    assertThat(KubernetesIscsiNames.problem(name)).contains("must be valid format starting with eui");
  }

  @ParameterizedTest
  @ValueSource(strings = {"naa.62004567BA64678D", "naa.62004567BA64678D0123456789ABCDE",
      "naa.62004567BA64678D0123456789ABCDEF0"})
  void naasTheApiServerRefuses(String name) {
    assertThat(KubernetesIscsiNames.problem(name)).contains("must be valid format starting with naa");
  }

  @ParameterizedTest
  @ValueSource(strings = {""})
  void anEmptyNameIsRefused(String name) {
    assertThat(KubernetesIscsiNames.problem(name)).contains("must not be empty");
  }
}
