package io.github.standalonecinder.provisioner.leader;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The fence of a replica under leader election: held while this replica holds the Lease and its last successful
 * renewal <em>started</em> less than the renew deadline ago, by the monotonic clock. Another replica takes the
 * Lease only after seeing the same record unchanged for a whole lease duration on its own clock, which starts
 * after our renewal was stored; so the fence closes at least {@code leaseDuration - renewDeadline} before anyone
 * else can lead, however long this process was paused.
 */
public final class Leadership implements Fence {
  private final LongSupplier nanoClock;
  private final long renewDeadlineNanos;
  private volatile boolean leading;
  private volatile long renewStartedAt;

  public Leadership(Duration renewDeadline, LongSupplier nanoClock) {
    this.renewDeadlineNanos = renewDeadline.toNanos();
    this.nanoClock = nanoClock;
  }

  public Leadership(Duration renewDeadline) {
    this(renewDeadline, System::nanoTime);
  }

  /** A create or renewal of our Lease that started at {@code startedAt} (monotonic nanos) was stored. */
  void renewed(long startedAt) {
    renewStartedAt = startedAt;
    leading = true;
  }

  void lost() {
    leading = false;
  }

  /** Whether this replica believes it leads (it may be past its renew deadline: see {@link #held}). */
  public boolean leading() {
    return leading;
  }

  /** Leading, but the last renewal is older than the renew deadline: the Lease must be taken as lost. */
  public boolean expired() {
    return leading && !withinDeadline();
  }

  @Override
  public boolean held() {
    return leading && withinDeadline();
  }

  private boolean withinDeadline() {
    return nanoClock.getAsLong() - renewStartedAt < renewDeadlineNanos;
  }
}
