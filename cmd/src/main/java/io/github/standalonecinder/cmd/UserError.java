package io.github.standalonecinder.cmd;

/**
 * A problem the user can fix (bad flag, bad config, unreachable cloud): printed as one line, exit code 2. An error
 * about the command line or a local input the user gave also points at the command's help.
 */
final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean aboutInput;

  UserError(String message) {
    this(message, false);
  }

  private UserError(String message, boolean aboutInput) {
    super(message);
    this.aboutInput = aboutInput;
  }

  /** A bad flag, value, file or variable: the line ends with "see '... --help'". */
  static UserError input(String message) {
    return new UserError(message, true);
  }

  boolean aboutInput() {
    return aboutInput;
  }
}
