package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The decorator's bookkeeping, with a clock the test moves: a stage's create or delete holds a place until the
 * stage closes, and what the stage saw of its volume feeds the limit.
 */
class AdaptiveCinderGatewayTest {
  static final long SECOND = Duration.ofSeconds(1).toNanos();
  final AtomicLong now = new AtomicLong(SECOND);
  final CinderGateway cinder = mock(CinderGateway.class);
  final AtomicInteger ids = new AtomicInteger();

  static CinderVolume volume(String id, String status) {
    return new CinderVolume(id, "n-" + id, status, 1, null, "nova", null, false, List.of(), null);
  }

  static VolumeCreateRequest request() {
    return new VolumeCreateRequest("pvc", 1, null, null, null, Map.of(), null, null);
  }

  AdaptiveCinderGateway limiter(int ceiling) {
    when(cinder.createVolume(any())).thenAnswer(i -> volume("v" + ids.incrementAndGet(), "creating"));
    return new AdaptiveCinderGateway(ceiling, now::get);
  }

  /** A stage on a thread of its own, as each worker runs its own; open until {@code close} counts down. */
  static CompletableFuture<Void> stage(Consumer<CountDownLatch> work, CountDownLatch close) {
    return CompletableFuture.runAsync(() -> {
      try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
        work.accept(close);
        close.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }, r -> new Thread(r).start());
  }

  @Test
  void aStagesCreateHoldsAPlaceUntilTheStageCloses() throws Exception {
    AdaptiveCinderGateway limiter = limiter(2);
    CinderGateway gw = limiter.around(cinder);
    CountDownLatch firstEnds = new CountDownLatch(1);
    CountDownLatch othersEnd = new CountDownLatch(1);
    stage(c -> gw.createVolume(request()), firstEnds);
    CompletableFuture<Void> second = stage(c -> gw.createVolume(request()), othersEnd);
    CompletableFuture<Void> third = stage(c -> gw.createVolume(request()), othersEnd);
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.get() == 2 && limiter.inFlight() == 2);
    Thread.sleep(100);
    assertThat(ids.get()).as("the third waits for a place").isEqualTo(2);

    firstEnds.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.get() == 3);
    othersEnd.countDown();
    CompletableFuture.allOf(second, third).get(10, TimeUnit.SECONDS);
    assertThat(limiter.inFlight()).as("every closed stage gave its place back").isZero();
  }

  @Test
  void aPlaceIsGivenBackOnceCinderIsSeenDoneWithTheVolume() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      String id = gw.createVolume(request()).id();
      when(cinder.getVolume(id)).thenReturn(Optional.of(volume(id, "available")));
      gw.getVolume(id);
      assertThat(limiter.inFlight()).as("the export and the PV need no place").isZero();
      gw.createVolume(request()); // a second create in the stage takes one again
      assertThat(limiter.inFlight()).isEqualTo(1);
    }
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void aStageHoldsOnePlaceForAllItsOperations() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.deleteVolume("v1")).thenReturn(true);
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      gw.createVolume(request());
      gw.deleteVolume("v1"); // a failed volume replaced in the same pass
      gw.createVolume(request());
      assertThat(limiter.inFlight()).isEqualTo(1);
    }
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void callsOutsideAStageAndReadsTakeNoPlace() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.deleteVolume(any())).thenReturn(true);
    gw.createVolume(request());
    gw.deleteVolume("a");
    assertThat(limiter.inFlight()).as("the sweeper and the CLI are not paced").isZero();
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      gw.getVolume("a");
      gw.findVolumes("n", Map.of());
      assertThat(limiter.inFlight()).isZero();
    }
  }

  @Test
  void aFailedCallKeepsItsPlaceOnlyUntilTheStageCloses() {
    AdaptiveCinderGateway limiter = new AdaptiveCinderGateway(4, now::get);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.createVolume(any())).thenThrow(new CinderException(CinderException.Kind.BAD_REQUEST, 400, "bad"));
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      assertThatThrownBy(() -> gw.createVolume(request())).isInstanceOf(CinderException.class);
    }
    assertThat(limiter.inFlight()).isZero();
    assertThat(limiter.permits()).as("a bad request says nothing of Cinder's load").isEqualTo(4);
  }

  @Test
  void overloadFromAnyCallHalvesTheLimit() {
    AdaptiveCinderGateway limiter = limiter(32);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.listVolumeTypes()).thenThrow(new CinderException(CinderException.Kind.SERVER_ERROR, 503, "busy"));
    when(cinder.getVolume("x")).thenThrow(new CinderException(CinderException.Kind.RATE_LIMITED, 429, "slow"));
    when(cinder.getVolume("y")).thenThrow(new CinderException(CinderException.Kind.SERVER_ERROR, 500, "bug"));
    now.addAndGet(SECOND);
    assertThatThrownBy(gw::listVolumeTypes).isInstanceOf(CinderException.class);
    assertThat(limiter.permits()).isEqualTo(8);
    now.addAndGet(SECOND);
    assertThatThrownBy(() -> gw.getVolume("x")).isInstanceOf(CinderException.class);
    assertThat(limiter.permits()).isEqualTo(4);
    now.addAndGet(SECOND);
    assertThatThrownBy(() -> gw.getVolume("y")).isInstanceOf(CinderException.class);
    assertThat(limiter.permits()).as("a 500 is a fault, not a load").isEqualTo(4);
  }

  /** One stage: creates a volume, reads it {@code creating} after {@code busy} s, then as {@code last}. */
  void createAndWait(CinderGateway gw, long busy, long total, String last) {
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      long t0 = now.get();
      String id = gw.createVolume(request()).id();
      now.set(t0 + busy);
      when(cinder.getVolume(id)).thenReturn(Optional.of(volume(id, "creating")));
      gw.getVolume(id);
      if (last != null) {
        now.set(t0 + total);
        when(cinder.getVolume(id)).thenReturn(Optional.of(volume(id, last)));
        gw.getVolume(id);
      }
    }
  }

  @Test
  void fastCreatesGrowTheLimitAndASlowOneHalvesIt() {
    AdaptiveCinderGateway limiter = limiter(64);
    CinderGateway gw = limiter.around(cinder);
    // the stages of 16 workers at once: each create done in ~1 s while the others are under way
    List<AdaptiveCinderGateway.Stage> open = new java.util.ArrayList<>();
    for (int i = 0; i < 15; i++) {
      open.add(AdaptiveCinderGateway.openStage());
      gw.createVolume(request());
    }
    createAndWait(gw, SECOND / 2, SECOND, "available");
    assertThat(limiter.permits()).as("slow start: one more per operation done").isEqualTo(17);
    createAndWait(gw, 0, SECOND, "error");
    assertThat(limiter.permits()).as("an error says nothing of the pace").isEqualTo(17);
    createAndWait(gw, 2 * SECOND, 3 * SECOND, "available");
    assertThat(limiter.permits()).as("2x the fastest: a queue Cinder keeps its backend busy with").isEqualTo(18);
    createAndWait(gw, 7 * SECOND, 8 * SECOND, "available");
    assertThat(limiter.permits()).as("under way at 7x the fastest: back off").isEqualTo(9);
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    assertThat(limiter.inFlight()).isZero();
  }

  @Test
  void aStageLeftBeforeItsVolumeWasDoneBacksOffOnlyPastTheTolerance() {
    AdaptiveCinderGateway limiter = limiter(64);
    CinderGateway gw = limiter.around(cinder);
    createAndWait(gw, 2 * SECOND, 2 * SECOND, null);
    assertThat(limiter.permits()).as("nothing known of Cinder's pace yet").isEqualTo(16);
    createAndWait(gw, SECOND / 2, SECOND, "available"); // the fastest: 1 s (alone: no growth)
    createAndWait(gw, 5 * SECOND, 5 * SECOND, null);
    assertThat(limiter.permits()).as("left at 5 s: within 6x").isEqualTo(16);
    now.addAndGet(SECOND);
    createAndWait(gw, 15 * SECOND, 15 * SECOND, null);
    assertThat(limiter.permits()).as("the claim parked at 15 s, 15x the fastest").isEqualTo(8);
  }

  @Test
  void aDeleteIsDoneWhenTheVolumeIsGone() {
    AdaptiveCinderGateway limiter = limiter(64);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.deleteVolume("a")).thenReturn(true);
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      gw.deleteVolume("a");
      now.addAndGet(SECOND);
      when(cinder.getVolume("a")).thenReturn(Optional.of(volume("a", "deleting")));
      gw.getVolume("a");
      now.addAndGet(SECOND);
      when(cinder.getVolume("a")).thenReturn(Optional.empty());
      gw.getVolume("a");
    }
    // alone, so the limit did not grow; then a delete seen under way at 7x that: back off
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      gw.deleteVolume("a");
      now.addAndGet(14 * SECOND);
      when(cinder.getVolume("a")).thenReturn(Optional.of(volume("a", "deleting")));
      gw.getVolume("a");
    }
    assertThat(limiter.permits()).isEqualTo(8);
  }

  @Test
  void aVolumeFoundByNameEndsTheOperationAsARead() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    try (AdaptiveCinderGateway.Stage s = AdaptiveCinderGateway.openStage()) {
      String id = gw.createVolume(request()).id();
      when(cinder.findVolumes(any(), any())).thenReturn(List.of(volume(id, "creating")));
      gw.findVolumes("n", Map.of());
      assertThat(limiter.inFlight()).as("still creating").isEqualTo(1);
      when(cinder.findVolumes(any(), any())).thenReturn(List.of(volume("other", "available"),
          volume(id, "available")));
      gw.findVolumes("n", Map.of());
      assertThat(limiter.inFlight()).isZero();
    }
  }
}
