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

  public static void main(String[] args) {
    System.exit(execute(args));
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
