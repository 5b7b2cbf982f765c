package io.github.standalonecinder.cmd;

import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimulatedBackend;
import io.github.standalonecinder.simulator.SimulatorAuth;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "simulator", mixinStandardHelpOptions = true,
    description = "Run the Cinder simulator (Cinder v3 API subset, optional Keystone v3) until interrupted, for "
        + "trying check or run by hand. Binds to loopback unless told otherwise.")
final class SimulatorCommand implements Runnable {
  @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(names = "--port", defaultValue = "8776", description = "Port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--backend", defaultValue = "iscsi-chap",
      description = "Connection info to answer: iscsi, iscsi-chap, iscsi-multipath, rbd, rbd-keyring, fc. "
          + "Default: ${DEFAULT-VALUE}.")
  String backend;

  @Option(names = "--auth", defaultValue = "noauth",
      description = "noauth (token user:project) or keystone (embedded Keystone at /identity/v3). "
          + "Default: ${DEFAULT-VALUE}.")
  String auth;

  @Option(names = "--project", defaultValue = "demo-project", description = "Project id. Default: ${DEFAULT-VALUE}.")
  String project;

  @Option(names = "--user", defaultValue = "admin", description = "Keystone user (keystone mode). Default: ${DEFAULT-VALUE}.")
  String user;

  @Option(names = "--password", defaultValue = "${env:SIMULATOR_PASSWORD:-secret}",
      description = "Keystone password (keystone mode; env SIMULATOR_PASSWORD).")
  String password;

  @Option(names = "--volume-type", split = ",", defaultValue = "iscsi",
      description = "Volume types to offer; NAME:multiattach marks a multiattach type. Default: ${DEFAULT-VALUE}.")
  List<String> volumeTypes;

  @Option(names = "--create-delay", defaultValue = "1s", converter = DurationConverter.class,
      description = "creating -> available. Default: ${DEFAULT-VALUE}.")
  Duration createDelay;

  @Option(names = "--api-latency", defaultValue = "0s", converter = DurationConverter.class,
      description = "Added to every request. Default: ${DEFAULT-VALUE}.")
  Duration apiLatency;

  @Override
  public void run() {
    SimulatedBackend b;
    SimulatorAuth a;
    try {
      b = SimulatedBackend.valueOf(backend.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new UserError("--backend must be one of iscsi, iscsi-chap, iscsi-multipath, rbd, rbd-keyring, fc; got \""
          + backend + "\"");
    }
    try {
      a = SimulatorAuth.valueOf(auth.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UserError("--auth must be noauth or keystone, got \"" + auth + "\"");
    }
    if (port < 0 || port > 65535) {
      throw new UserError("--port must be between 0 and 65535, got " + port);
    }
    CinderSimulator.Builder builder = CinderSimulator.builder().bindAddress(bind).port(port).backend(b).auth(a)
        .projectId(project).createDelay(createDelay).apiLatency(apiLatency).users(Map.of(user, password));
    for (String t : volumeTypes) {
      String[] parts = t.split(":", 2);
      builder.volumeType(parts[0], parts.length > 1 && parts[1].equals("multiattach")
          ? Map.of("multiattach", "<is> True") : Map.of());
    }
    CinderSimulator sim;
    try {
      sim = builder.start();
    } catch (RuntimeException e) {
      throw new UserError("cannot start the simulator on " + bind + ":" + port + ": " + e.getMessage());
    }
    System.out.println("Cinder simulator listening on " + sim.rootUrl());
    System.out.println("A cloud.conf for it:");
    System.out.println("[Global]");
    if (a == SimulatorAuth.NOAUTH) {
      System.out.println("cinder-endpoint = " + sim.endpointWithoutProject());
      System.out.println("tenant-name = " + project);
    } else {
      System.out.println("auth-url = " + sim.keystoneUrl());
      System.out.println("username = " + user);
      System.out.println("password = <the --password>");
      System.out.println("tenant-id = " + project);
    }
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      sim.close();
      stop.countDown();
    }));
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
