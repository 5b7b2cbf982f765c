package io.github.standalonecinder.provisioner.cinder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The decorator's bookkeeping, with a clock the test moves: which call holds a place, and what frees it. */
class AdaptiveCinderGatewayTest {
  static final long SECOND = Duration.ofSeconds(1).toNanos();
  final AtomicLong now = new AtomicLong(SECOND);
  final CinderGateway cinder = mock(CinderGateway.class);
  final AtomicInteger ids = new AtomicInteger();

  static CinderVolume volume(String id, String status) {
    return new CinderVolume(id, "n-" + id, status, 1, null, "nova", null, false, List.of(), null);
  }

  static VolumeCreateRequest request() {
    return new VolumeCreateRequest("pvc", 1, null, null, null, java.util.Map.of(), null, null);
  }

  /** The call made on a thread of its own, as each worker makes its own (a thread's next create frees its last). */
  static <T> T elsewhere(java.util.function.Supplier<T> call) {
    try {
      return CompletableFuture.supplyAsync(call, r -> new Thread(r).start()).get();
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  AdaptiveCinderGateway limiter(int ceiling) {
    when(cinder.createVolume(any())).thenAnswer(i -> volume("v" + ids.incrementAndGet(), "creating"));
    return new AdaptiveCinderGateway(ceiling, now::get);
  }

  @Test
  void aCreateHoldsItsPlaceUntilTheVolumeIsSeenAvailable() throws Exception {
    AdaptiveCinderGateway limiter = limiter(2);
    CinderGateway gw = limiter.around(cinder);
    String first = elsewhere(() -> gw.createVolume(request())).id();
    elsewhere(() -> gw.createVolume(request()));
    CompletableFuture<CinderVolume> third = CompletableFuture.supplyAsync(() -> gw.createVolume(request()),
        r -> new Thread(r).start());
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.get() == 2 && !third.isDone());

    when(cinder.getVolume(first)).thenReturn(Optional.of(volume(first, "creating")));
    gw.getVolume(first);
    assertThat(third).as("still creating: no place freed").isNotDone();

    now.addAndGet(SECOND);
    when(cinder.getVolume(first)).thenReturn(Optional.of(volume(first, "available")));
    gw.getVolume(first);
    assertThat(third.get().id()).isEqualTo("v3");
  }

  @Test
  void aDeleteHoldsItsPlaceUntilTheVolumeIsGone() throws Exception {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.deleteVolume("a")).thenReturn(true);
    when(cinder.forceDeleteVolume("a")).thenReturn(true);
    elsewhere(() -> gw.deleteVolume("a"));
    CompletableFuture<CinderVolume> create = CompletableFuture.supplyAsync(() -> gw.createVolume(request()),
        r -> new Thread(r).start());
    when(cinder.getVolume("a")).thenReturn(Optional.of(volume("a", "deleting")));
    gw.getVolume("a");
    assertThat(create).isNotDone();
    when(cinder.getVolume("a")).thenReturn(Optional.empty());
    gw.getVolume("a");
    assertThat(create.get().id()).isEqualTo("v1");
  }

  @Test
  void aFailedOrAlreadyDoneCallGivesItsPlaceBackAtOnce() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.deleteVolume("gone")).thenReturn(false);
    when(cinder.deleteVolume("bad")).thenThrow(new CinderException(CinderException.Kind.BAD_REQUEST, 400, "no"));
    assertThat(gw.deleteVolume("gone")).isFalse();
    assertThatThrownBy(() -> gw.deleteVolume("bad")).isInstanceOf(CinderException.class);
    when(cinder.createVolume(any())).thenReturn(volume("sync", "available"));
    gw.createVolume(request());
    gw.createVolume(request()); // would wait for ever if any of the above still held the only place
    assertThat(limiter.permits()).isEqualTo(1);
  }

  @Test
  void overloadFromAnyCallHalvesTheLimit() {
    AdaptiveCinderGateway limiter = limiter(64);
    CinderGateway gw = limiter.around(cinder);
    when(cinder.listVolumeTypes()).thenThrow(new CinderException(CinderException.Kind.SERVER_ERROR, 503, "busy"));
    assertThat(limiter.permits()).isEqualTo(16);
    now.addAndGet(SECOND);
    assertThatThrownBy(gw::listVolumeTypes).isInstanceOf(CinderException.class);
    assertThat(limiter.permits()).isEqualTo(8);
  }

  /**
   * One round of a busy controller: a second later every volume under way is seen available, and each place it
   * frees is taken again at once by the next claim, up to the limit.
   */
  void round(AdaptiveCinderGateway limiter, CinderGateway gw, List<String> underWay) {
    now.addAndGet(SECOND);
    List<String> done = List.copyOf(underWay);
    underWay.clear();
    for (String id : done) {
      when(cinder.getVolume(id)).thenReturn(Optional.of(volume(id, "available")));
      gw.getVolume(id);
      while (underWay.size() + (done.size() - done.indexOf(id) - 1) < limiter.permits()) {
        underWay.add(elsewhere(() -> gw.createVolume(request())).id());
      }
    }
  }

  @Test
  void fastCreatesGrowTheLimitAndASlowOneHalvesIt() {
    AdaptiveCinderGateway limiter = limiter(64);
    CinderGateway gw = limiter.around(cinder);
    List<String> underWay = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      underWay.add(elsewhere(() -> gw.createVolume(request())).id());
    }
    round(limiter, gw, underWay);
    assertThat(limiter.permits()).as("slow start: doubles in a round of 1 s operations").isEqualTo(32);
    round(limiter, gw, underWay);
    assertThat(limiter.permits()).as("the ceiling").isEqualTo(64);
    assertThat(underWay).hasSize(64);

    String late = underWay.get(1);
    now.addAndGet(4 * SECOND);
    when(cinder.getVolume(late)).thenReturn(Optional.of(volume(late, "available")));
    gw.getVolume(late);
    assertThat(limiter.permits()).as("not looked at for 4 s: maybe done long ago, no back-off").isEqualTo(64);
    String slow = underWay.get(0);
    when(cinder.getVolume(slow)).thenReturn(Optional.of(volume(slow, "creating")));
    gw.getVolume(slow);
    now.addAndGet(SECOND);
    when(cinder.getVolume(slow)).thenReturn(Optional.of(volume(slow, "available")));
    gw.getVolume(slow);
    assertThat(limiter.permits()).as("still creating after 4 s, against 1 s: Cinder is queueing").isEqualTo(32);
  }

  @Test
  void aPlaceNobodyReleasesIsGivenBackAfterTheMaximumHold() throws Exception {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    elsewhere(() -> gw.createVolume(request()));
    now.addAndGet(AdaptiveCinderGateway.MAX_HOLD.toNanos() + SECOND);
    assertThat(elsewhere(() -> gw.createVolume(request())).id()).isEqualTo("v2");
  }

  @Test
  void aThreadStartingAnotherCreateGivesBackThePlaceOfItsLast() {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    String left = gw.createVolume(request()).id();
    assertThat(gw.createVolume(request()).id()).as("the claim of %s left this worker", left).isEqualTo("v2");
    CompletableFuture<CinderVolume> other = CompletableFuture.supplyAsync(() -> gw.createVolume(request()),
        r -> new Thread(r).start());
    await().atMost(Duration.ofSeconds(10)).until(() -> ids.get() == 2 && !other.isDone());
    when(cinder.getVolume(left)).thenReturn(Optional.of(volume(left, "available")));
    gw.getVolume(left);
    assertThat(other).as("the place was given back already: reading the left volume frees nothing more")
        .isNotDone();
    when(cinder.getVolume("v2")).thenReturn(Optional.of(volume("v2", "available")));
    gw.getVolume("v2");
    assertThat(other.join().id()).isEqualTo("v3");
  }

  @Test
  void aVolumeFoundAvailableByNameFreesItsPlace() throws Exception {
    AdaptiveCinderGateway limiter = limiter(1);
    CinderGateway gw = limiter.around(cinder);
    String id = elsewhere(() -> gw.createVolume(request())).id();
    CompletableFuture<CinderVolume> next = CompletableFuture.supplyAsync(() -> gw.createVolume(request()),
        r -> new Thread(r).start());
    when(cinder.findVolumes(any(), any())).thenReturn(List.of(volume(id, "creating")));
    gw.findVolumes("n", java.util.Map.of());
    assertThat(next).isNotDone();
    when(cinder.findVolumes(any(), any())).thenReturn(List.of(volume(id, "available")));
    gw.findVolumes("n", java.util.Map.of());
    assertThat(next.get().id()).isEqualTo("v2");
  }

  @Test
  void onlyCreatesAndDeletesTakeAPlace() throws Exception {
    assertThat(AdaptiveCinderGateway.kindOf(CinderGateway.class.getMethod("createVolume",
        VolumeCreateRequest.class))).isEqualTo("create");
    assertThat(AdaptiveCinderGateway.kindOf(CinderGateway.class.getMethod("deleteVolume", String.class)))
        .isEqualTo("delete");
    assertThat(AdaptiveCinderGateway.kindOf(CinderGateway.class.getMethod("forceDeleteVolume", String.class)))
        .isEqualTo("delete");
    assertThat(AdaptiveCinderGateway.kindOf(CinderGateway.class.getMethod("getVolume", String.class))).isNull();
  }
}
