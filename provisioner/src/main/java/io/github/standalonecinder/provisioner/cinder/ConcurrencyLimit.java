package io.github.standalonecinder.provisioner.cinder;

/**
 * How many Cinder operations (volume creates and deletes, from the request until Cinder is seen done with them)
 * may be under way at once: the decisions of {@link AdaptiveCinderGateway}, as pure functions of what was seen.
 *
 * <ul>
 *   <li>It starts at {@link #INITIAL} (or the ceiling, when lower) and, while Cinder answers as fast as it did
 *       unloaded, grows: by one per operation done until the first back-off (slow start: doubles every round),
 *       then by one per round (additive increase).
 *       After a back-off it doubles again up to just below the limit it backed off from, then goes on by one per
 *       round: a limit far below what Cinder serves leaves its backend idle while polls notice finished volumes.
 *       It grows only while the operations under way use at least half
 *       of it, so an idle controller does not hold a limit it never tried.
 *   <li>It halves when Cinder says it is overloaded (429, 413 overLimit, 503) or when an operation took more than
 *       {@link #LATENCY_TOLERANCE} times the fastest one seen of its kind (by the last poll that still saw it under
 *       way) (a queue is building in Cinder), at most
 *       once per round: only an operation started after the last back-off can cause the next one.
 *   <li>It stays between 1 and the ceiling ({@code --workers}).
 * </ul>
 *
 * @param limit the current limit (fractional: additive increase adds 1/limit per operation)
 * @param slowStartUntil slow start goes on while the limit is below this (the ceiling until the first back-off,
 *     then one below the limit backed off from)
 * @param lastBackOffNanos {@link System#nanoTime()} of the last back-off
 */
public record ConcurrencyLimit(double limit, double slowStartUntil, long lastBackOffNanos) {
  /**
   * The limit a controller starts with (or its ceiling, when lower): the workers of the former default, so a
   * controller is never slower than that at first; it grows from there while Cinder keeps up.
   */
  public static final int INITIAL = 16;
  /**
   * An operation slower than this many times the fastest one of its kind means Cinder is queueing more than it
   * should. Some queue is wanted: the volumes waiting in Cinder keep its backend busy while polls notice the ones
   * done (a 2 s Cinder is read at 2, 3 and 5 s); at 2x a simulator serving 8 at once made 200 volumes in 148 s
   * against 50 s of capacity, the limit held below what kept it busy. A real Cinder's operations also slow down
   * while it does more of them at once and still gets more done: at 3x the lab's Cinder (1-7 s creates under
   * load) held the limit at 9-28 and 100 claims took x1.25 of 100 volumes made all at once.
   */
  public static final double LATENCY_TOLERANCE = 6.0;

  /** The starting state under {@code ceiling}. */
  public static ConcurrencyLimit initial(int ceiling, long nowNanos) {
    return new ConcurrencyLimit(Math.min(INITIAL, ceiling), ceiling, nowNanos);
  }

  /** Operations that may be under way at once. */
  public int permits() {
    return Math.max(1, (int) limit);
  }

  /**
   * An operation started at {@code startedNanos} was seen done at {@code nowNanos}, having taken at least
   * {@code tookAtLeastNanos} (it was still under way when last looked at before), the fastest of its kind having
   * been seen done after {@code fastestNanos}, with {@code inFlight} operations under way (itself included). The
   * lower bound is what is compared: polls read a volume now and then, and a volume read one poll late is not a
   * slower Cinder.
   */
  public ConcurrencyLimit settled(int ceiling, long startedNanos, long nowNanos, long tookAtLeastNanos,
      long fastestNanos, int inFlight) {
    if (tookAtLeastNanos > LATENCY_TOLERANCE * fastestNanos) {
      return backOff(startedNanos, nowNanos);
    }
    if (inFlight * 2 < permits()) {
      return this;
    }
    double grown = limit < slowStartUntil ? limit + 1 : limit + 1 / limit;
    return new ConcurrencyLimit(Math.min(ceiling, grown), slowStartUntil, lastBackOffNanos);
  }

  /**
   * An operation started at {@code startedNanos} was left before it was seen done, having been seen under way
   * {@code tookAtLeastNanos} after it started (the claim left its worker, to be read again later): past the
   * tolerance of the fastest one of its kind ({@code fastestNanos}, 0 when none was seen yet) a queue is building
   * in Cinder and the limit backs off; else it says nothing yet.
   */
  public ConcurrencyLimit unfinished(long startedNanos, long nowNanos, long tookAtLeastNanos, long fastestNanos) {
    if (fastestNanos > 0 && tookAtLeastNanos > LATENCY_TOLERANCE * fastestNanos) {
      return backOff(startedNanos, nowNanos);
    }
    return this;
  }

  /** Cinder refused, at {@code nowNanos}, a call started at {@code startedNanos} as overloaded. */
  public ConcurrencyLimit overloaded(long startedNanos, long nowNanos) {
    return backOff(startedNanos, nowNanos);
  }

  private ConcurrencyLimit backOff(long startedNanos, long nowNanos) {
    if (startedNanos - lastBackOffNanos < 0) {
      return this; // started before the last back-off: what it met was already answered
    }
    double halved = Math.max(1, limit / 2);
    // back up quickly to just below where Cinder pushed back, then feel the way on from there
    return new ConcurrencyLimit(halved, Math.max(halved, limit - 1), nowNanos);
  }

  /** Whether an answer is Cinder saying it is overloaded: 429, 413 other than quota, 503. */
  public static boolean overload(CinderException e) {
    return e.kind() == CinderException.Kind.RATE_LIMITED
        || e.kind() == CinderException.Kind.SERVER_ERROR && e.httpStatus() == 503;
  }
}
