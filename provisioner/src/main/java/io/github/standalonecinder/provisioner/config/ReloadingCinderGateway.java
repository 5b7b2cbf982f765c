package io.github.standalonecinder.provisioner.config;

import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credential rotation without a restart. The configuration files (cloud.conf, clouds.yaml, secure.yaml) are read
 * again every interval; when their content changed, the new configuration is loaded, checked and connected (it
 * authenticates), and only then replaces the gateway: calls started afterwards use the new one, calls already
 * running finish on the old one. Reading the content, not watching events, also follows the symlink swap by which
 * Kubernetes updates a mounted Secret ({@code ..data}).
 *
 * <p>A new configuration that is invalid, or that cannot authenticate or reach Cinder, is refused with one log line
 * per content, {@code standalone_cinder_config_reloads_total{result="refused"}} and a {@link ConfigRefusal} to the
 * listener (the Event); the old gateway stays. One that could not connect is tried again at the next interval.
 *
 * <p>One of several clouds ({@link CloudSet}) that could not connect at start runs {@link #startDisconnected}: every
 * call fails as unreachable, saying why, and the configuration is tried again every interval (at least every
 * {@link #DISCONNECTED_RETRY}) even when its files did not change, until it connects.
 */
public final class ReloadingCinderGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReloadingCinderGateway.class);

  /** Loads and checks the configuration from the same sources as at start. */
  @FunctionalInterface
  public interface Loader {
    CloudConfig load() throws ConfigException;
  }

  /** How often a cloud that is not connected tries again when reloading is off. */
  static final Duration DISCONNECTED_RETRY = Duration.ofSeconds(30);

  private final String cloud;
  private final AtomicReference<CinderGateway> current;
  private final Loader loader;
  private final GatewayOptions options;
  private final List<Path> files;
  private final Counter applied;
  private final Counter refused;
  private final ScheduledExecutorService timer;
  private final Consumer<ConfigRefusal> onRefusal;
  private String fingerprint;
  private String reported;
  private volatile String disconnected;

  private ReloadingCinderGateway(String cloud, CinderGateway initial, String disconnected, Loader loader,
      GatewayOptions options, List<Path> files, MeterRegistry registry, Duration interval,
      Consumer<ConfigRefusal> onRefusal) {
    this.cloud = cloud;
    this.disconnected = disconnected;
    this.current = new AtomicReference<>(initial != null ? initial : notConnected(cloud, () -> this.disconnected));
    this.onRefusal = onRefusal;
    this.loader = loader;
    this.options = options;
    this.files = List.copyOf(files);
    this.applied = Counter.builder("standalone_cinder_config_reloads").tag("cloud", cloud).tag("result", "applied")
        .description("Changed cloud configurations: applied, or refused (the old one stays)").register(registry);
    this.refused = Counter.builder("standalone_cinder_config_reloads").tag("cloud", cloud).tag("result", "refused")
        .description("Changed cloud configurations: applied, or refused (the old one stays)").register(registry);
    this.fingerprint = fingerprint(this.files);
    if (disconnected != null && (interval == null || interval.isZero() || interval.compareTo(DISCONNECTED_RETRY) > 0)) {
      interval = DISCONNECTED_RETRY;
    }
    if (interval == null || interval.isZero() || this.files.isEmpty() && disconnected == null) {
      this.timer = null;
    } else {
      this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cloud-config-reload-" + cloud);
        t.setDaemon(true);
        return t;
      });
      timer.scheduleWithFixedDelay(this::checkQuietly, interval.toMillis(), interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Starts watching {@code files} (those {@code initial}'s configuration came from) every {@code interval}; a zero
   * interval or no file: never reloads.
   */
  public static ReloadingCinderGateway start(CinderGateway initial, Loader loader, GatewayOptions options,
      List<Path> files, MeterRegistry registry, Duration interval) {
    return start(initial, loader, options, files, registry, interval, refusal -> { });
  }

  /** As above; each refusal (once per content) also goes to {@code onRefusal}. */
  public static ReloadingCinderGateway start(CinderGateway initial, Loader loader, GatewayOptions options,
      List<Path> files, MeterRegistry registry, Duration interval, Consumer<ConfigRefusal> onRefusal) {
    return start(CloudSet.DEFAULT, initial, loader, options, files, registry, interval, onRefusal);
  }

  /** As above, for the cloud {@code cloud} (the {@code cloud} tag of the reload counters). */
  public static ReloadingCinderGateway start(String cloud, CinderGateway initial, Loader loader,
      GatewayOptions options, List<Path> files, MeterRegistry registry, Duration interval,
      Consumer<ConfigRefusal> onRefusal) {
    return new ReloadingCinderGateway(cloud, initial, null, loader, options, files, registry, interval, onRefusal);
  }

  /**
   * A cloud that could not be configured or connected at start ({@code why}): its calls fail as unreachable until
   * a try, every interval, loads and connects its configuration.
   */
  public static ReloadingCinderGateway startDisconnected(String cloud, String why, Loader loader,
      GatewayOptions options, List<Path> files, MeterRegistry registry, Duration interval,
      Consumer<ConfigRefusal> onRefusal) {
    return new ReloadingCinderGateway(cloud, null, why, loader, options, files, registry, interval, onRefusal);
  }

  /** False while the cloud has never connected ({@link #startDisconnected}). */
  public boolean connected() {
    return disconnected == null;
  }

  private static CinderGateway notConnected(String cloud, java.util.function.Supplier<String> why) {
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return method.getName().equals("toString") ? "not connected: " + cloud
                : method.getName().equals("hashCode") ? System.identityHashCode(proxy) : proxy == args[0];
          }
          throw new CinderException(CinderException.Kind.UNREACHABLE, 0, "cloud " + cloud + " is not connected: "
              + why.get());
        });
  }

  /** The gateway to use: each call goes to the configuration current when it starts. */
  public CinderGateway gateway() {
    return (CinderGateway) Proxy.newProxyInstance(CinderGateway.class.getClassLoader(),
        new Class<?>[] {CinderGateway.class}, (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return method.invoke(current.get(), args);
          }
          try {
            return method.invoke(current.get(), args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private void checkQuietly() {
    try {
      check();
    } catch (RuntimeException e) {
      log.error("cloud config reload failed unexpectedly; the configuration in use stays: {}", e.toString());
    }
  }

  /** Looks at the files once; true when a new configuration was applied. */
  synchronized boolean check() {
    String now = fingerprint(files);
    if (now.equals(fingerprint) && disconnected == null) {
      return false;
    }
    CloudConfig config;
    try {
      config = loader.load();
    } catch (ConfigException e) {
      fingerprint = now; // the same content is not worth another try
      if (disconnected != null) {
        disconnected = e.getMessage();
      }
      refuse(now, e);
      return false;
    }
    CinderGateway next;
    try {
      next = CinderGateways.connect(config, options);
    } catch (ConfigException | CinderException e) {
      if (disconnected != null) {
        disconnected = e.getMessage();
      }
      refuse(now, e); // fingerprint kept: Keystone or Cinder may answer next time
      return false;
    }
    boolean first = disconnected != null;
    current.set(next);
    disconnected = null;
    fingerprint = now;
    reported = null;
    applied.increment();
    log.info("cloud {}: {} ({})", cloud, first ? "connected" : "cloud config changed: now using it",
        config.describeAuth());
    return true;
  }

  private void refuse(String content, Exception why) {
    String key = content + (disconnected == null ? "" : why.getMessage());
    if (key.equals(reported)) {
      return;
    }
    reported = key;
    refused.increment();
    if (disconnected != null) {
      log.error("cloud {} is still not connected (tried again every interval): {}", cloud, why.getMessage());
    } else {
      log.error("cloud config changed, but the new one is refused and the one in use stays (cloud {}): {}", cloud,
          why.getMessage());
    }
    try {
      onRefusal.accept(ConfigRefusal.of(why));
    } catch (RuntimeException e) {
      log.warn("could not report the refused cloud config: {}", e.toString());
    }
  }

  /** A digest of the files' content (following symlinks); a missing file counts as content of its own. */
  static String fingerprint(List<Path> files) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path f : files) {
        digest.update(f.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try {
          digest.update((byte) 1);
          digest.update(Files.readAllBytes(f));
        } catch (NoSuchFileException e) {
          digest.update((byte) 0);
        } catch (IOException e) {
          digest.update((byte) 2);
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
