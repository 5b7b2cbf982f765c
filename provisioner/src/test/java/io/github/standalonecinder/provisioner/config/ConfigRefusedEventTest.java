package io.github.standalonecinder.provisioner.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.github.standalonecinder.provisioner.controller.EventRecorder;
import io.github.standalonecinder.provisioner.controller.ProvisionerEvents;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A refused cloud configuration is a Warning Event {@code CloudConfigRefused} on the provisioner's Pod, else on its
 * Lease, else nowhere (said once in the log); repeats count in one Event; the note says what kind of problem and
 * names no endpoint, user, password or server text. Against the Fabric8 CRUD mock and the simulator's Keystone.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigRefusedEventTest {
  static KubernetesClient client;

  @TempDir
  Path dir;
  CinderSimulator noauth;
  CinderSimulator keystone;

  @BeforeEach
  void start() {
    client.events().v1().events().inAnyNamespace().delete();
    noauth = CinderSimulator.builder().backend(SimulatedBackend.ISCSI).start();
    keystone = CinderSimulator.builder().auth(SimulatorAuth.KEYSTONE).backend(SimulatedBackend.ISCSI)
        .projectId("p-id").projectName("demo").users(Map.of("alice-the-user", "right-pw")).start();
  }

  @AfterEach
  void stop() {
    noauth.close();
    keystone.close();
  }

  /** A reloader on {@code conf}, reporting to events on {@code target}; checked by hand (no timer). */
  private ReloadingCinderGateway reloader(Path conf, ProvisionerEvents events) throws Exception {
    Files.writeString(conf, "[Global]\ncinder-endpoint = " + noauth.endpoint() + "\n");
    ReloadingCinderGateway.Loader loader = () -> CloudConfig.load(Optional.of(conf), Map.of());
    CloudConfig initial = loader.load();
    return ReloadingCinderGateway.start(CinderGateways.connect(initial, GatewayOptions.defaults()), loader,
        GatewayOptions.defaults(), initial.sources(), new SimpleMeterRegistry(), Duration.ZERO, events);
  }

  private ProvisionerEvents events(Map<String, String> env, Optional<ProvisionerEvents.LeaseName> lease) {
    return new ProvisionerEvents(new EventRecorder(client, "openstack.org/standalone-cinder", "pod-0",
        Clock.systemUTC()), ProvisionerEvents.target(env, "kube-system", lease));
  }

  private List<Event> events(String namespace) {
    return client.events().v1().events().inNamespace(namespace).list().getItems();
  }

  @Test
  void onThePodOneEventCountingRepeatsWithNoEndpointUserOrSecret() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    ProvisionerEvents events = events(Map.of("POD_NAME", "standalone-cinder-7d9f-x2", "POD_NAMESPACE",
        "standalone-cinder", "POD_UID", "0a0a0a0a-1111-4222-8333-444444444444"),
        Optional.of(new ProvisionerEvents.LeaseName("standalone-cinder", "openstack.org-standalone-cinder")));
    try (ReloadingCinderGateway reloading = reloader(conf, events)) {
      Files.writeString(conf, "[Global]\nauth-url = https://keystone.secret.example:5000/v3\n"
          + "username = alice-the-user\npassword = hunter2\ntls-insecure = maybe\n");
      assertThat(reloading.check()).isFalse();
      List<Event> written = events("standalone-cinder");
      assertThat(written).singleElement().satisfies(e -> {
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getReason()).isEqualTo("CloudConfigRefused");
        assertThat(e.getRegarding().getKind()).isEqualTo("Pod");
        assertThat(e.getRegarding().getApiVersion()).isEqualTo("v1");
        assertThat(e.getRegarding().getName()).isEqualTo("standalone-cinder-7d9f-x2");
        assertThat(e.getRegarding().getUid()).isEqualTo("0a0a0a0a-1111-4222-8333-444444444444");
        assertThat(e.getNote()).contains("refused").contains("the one in use stays").contains("invalid")
            .doesNotContain("keystone.secret.example").doesNotContain("alice").doesNotContain("hunter2")
            .doesNotContain("maybe");
      });

      String keystoneHost = URI.create(keystone.keystoneUrl()).getAuthority();
      Files.writeString(conf, "[Global]\nauth-url = " + keystone.keystoneUrl() + "\nusername = alice-the-user\n"
          + "password = wrong-pw\nuser-domain-name = Default\ntenant-id = p-id\n");
      assertThat(reloading.check()).isFalse();
      assertThat(events("standalone-cinder")).singleElement().satisfies(e -> {
        assertThat(e.getSeries().getCount()).as("the repeat counts in the first Event").isEqualTo(2);
        assertThat(e.getNote()).contains("its credentials were refused (HTTP 401)")
            .doesNotContain(keystoneHost).doesNotContain("alice").doesNotContain("wrong-pw")
            .doesNotContain("requires authentication");
      });
      assertThat(events("kube-system")).as("nothing on the Lease when the Pod is known").isEmpty();
    }
  }

  @Test
  void onTheLeaseWhenNoPodIsKnown() throws Exception {
    Path conf = dir.resolve("cloud.conf");
    ProvisionerEvents events = events(Map.of(),
        Optional.of(new ProvisionerEvents.LeaseName("kube-system", "openstack.org-standalone-cinder")));
    try (ReloadingCinderGateway reloading = reloader(conf, events)) {
      Files.writeString(conf, "[Global]\nauth_url = http://typo.example/v3\n");
      assertThat(reloading.check()).isFalse();
      assertThat(events("kube-system")).singleElement().satisfies(e -> {
        assertThat(e.getRegarding().getKind()).isEqualTo("Lease");
        assertThat(e.getRegarding().getApiVersion()).isEqualTo("coordination.k8s.io/v1");
        assertThat(e.getRegarding().getName()).isEqualTo("openstack.org-standalone-cinder");
        assertThat(e.getReportingController()).isEqualTo("openstack.org/standalone-cinder");
        assertThat(e.getNote()).doesNotContain("typo.example");
      });
    }
  }

  @Test
  void nowhereWithoutPodOrLeaseAndTheLogSaysSoOnce() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(ProvisionerEvents.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    Path conf = dir.resolve("cloud.conf");
    try (ReloadingCinderGateway reloading = reloader(conf, events(Map.of(), Optional.empty()))) {
      Files.writeString(conf, "[Global]\nauth_url = http://one.example/v3\n");
      assertThat(reloading.check()).isFalse();
      Files.writeString(conf, "[Global]\nauth_url = http://two.example/v3\n");
      assertThat(reloading.check()).isFalse();
    } finally {
      logger.detachAppender(logs);
    }
    assertThat(client.events().v1().events().inAnyNamespace().list().getItems()).isEmpty();
    assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
        .contains("not written as Events").contains("POD_NAME");
  }
}
