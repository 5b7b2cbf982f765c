package io.github.standalonecinder.cmd;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code standalone-cinder} command line. */
@Command(
    name = "standalone-cinder",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Kubernetes external volume provisioner for OpenStack Cinder.",
    subcommands = {
        RunCommand.class,
        CheckCommand.class,
        RemapCommand.class,
        DemoCommand.class,
        SimulatorCommand.class,
        VersionCommand.class,
        CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The system property that sizes the common ForkJoinPool; read once, when that pool is first used. */
  static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    useCommonPoolForAsyncCompletions(Runtime.getRuntime().availableProcessors());
    System.exit(execute(args));
  }

  /**
   * With fewer than 3 CPUs the common pool has parallelism 1, and CompletableFuture then runs every async stage on a
   * new thread: the Kubernetes client (JDK HTTP client) would start a thread per API request. A pod limited to 1–2
   * CPUs is the usual case, so give the pool 2 threads unless the user sized it. Must run before any
   * CompletableFuture is made.
   */
  static void useCommonPoolForAsyncCompletions(int cpus) {
    if (cpus < 3 && System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM, "2");
    }
  }

  /** LOG_LEVEL values Logback knows. */
  static final java.util.Set<String> LOG_LEVELS = java.util.Set.of("trace", "debug", "info", "warn", "error", "off",
      "all");

  /**
   * Runs the command line and returns the exit code. Bad input (an unknown flag, a bad value, a bad file, an
   * unusable LOG_LEVEL) is one line on stderr naming the problem, with a pointer to the command's help, and exit
   * code 2; no stack trace, no usage text.
   */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setParameterExceptionHandler((e, badArgs) -> {
      CommandLine where = e.getCommandLine();
      String message = firstLine(e.getMessage());
      if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
        message += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
      }
      where.getErr().println("standalone-cinder: " + message + "; " + helpHint(where));
      return 2;
    });
    cl.setExecutionStrategy(parseResult -> {
      java.util.Optional<String> badLevel = logLevelProblem(System.getenv("LOG_LEVEL"));
      if (badLevel.isPresent()) {
        CommandLine where = innermost(parseResult);
        where.getErr().println("standalone-cinder: " + badLevel.get() + "; " + helpHint(where));
        return 2;
      }
      return new CommandLine.RunLast().execute(parseResult);
    });
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof UserError u) {
        commandLine.getErr().println("standalone-cinder: " + firstLine(e.getMessage())
            + (u.aboutInput() ? "; " + helpHint(commandLine) : ""));
        return 2;
      }
      commandLine.getErr().println("standalone-cinder: " + firstLine(String.valueOf(e)));
      return 1;
    });
    return cl.execute(args);
  }

  /** Why {@code level} (the LOG_LEVEL variable, may be null) is unusable, if it is. */
  static java.util.Optional<String> logLevelProblem(String level) {
    if (level == null || level.isBlank() || LOG_LEVELS.contains(level.strip().toLowerCase(java.util.Locale.ROOT))) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of("LOG_LEVEL must be one of trace, debug, info, warn, error or off, got \"" + level
        + "\"");
  }

  static String helpHint(CommandLine where) {
    return "see '" + where.getCommandSpec().qualifiedName() + " --help'";
  }

  private static CommandLine innermost(CommandLine.ParseResult result) {
    CommandLine.ParseResult r = result;
    while (r.hasSubcommand()) {
      r = r.subcommand();
    }
    return r.commandSpec().commandLine();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String m = message.strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl).strip();
  }
}
