package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.standalonecinder.provisioner.cinder.CinderAttachment;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Taking exports back: only our own, in both attach modes, and the Go original's reservation. */
class CinderExporterTest {
  private CinderSimulator sim;
  private CinderGateway cinder;

  @BeforeEach
  void setUp() throws Exception {
    sim = CinderSimulator.builder().backend(SimulatedBackend.ISCSI_CHAP).start();
    cinder = TestCinder.connect(sim);
  }

  @AfterEach
  void tearDown() {
    sim.close();
  }

  private CinderExporter exporter(ProvisionerSettings.AttachMode mode) {
    return new CinderExporter(cinder, ControllerHarness.CONNECTOR, mode);
  }

  private String available(String name) {
    String id = cinder.createVolume(new VolumeCreateRequest(name, 1, null, null, null, Map.of(), null, null)).id();
    await().atMost(Duration.ofSeconds(10)).until(() -> "available".equals(sim.volume(id).status()));
    return id;
  }

  @ParameterizedTest
  @EnumSource(value = ProvisionerSettings.AttachMode.class, names = {"ATTACHMENTS", "LEGACY"})
  void aGoOriginalReservationIsUndone(ProvisionerSettings.AttachMode mode) {
    String id = TestCinder.createAsTheGoOriginalLeftIt(sim, cinder, "go-" + mode);
    assertThat(sim.volume(id).status()).isEqualTo("attaching");
    assertThat(exporter(mode).unexport(id, CinderExporter.goOriginal()).orElseThrow().status())
        .isEqualTo("available");
    assertThat(cinder.deleteVolume(id)).isTrue();
  }

  @ParameterizedTest
  @EnumSource(value = ProvisionerSettings.AttachMode.class, names = {"ATTACHMENTS", "LEGACY"})
  void ourExportIsTakenBack(ProvisionerSettings.AttachMode mode) {
    CinderExporter exporter = exporter(mode);
    String id = available("ours-" + mode);
    CinderExporter.Export export = exporter.export(id);
    assertThat(sim.volume(id).status()).isEqualTo("in-use");
    assertThat(exporter.unexport(id, exporter.ours(export.attachmentId())).orElseThrow().status())
        .isEqualTo("available");
  }

  @ParameterizedTest
  @EnumSource(value = ProvisionerSettings.AttachMode.class, names = {"ATTACHMENTS"})
  void aNovaServersAttachmentIsNeverTouched(ProvisionerSettings.AttachMode mode) throws Exception {
    String id = available("nova");
    // A Nova server's attachment, as Nova makes it: with its instance uuid and its host's connector.
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(sim.endpoint()
        + "/attachments")).header("X-Auth-Token", sim.noauthToken()).header("OpenStack-API-Version", "volume 3.44")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"attachment\": "
            + "{\"volume_uuid\": \"" + id + "\", \"instance_uuid\": \"4a1d1c6e-1f7b-4c5e-9d3f-0123456789ab\", "
            + "\"connector\": {\"host\": \"compute-1\", \"initiator\": \"iqn.1993-08.org.debian:01:nova\"}}}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);

    exporter(mode).unexport(id);
    assertThat(cinder.listAttachments(id)).extracting(CinderAttachment::instanceId)
        .containsExactly("4a1d1c6e-1f7b-4c5e-9d3f-0123456789ab");
  }
}
