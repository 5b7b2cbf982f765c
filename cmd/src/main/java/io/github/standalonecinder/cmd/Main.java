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

  /** Runs the command line and returns the exit code; bad input is one line on stderr, no stack trace. */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof UserError) {
        commandLine.getErr().println("standalone-cinder: " + e.getMessage());
        return 2;
      }
      commandLine.getErr().println("standalone-cinder: " + e);
      return 1;
    });
    return cl.execute(args);
  }
}
