package io.github.standalonecinder.provisioner.leader;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The elector driven tick by tick on a fake monotonic clock against the CRUD mock API server: who may lead when,
 * and when the fence closes.
 */
@EnableKubernetesMockClient(crud = true)
class LeaseElectorTest {
  static KubernetesClient client;
  static final Duration LEASE = Duration.ofSeconds(15);

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  /** One replica: its elector, its fence, what it was told. */
  final class Replica implements LeaseElector.Listener {
    final Leadership leadership = new Leadership(Duration.ofSeconds(10), nanos::get);
    final LeaseElector elector;
    final List<String> heard = new ArrayList<>();

    Replica(String identity) {
      elector = new LeaseElector(client, LeaseElector.Config.of("ns", "lease", identity, LEASE), leadership, this,
          nanos::get, Clock.systemUTC());
    }

    @Override
    public void startedLeading() {
      heard.add("started");
    }

    @Override
    public void stoppedLeading(String why) {
      heard.add("stopped: " + why);
    }
  }

  @BeforeEach
  void clean() {
    client.leases().inNamespace("ns").delete();
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  private String holder() {
    Lease l = client.leases().inNamespace("ns").withName("lease").get();
    return l == null ? null : l.getSpec().getHolderIdentity();
  }

  @Test
  void aFreeLeaseIsTakenAndTheFenceHoldsUntilTheRenewDeadline() {
    Replica a = new Replica("a");
    a.elector.tick();
    assertThat(holder()).isEqualTo("a");
    assertThat(a.heard).containsExactly("started");
    assertThat(a.leadership.held()).isTrue();

    advance(Duration.ofSeconds(9));
    assertThat(a.leadership.held()).isTrue();
    a.elector.tick(); // renews: the deadline counts from here
    advance(Duration.ofSeconds(9));
    assertThat(a.leadership.held()).isTrue();

    advance(Duration.ofSeconds(2)); // 11 s since the last renewal, e.g. paused
    assertThat(a.leadership.held()).as("fence closed before anyone else may lead").isFalse();
    a.elector.tick();
    assertThat(a.heard).hasSize(2).last().asString().startsWith("stopped: the Lease was not renewed");
    a.elector.tick();
    assertThat(a.heard).as("a replica that lost the Lease never campaigns again").hasSize(2);
  }

  @Test
  void aCandidateTakesOverOnlyAfterSeeingTheSameRecordForALeaseDuration() {
    Replica a = new Replica("a");
    Replica b = new Replica("b");
    a.elector.tick();
    b.elector.tick(); // first sight of a's record
    advance(Duration.ofSeconds(9));
    b.elector.tick();
    assertThat(holder()).isEqualTo("a");

    a.elector.tick(); // a renews: a new version, which b counts from anew
    b.elector.tick();
    advance(Duration.ofSeconds(9)); // 18 s since b first saw the Lease, 9 s since the renewal
    b.elector.tick();
    assertThat(holder()).as("a renewal resets the candidate's count").isEqualTo("a");

    advance(Duration.ofSeconds(7)); // 16 s since b saw a's last renewal; a is stalled
    b.elector.tick();
    assertThat(holder()).isEqualTo("b");
    assertThat(b.heard).containsExactly("started");
    assertThat(a.leadership.held()).as("a's fence closed 10 s after its renewal, before b took over").isFalse();

    a.elector.tick();
    assertThat(a.heard).containsExactly("started", "stopped: the Lease was not renewed within the renew deadline "
        + "of 10000 ms");
  }

  @Test
  void aLeaderThatSeesAnotherHolderStops() {
    Replica a = new Replica("a");
    a.elector.tick();
    Lease l = client.leases().inNamespace("ns").withName("lease").get();
    client.leases().inNamespace("ns").resource(new LeaseBuilder(l).editSpec().withHolderIdentity("intruder")
        .endSpec().build()).update();
    a.elector.tick();
    assertThat(a.heard).containsExactly("started", "stopped: Lease lease is held by intruder");
    assertThat(a.leadership.held()).isFalse();
  }

  @Test
  void aRestartedContainerOfTheSamePodLeadsAtOnce() {
    client.leases().inNamespace("ns").resource(new LeaseBuilder().withNewMetadata().withName("lease")
        .withNamespace("ns").endMetadata().withNewSpec().withHolderIdentity("pod-0").withLeaseDurationSeconds(15)
        .withRenewTime(ZonedDateTime.now()).withAcquireTime(ZonedDateTime.now()).withLeaseTransitions(3)
        .endSpec().build()).create();
    Replica again = new Replica("pod-0");
    again.elector.tick();
    assertThat(again.heard).containsExactly("started");
    assertThat(holder()).isEqualTo("pod-0");

    Replica other = new Replica("pod-1");
    other.elector.tick();
    assertThat(other.heard).as("a fresh Lease of another pod is not taken").isEmpty();
  }

  @Test
  void aReleasedLeaseIsTakenByTheStandbyAtOnce() {
    Replica a = new Replica("a");
    Replica b = new Replica("b");
    a.elector.tick();
    b.elector.tick();
    a.elector.release();
    assertThat(holder()).isNull();
    assertThat(a.leadership.leading()).isFalse();

    b.elector.tick();
    assertThat(holder()).isEqualTo("b");
    assertThat(client.leases().inNamespace("ns").withName("lease").get().getSpec().getLeaseTransitions())
        .isEqualTo(1);
  }

  @Test
  void aWriteWhoseReadIsOlderThanTheRenewDeadlineIsNotSent() {
    Replica a = new Replica("a");
    a.elector.tick();
    Lease before = client.leases().inNamespace("ns").withName("lease").get();
    // The clock jumps between the read and the write of one tick: the process was paused in between.
    AtomicLong calls = new AtomicLong();
    Leadership fence = new Leadership(Duration.ofSeconds(10), nanos::get);
    LeaseElector paused = new LeaseElector(client, LeaseElector.Config.of("ns", "lease", "a", LEASE), fence,
        a, () -> calls.incrementAndGet() >= 3 ? nanos.get() + Duration.ofSeconds(30).toNanos() : nanos.get(),
        Clock.systemUTC());
    paused.tick();
    assertThat(client.leases().inNamespace("ns").withName("lease").get().getMetadata().getResourceVersion())
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(fence.leading()).isFalse();
  }
}
