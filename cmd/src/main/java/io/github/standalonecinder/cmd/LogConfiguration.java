package io.github.standalonecinder.cmd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.List;

/**
 * Logging set up in code, found by Logback through {@code META-INF/services}: one line per event on stderr, our
 * loggers at {@code LOG_LEVEL} (default INFO), everything else at WARN. Doing it in code spares the process
 * Logback's XML configurator and the JDK's XML parser (about 400 classes, 2 MB). A file named by
 * {@code -Dlogback.configurationFile} (or a {@code logback-test.xml} on the class path) still wins. Credentials
 * never reach these lines: OpenStack4j's HTTP logging filter (which prints tokens) is never enabled.
 */
public final class LogConfiguration extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{30}"
      + "%replace( [%X{key}]){' \\[\\]', ''} - %msg%n";
  /** Libraries that log every request or reconnect at INFO. */
  static final List<String> QUIET = List.of("io.fabric8.kubernetes.client.informers",
      "io.fabric8.kubernetes.client.dsl.internal", "okhttp3", "org.openstack4j", "io.fabric8.mockwebserver");

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogConfiguration.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    context.getLogger("io.github.standalonecinder").setLevel(Level.toLevel(System.getenv("LOG_LEVEL"), Level.INFO));
    for (String name : QUIET) {
      context.getLogger(name).setLevel(Level.WARN);
    }
    // Each informer failure reaches InformerRetryPolicy, which logs a run of them once; when the process gives up,
    // Replica says so in one line. Fabric8's own lines (a stack trace per retry) would only bury that line.
    context.getLogger("io.fabric8.kubernetes.client.informers.impl.cache.Reflector").setLevel(Level.OFF);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
