package io.github.standalonecinder.provisioner.leader;

/**
 * A write refused because this replica does not hold a Lease renewed within the renew deadline. Work that meets
 * one stops where it is, as after a crash: every step is idempotent and the new leader picks the work up.
 */
public final class FencedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FencedException(String what) {
    super("not leading (Lease not renewed within the renew deadline): refused " + what, null, false, false);
  }

  /** Whether {@code t} or one of its causes is a refusal by the fence. */
  public static boolean causedBy(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof FencedException) {
        return true;
      }
    }
    return false;
  }
}
