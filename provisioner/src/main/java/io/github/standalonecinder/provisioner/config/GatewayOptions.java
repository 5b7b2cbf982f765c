package io.github.standalonecinder.provisioner.config;

import io.github.standalonecinder.provisioner.cinder.Microversion;
import java.time.Duration;
import java.util.Objects;

/**
 * HTTP behaviour of the Cinder gateway.
 *
 * @param maxMicroversion the highest microversion we ask for; the server's maximum caps it
 */
public record GatewayOptions(Duration connectTimeout, Duration readTimeout, Microversion maxMicroversion,
    String userAgent) {

  /**
   * 3.60 covers everything we use (attachments 3.27, name filter 3.34, in-use extend 3.42, os-complete 3.44) and is
   * served by every Cinder since Ussuri; newer microversions only change things we do not touch.
   */
  public static final Microversion PREFERRED_MICROVERSION = new Microversion(3, 60);

  public GatewayOptions {
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(readTimeout, "readTimeout");
    if (maxMicroversion == null) {
      maxMicroversion = PREFERRED_MICROVERSION;
    }
  }

  public static GatewayOptions defaults() {
    return new GatewayOptions(Duration.ofSeconds(10), Duration.ofSeconds(60), PREFERRED_MICROVERSION,
        "standalone-cinder");
  }

  public GatewayOptions withConnectTimeout(Duration d) {
    return new GatewayOptions(d, readTimeout, maxMicroversion, userAgent);
  }

  public GatewayOptions withReadTimeout(Duration d) {
    return new GatewayOptions(connectTimeout, d, maxMicroversion, userAgent);
  }

  public GatewayOptions withMaxMicroversion(Microversion m) {
    return new GatewayOptions(connectTimeout, readTimeout, m, userAgent);
  }
}
