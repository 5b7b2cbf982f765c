package io.github.standalonecinder.provisioner.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A cloud is down when its latest call got no answer or its credentials were refused, up on any answer. */
class CloudStatesTest {
  @Test
  void eachCallsOutcomeSetsItsCloudsStateAndGauge() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CloudStates states = new CloudStates(registry);
    AtomicReference<RuntimeException> next = new AtomicReference<>();
    CinderGateway fake = (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (p, m, a) -> {
          if (next.get() != null) {
            throw next.get();
          }
          return null;
        });
    CinderGateway a = states.track("a", fake, null);
    states.track("b", fake, "cloud config: [Global \"b\"] has no auth-url");
    assertThat(states.lines()).containsExactly("cloud a: up",
        "cloud b: down (cloud config: [Global \"b\"] has no auth-url)");
    assertThat(registry.get("standalone_cinder_cloud_up").tag("cloud", "b").gauge().value()).isZero();

    next.set(new CinderException(CinderException.Kind.UNREACHABLE, 0, "Cinder at http://a is unreachable"));
    assertThatThrownBy(() -> a.listVolumeTypes()).isInstanceOf(CinderException.class);
    assertThat(states.lines()).first().isEqualTo("cloud a: down (Cinder at http://a is unreachable)");
    assertThat(registry.get("standalone_cinder_cloud_up").tag("cloud", "a").gauge().value()).isZero();

    next.set(new CinderException(CinderException.Kind.QUOTA_EXCEEDED, 413, "quota"));
    assertThatThrownBy(() -> a.listVolumeTypes()).as("an answer, if a refusal").isInstanceOf(CinderException.class);
    assertThat(states.lines()).first().isEqualTo("cloud a: up");

    next.set(new CinderException(CinderException.Kind.UNAUTHORIZED, 401, "Keystone refused the credentials"));
    assertThatThrownBy(() -> a.listVolumeTypes()).isInstanceOf(CinderException.class);
    assertThat(states.lines()).first().asString().startsWith("cloud a: down");
    next.set(null);
    a.listVolumeTypes();
    assertThat(registry.get("standalone_cinder_cloud_up").tag("cloud", "a").gauge().value()).isEqualTo(1);
  }
}
