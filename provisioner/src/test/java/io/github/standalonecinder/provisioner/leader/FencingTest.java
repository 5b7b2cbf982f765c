package io.github.standalonecinder.provisioner.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The fence on both sides: Kubernetes writes (the client interceptor) and Cinder writes (the gateway proxy). */
@EnableKubernetesMockClient(crud = true)
class FencingTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private final AtomicBoolean held = new AtomicBoolean();
  private final Fence fence = held::get;

  private KubernetesClient fenced() {
    return new KubernetesClientBuilder().withConfig(client.getConfiguration()).withHttpClientBuilderConsumer(
        b -> b.addOrReplaceInterceptor(FencingInterceptor.NAME, new FencingInterceptor(fence))).build();
  }

  @Test
  void kubernetesWritesPassOnlyWhileTheFenceIsHeldReadsAndTheLeaseAlways() {
    try (KubernetesClient kube = fenced()) {
      var cm = new ConfigMapBuilder().withNewMetadata().withName("cm").withNamespace("ns").endMetadata().build();
      assertThatThrownBy(() -> kube.configMaps().inNamespace("ns").resource(cm).create())
          .satisfies(e -> assertThat(FencedException.causedBy(e)).isTrue())
          .hasMessageContaining("refused POST /api/v1/namespaces/ns/configmaps");
      assertThat(client.configMaps().inNamespace("ns").withName("cm").get()).as("nothing reached the server")
          .isNull();
      assertThat(kube.configMaps().inNamespace("ns").list().getItems()).isEmpty();
      kube.leases().inNamespace("ns").resource(new LeaseBuilder().withNewMetadata().withName("l")
          .withNamespace("ns").endMetadata().withNewSpec().withHolderIdentity("x").endSpec().build()).create();

      held.set(true);
      kube.configMaps().inNamespace("ns").resource(cm).create();
      assertThat(client.configMaps().inNamespace("ns").withName("cm").get()).isNotNull();
    }
  }

  @Test
  void aWriteWhoseFenceClosesAfterTheInterceptorsCheckIsStoppedAtItsBodyAndNothingReachesTheServer() {
    // Held for the interceptor's check only: the replica froze right after it, and thaws past its deadline.
    AtomicInteger checks = new AtomicInteger();
    Fence heldOnce = () -> checks.incrementAndGet() == 1;
    var config = new ConfigBuilder(client.getConfiguration()).withRequestRetryBackoffInterval(10).build();
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(config).withHttpClientBuilderConsumer(
        b -> b.addOrReplaceInterceptor(FencingInterceptor.NAME, new FencingInterceptor(heldOnce))).build()) {
      var cm = new ConfigMapBuilder().withNewMetadata().withName("late").withNamespace("ns").endMetadata().build();
      int before = server.getRequestCount();
      assertThatThrownBy(() -> kube.configMaps().inNamespace("ns").resource(cm).create())
          .satisfies(e -> assertThat(FencedException.causedBy(e)).as("%s", e).isTrue());
      assertThat(checks.get()).as("checked again at the body (then the client's retry is refused up front)")
          .isGreaterThanOrEqualTo(2);
      assertThat(server.getRequestCount()).as("no whole request reached the server").isEqualTo(before);
      assertThat(client.configMaps().inNamespace("ns").withName("late").get()).isNull();
    }
  }

  @Test
  void aWriteSentAgainAfterA401AndATokenRefreshCarriesItsWholeBodyCheckedAgain() {
    server.expect().post().withPath("/api/v1/namespaces/ns/configmaps").andReturn(401, "{}").once();
    AtomicInteger checks = new AtomicInteger();
    Fence counted = () -> checks.incrementAndGet() > 0;
    var config = new ConfigBuilder(client.getConfiguration()).withOauthToken(null)
        .withOauthTokenProvider(() -> "token-" + checks.get()).build();
    try (KubernetesClient kube = new KubernetesClientBuilder().withConfig(config).withHttpClientBuilderConsumer(
        b -> b.addOrReplaceInterceptor(FencingInterceptor.NAME, new FencingInterceptor(counted))).build()) {
      var cm = new ConfigMapBuilder().withNewMetadata().withName("again").withNamespace("ns").endMetadata()
          .addToData("key", "value").build();
      kube.configMaps().inNamespace("ns").resource(cm).create();
      assertThat(client.configMaps().inNamespace("ns").withName("again").get().getData())
          .containsEntry("key", "value");
      assertThat(checks.get()).as("the interceptor, the first sending's body, the second sending's body")
          .isEqualTo(3);
    }
  }

  @Test
  void aFencedBodyIsWholeEachTimeItIsSentAndCheckedAtTheStartOfEach() throws IOException {
    AtomicBoolean open = new AtomicBoolean(true);
    AtomicInteger checks = new AtomicInteger();
    FencedBody body = new FencedBody("{\"kind\":\"ConfigMap\"}".getBytes(StandardCharsets.UTF_8),
        () -> checks.incrementAndGet() > 0 && open.get(), "PUT /x");
    assertThat(readAll(body)).isEqualTo("{\"kind\":\"ConfigMap\"}");
    assertThat(checks.get()).isEqualTo(1);
    body.close();
    assertThat(readAll(body)).isEqualTo("{\"kind\":\"ConfigMap\"}");
    assertThat(checks.get()).isEqualTo(2);
    body.close();
    open.set(false);
    assertThatThrownBy(() -> body.read(new byte[4])).isInstanceOf(IOException.class)
        .hasMessageContaining("refused PUT /x").satisfies(e -> assertThat(FencedException.causedBy(e)).isTrue());
  }

  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  void cinderWritesAreRefusedWithoutReachingCinderReadsPass() {
    CinderGateway cinder = mock(CinderGateway.class);
    CinderGateway guarded = FencedCinderGateway.wrap(cinder, fence);
    assertThatThrownBy(() -> guarded.createVolume(new VolumeCreateRequest("v", 1, null, null, null, Map.of(), null,
        null))).isInstanceOf(FencedException.class).hasMessageContaining("Cinder createVolume");
    assertThatThrownBy(() -> guarded.deleteVolume("id")).isInstanceOf(FencedException.class);
    verifyNoInteractions(cinder);
    guarded.getVolume("id");
    guarded.findVolumes("v", Map.of());
    verify(cinder).getVolume("id");
    verify(cinder).findVolumes(any(), any());
  }

  @Test
  void everyGatewayMethodThatIsNotARead() {
    // A method added to the gateway is fenced unless its name reads like a read; this list makes such a change
    // visible here, where someone must decide.
    Set<String> reads = Arrays.stream(CinderGateway.class.getMethods()).filter(FencedCinderGateway::isRead)
        .map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
    assertThat(reads).containsExactly("apiVersion", "findBackups", "findVolumes", "getBackup", "getSnapshot",
        "getVolume", "listAttachments", "listAvailabilityZones", "listSnapshots", "listUserMessages",
        "listVolumeTypes", "listVolumes");
  }
}
