package io.github.standalonecinder.provisioner.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderException.Kind;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The table of docs/install.md, "How Cinder's answers are handled", row by row. */
class CinderFailuresTest {
  @ParameterizedTest(name = "{0} on {1}")
  @CsvSource({
      "BAD_REQUEST,     create, permanent, Cinder refused: ",
      "BAD_REQUEST,     export, permanent, Cinder refused: ",
      "FORBIDDEN,       create, permanent, Cinder refused: ",
      "NOT_FOUND,       create, permanent, Cinder refused: ",
      "NOT_FOUND,       read,   retryable, ''",
      "CONFLICT,        delete, retryable, ''",
      "UNAUTHORIZED,    read,   retryable, ''",
      "QUOTA_EXCEEDED,  create, retryable, Cinder quota exceeded: ",
      "RATE_LIMITED,    create, retryable, Cinder rate limit: ",
      "SERVER_ERROR,    create, retryable, ''",
      "UNREACHABLE,     read,   retryable, Cinder unreachable: ",
      "PROTOCOL,        read,   retryable, ''"})
  void eachAnswerIsClassifiedOnce(Kind kind, String call, String expected, String prefix) {
    CinderException e = new CinderException(kind, 0, "x: HTTP n: words", null, null);
    ProvisioningException p = call.equals("create") ? CinderFailures.ofCreate("create Cinder volume v", e)
        : CinderFailures.of(call + " Cinder volume v", e);
    assertThat(p.permanent()).isEqualTo(expected.equals("permanent"));
    assertThat(p.getMessage()).startsWith("could not " + call + " Cinder volume v: " + prefix)
        .endsWith("x: HTTP n: words");
  }

  @Test
  void quotaIsRetriedSlowlyAndRateLimitsAfterCinderSays() {
    ProvisioningException quota = CinderFailures.ofCreate("create", new CinderException(Kind.QUOTA_EXCEEDED, 413,
        "q", null, null));
    assertThat(quota.retryAfter()).contains(CinderFailures.QUOTA_RETRY);
    ProvisioningException limited = CinderFailures.ofCreate("create", new CinderException(Kind.RATE_LIMITED, 429,
        "r", Duration.ofSeconds(7), null));
    assertThat(limited.retryAfter()).contains(Duration.ofSeconds(7));
  }

  @Test
  void aRateLimitMakesEveryWorkerWaitNotOnlyTheOneRefused() throws Exception {
    CinderGateway cinder = mock(CinderGateway.class);
    List<Long> callTimes = new CopyOnWriteArrayList<>();
    AtomicBoolean refuseOnce = new AtomicBoolean(true);
    when(cinder.createVolume(any())).thenAnswer(inv -> {
      if (refuseOnce.getAndSet(false)) {
        throw new CinderException(Kind.RATE_LIMITED, 429, "slow down", Duration.ofSeconds(2), null);
      }
      callTimes.add(System.nanoTime());
      return null;
    });
    when(cinder.getVolume(any())).thenAnswer(inv -> {
      callTimes.add(System.nanoTime());
      return Optional.empty();
    });
    CinderGateway shared = SharedBackoff.wrap(cinder);
    long refusedAt = System.nanoTime();
    try {
      shared.createVolume(new VolumeCreateRequest("v", 1, null, null, null, Map.of(), null, null));
    } catch (CinderException expected) {
      // the refusal
    }
    ExecutorService workers = Executors.newFixedThreadPool(4);
    CountDownLatch done = new CountDownLatch(4);
    for (int i = 0; i < 4; i++) {
      int n = i;
      workers.execute(() -> {
        if (n % 2 == 0) {
          shared.getVolume("id");
        } else {
          shared.createVolume(new VolumeCreateRequest("v" + n, 1, null, null, null, Map.of(), null, null));
        }
        done.countDown();
      });
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    workers.shutdown();
    assertThat(callTimes).hasSize(4).allSatisfy(t -> assertThat(Duration.ofNanos(t - refusedAt))
        .as("no worker's call before Retry-After").isGreaterThanOrEqualTo(Duration.ofMillis(1900)));
  }
}
