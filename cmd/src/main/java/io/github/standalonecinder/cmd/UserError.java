package io.github.standalonecinder.cmd;

/** A problem the user can fix (bad flag, bad config, unreachable cloud): printed as one line, exit code 2. */
final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UserError(String message) {
    super(message);
  }
}
