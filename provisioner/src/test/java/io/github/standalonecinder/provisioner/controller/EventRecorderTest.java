package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {
  static KubernetesClient client;

  private PersistentVolumeClaim claim;

  @BeforeEach
  void setUp() {
    client.events().v1().events().inAnyNamespace().delete();
    claim = client.persistentVolumeClaims().inNamespace("ns").resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName("c" + System.nanoTime()).withNamespace("ns").endMetadata().build()).create();
  }

  @Test
  void writesEveryFieldARealApiServerRequires() {
    EventRecorder r = new EventRecorder(client, "openstack.org/standalone-cinder", "host-1",
        Clock.fixed(Instant.parse("2026-11-23T10:00:00.123456Z"), ZoneOffset.UTC));
    r.normal(claim, "Provisioning", "Provision", "provisioning");
    List<Event> events = client.events().v1().events().inNamespace("ns").list().getItems();
    assertThat(events).hasSize(1);
    Event e = events.get(0);
    assertThat(e.getEventTime().getTime()).isEqualTo("2026-11-23T10:00:00.123456Z");
    assertThat(e.getReportingController()).isEqualTo("openstack.org/standalone-cinder");
    assertThat(e.getReportingInstance()).isEqualTo("host-1");
    assertThat(e.getAction()).isEqualTo("Provision");
    assertThat(e.getReason()).isEqualTo("Provisioning");
    assertThat(e.getType()).isEqualTo("Normal");
    assertThat(e.getRegarding().getUid()).isEqualTo(claim.getMetadata().getUid());
    assertThat(e.getRegarding().getKind()).isEqualTo("PersistentVolumeClaim");
  }

  @Test
  void repeatsOfAReasonBecomeOneEventWithASeriesAndTheLatestNote() {
    EventRecorder r = new EventRecorder(client, "p", "i", Clock.systemUTC());
    for (int i = 0; i < 5; i++) {
      r.warning(claim, "ProvisioningFailed", "Provision", "Cinder volume v" + i + " went to status error");
    }
    r.warning(claim, "ProvisioningFailed", "Provision", "Cinder unreachable");
    r.warning(claim, "ProvisioningCleanupFailed", "Provision", "another reason");
    List<Event> events = client.events().v1().events().inNamespace("ns").list().getItems();
    assertThat(events).hasSize(2);
    Event repeated = events.stream().filter(e -> e.getReason().equals("ProvisioningFailed")).findFirst()
        .orElseThrow();
    assertThat(repeated.getSeries().getCount()).isEqualTo(6);
    assertThat(repeated.getNote()).isEqualTo("Cinder unreachable");
  }

  @Test
  void longNotesAreTruncatedToTheApiLimit() {
    EventRecorder r = new EventRecorder(client, "p", "i", Clock.systemUTC());
    r.warning(claim, "ProvisioningFailed", "Provision", "x".repeat(5000));
    Event e = client.events().v1().events().inNamespace("ns").list().getItems().get(0);
    assertThat(e.getNote()).hasSize(1024).endsWith("...");
  }

  /** The background writer, kept busy until release is counted down; onDrop counts what it drops. */
  private static ExecutorService busyWriter(CountDownLatch release, Runnable onDrop) {
    ExecutorService writer = EventRecorder.backgroundWriter(onDrop);
    writer.execute(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return writer;
  }

  @Test
  void theBackgroundWriterWritesInOrderWithoutTheCallerWaiting() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService writer = busyWriter(release, () -> {
      throw new AssertionError("nothing should be dropped");
    });
    EventRecorder r = new EventRecorder(client, "p", "i", Clock.systemUTC(), writer);
    r.normal(claim, "Provisioning", "Provision", "first");
    r.warning(claim, "ProvisioningFailed", "Provision", "second");
    r.normal(claim, "ProvisioningSucceeded", "Provision", "third");
    assertThat(client.events().v1().events().inNamespace("ns").list().getItems())
        .as("nothing written while the writer is busy: the caller did not wait").isEmpty();

    release.countDown();
    writer.shutdown();
    assertThat(writer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(client.events().v1().events().inNamespace("ns").list().getItems().stream()
        .sorted(Comparator.comparing((Event e) -> e.getEventTime().getTime())).map(Event::getNote))
        .containsExactly("first", "second", "third");
  }

  @Test
  void aFullQueueDropsEventsInsteadOfBlockingTheCaller() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger dropped = new AtomicInteger();
    ExecutorService writer = busyWriter(release, dropped::incrementAndGet);
    EventRecorder r = new EventRecorder(client, "p", "i", Clock.systemUTC(), writer);
    for (int i = 0; i < EventRecorder.MAX_QUEUED + 5; i++) {
      r.normal(claim, "Reason" + i, "Provision", "note " + i);
    }
    release.countDown();
    writer.shutdown();
    assertThat(writer.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    assertThat(client.events().v1().events().inNamespace("ns").list().getItems()).hasSize(EventRecorder.MAX_QUEUED);
    assertThat(dropped).hasValue(5);
  }

  /** A clock the test moves. */
  private static final class MovingClock extends Clock {
    private Instant now = Instant.parse("2026-12-07T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private final MovingClock clock = new MovingClock();
  /** The deferrals' timers, run when the test says. */
  private final List<Runnable> timers = new ArrayList<>();

  private EventRecorder deferring(java.util.concurrent.Executor writer) {
    return new EventRecorder(client, "p", "i", clock, writer, (delay, task) -> {
      assertThat(delay).isEqualTo(Duration.ofSeconds(5));
      timers.add(task);
    });
  }

  private void deferProvisioning(EventRecorder r, PersistentVolumeClaim c) {
    r.defer(c, EventRecorder.Type.Normal, "Provisioning", "Provision", "taken up", Duration.ofSeconds(5),
        "ProvisioningSucceeded");
  }

  private void runTimers() {
    List.copyOf(timers).forEach(Runnable::run);
    timers.clear();
  }

  /** The Events' reasons in the order they were written (the mock server's resourceVersion counts writes). */
  private List<String> reasonsInOrder() {
    return client.events().v1().events().inNamespace("ns").list().getItems().stream()
        .sorted(Comparator.comparing((Event e) -> Long.parseLong(e.getMetadata().getResourceVersion())))
        .map(Event::getReason).toList();
  }

  @Test
  void aDeferredEventIsDroppedWhenItsOutcomeComesWithinTheDeferral() {
    EventRecorder r = deferring(Runnable::run);
    deferProvisioning(r, claim);
    assertThat(reasonsInOrder()).as("waiting").isEmpty();
    clock.advance(Duration.ofSeconds(2));
    r.normal(claim, "ProvisioningSucceeded", "Provision", "done");
    runTimers();
    r.flush(claim);
    assertThat(reasonsInOrder()).containsExactly("ProvisioningSucceeded");
  }

  @Test
  void aDeferredEventIsWrittenWithItsOwnTimeBeforeTheObjectsNextEvent() {
    EventRecorder r = deferring(Runnable::run);
    deferProvisioning(r, claim);
    clock.advance(Duration.ofSeconds(1));
    r.warning(claim, "ProvisioningFailed", "Provision", "quota");
    runTimers();
    List<Event> events = client.events().v1().events().inNamespace("ns").list().getItems();
    assertThat(reasonsInOrder()).containsExactly("Provisioning", "ProvisioningFailed");
    assertThat(events).filteredOn(e -> e.getReason().equals("Provisioning")).singleElement()
        .satisfies(e -> assertThat(e.getEventTime().getTime()).isEqualTo("2026-12-07T10:00:00.000000Z"));
  }

  @Test
  void theDeferralsEndOrAFlushWritesIt() {
    EventRecorder r = deferring(Runnable::run);
    deferProvisioning(r, claim);
    clock.advance(Duration.ofSeconds(5));
    runTimers();
    assertThat(reasonsInOrder()).containsExactly("Provisioning");
    r.normal(claim, "ProvisioningSucceeded", "Provision", "done");
    assertThat(reasonsInOrder()).containsExactly("Provisioning", "ProvisioningSucceeded");

    PersistentVolumeClaim other = client.persistentVolumeClaims().inNamespace("ns").resource(
        new PersistentVolumeClaimBuilder().withNewMetadata().withName("o" + System.nanoTime()).withNamespace("ns")
            .endMetadata().build()).create();
    deferProvisioning(r, other);
    r.flush(other);
    r.normal(other, "ProvisioningSucceeded", "Provision", "done");
    assertThat(client.events().v1().events().inNamespace("ns").list().getItems().stream()
        .filter(e -> e.getRegarding().getUid().equals(other.getMetadata().getUid())).map(Event::getReason))
        .as("flushed: the claim waited, and said so").containsExactlyInAnyOrder("Provisioning",
            "ProvisioningSucceeded");
  }

  @Test
  void itsOutcomeAfterTheDeferralPassedDoesNotDropIt() {
    EventRecorder r = deferring(Runnable::run);
    deferProvisioning(r, claim);
    clock.advance(Duration.ofSeconds(6)); // the timer is late
    r.normal(claim, "ProvisioningSucceeded", "Provision", "done");
    runTimers();
    assertThat(reasonsInOrder()).containsExactly("Provisioning", "ProvisioningSucceeded");
  }

  @Test
  void anotherObjectsEventsAndARepeatLeaveItWaiting() {
    EventRecorder r = deferring(Runnable::run);
    PersistentVolumeClaim other = client.persistentVolumeClaims().inNamespace("ns").resource(
        new PersistentVolumeClaimBuilder().withNewMetadata().withName("o" + System.nanoTime()).withNamespace("ns")
            .endMetadata().build()).create();
    deferProvisioning(r, claim);
    r.warning(other, "ProvisioningFailed", "Provision", "another claim");
    deferProvisioning(r, claim);
    r.normal(claim, "ProvisioningSucceeded", "Provision", "done");
    runTimers();
    assertThat(reasonsInOrder()).containsExactly("ProvisioningFailed", "ProvisioningSucceeded");
  }

  @Test
  void theBackgroundWriterKeepsADeferredEventBeforeTheObjectsNextOne() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService writer = busyWriter(release, () -> {
      throw new AssertionError("nothing should be dropped");
    });
    EventRecorder r = deferring(writer);
    deferProvisioning(r, claim);
    clock.advance(Duration.ofSeconds(5));
    runTimers(); // handed to the busy writer
    clock.advance(Duration.ofSeconds(1));
    r.warning(claim, "ProvisioningFailed", "Provision", "quota");
    PersistentVolumeClaim other = client.persistentVolumeClaims().inNamespace("ns").resource(
        new PersistentVolumeClaimBuilder().withNewMetadata().withName("o" + System.nanoTime()).withNamespace("ns")
            .endMetadata().build()).create();
    deferProvisioning(r, other);
    clock.advance(Duration.ofSeconds(1));
    r.normal(other, "Resizing", "Resize", "next");
    release.countDown();
    writer.shutdown();
    assertThat(writer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(reasonsInOrder()).containsExactly("Provisioning", "ProvisioningFailed", "Provisioning", "Resizing");
  }
}
