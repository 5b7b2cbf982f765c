package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogConfigurationTest {
  private static LoggerContext configured() {
    LoggerContext context = new LoggerContext();
    LogConfiguration configuration = new LogConfiguration();
    configuration.setContext(context);
    assertThat(configuration.configure(context)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    return context;
  }

  private static String line(LoggerContext context, String logger, Map<String, String> mdc) {
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
    LoggingEvent event = new LoggingEvent(Logger.class.getName(), context.getLogger(logger), Level.INFO,
        "created Cinder volume {}", null, new Object[] {"v-1"});
    event.setThreadName("provisioner-worker-3");
    event.setMDCPropertyMap(mdc);
    return new String(((PatternLayoutEncoder) stderr.getEncoder()).encode(event), StandardCharsets.UTF_8);
  }

  @Test
  void ourLoggersAtInfoEverythingElseAtWarnOnStderr() {
    LoggerContext context = configured();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    assertThat(((ConsoleAppender<?>) root.getAppender("STDERR")).getTarget()).isEqualTo("System.err");
    assertThat(context.getLogger("io.github.standalonecinder.provisioner.controller.ClaimProvisioner")
        .getEffectiveLevel()).isEqualTo(System.getenv("LOG_LEVEL") == null ? Level.INFO
            : Level.toLevel(System.getenv("LOG_LEVEL")));
    for (String noisy : LogConfiguration.QUIET) {
      assertThat(context.getLogger(noisy + ".Something").getEffectiveLevel()).as(noisy).isEqualTo(Level.WARN);
    }
    assertThat(context.getLogger("io.fabric8.kubernetes.client.Config").getEffectiveLevel()).isEqualTo(Level.WARN);
  }

  @Test
  void oneLinePerEventWithTheWorkKeyWhenThereIsOne() {
    LoggerContext context = configured();
    String logger = "io.github.standalonecinder.provisioner.controller.ClaimProvisioner";

    assertThat(line(context, logger, Map.of("key", "claim default/data"))).matches(
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  \\[provisioner-worker-3\\] "
            + "i\\.g\\.s\\.p\\.c\\.ClaimProvisioner \\[claim default/data\\] - created Cinder volume v-1\\R");
    assertThat(line(context, logger, Map.of())).endsWith("ClaimProvisioner - created Cinder volume v-1"
        + System.lineSeparator());
  }

  @Test
  void aConfigurationFileNamedByTheUserWins() {
    System.setProperty("logback.configurationFile", "/etc/standalone-cinder/logback.xml");
    try {
      LoggerContext context = new LoggerContext();
      LogConfiguration configuration = new LogConfiguration();
      configuration.setContext(context);
      assertThat(configuration.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
    } finally {
      System.clearProperty("logback.configurationFile");
    }
  }
}
