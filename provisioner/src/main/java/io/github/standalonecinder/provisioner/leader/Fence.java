package io.github.standalonecinder.provisioner.leader;

/**
 * Whether this replica may change anything in Cinder or Kubernetes right now. Every mutating call goes through
 * one ({@link FencingInterceptor} for Kubernetes, {@link FencedCinderGateway} for Cinder), so a replica that lost
 * its Lease, or was paused past its renew deadline, makes no further write even before it notices.
 */
public interface Fence {
  /** For a replica that runs without leader election: always held. */
  Fence OPEN = () -> true;

  boolean held();

  /** Throws {@link FencedException} unless held; {@code what} names the refused call in the message. */
  default void check(String what) {
    if (!held()) {
      throw new FencedException(what);
    }
  }
}
