package io.github.standalonecinder.provisioner.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Serves {@code /metrics} (Prometheus text), {@code /healthz} (503 once the process knows it cannot do its job:
 * an informer stopped, the workers died, the Lease was lost; it exits right after) and {@code /readyz} (caches
 * synced and, with leader election, either leading or standing by healthily).
 */
public final class StatusServer implements AutoCloseable {
  private final HttpServer server;

  public StatusServer(InetSocketAddress address, PrometheusMeterRegistry registry, BooleanSupplier ready,
      Supplier<Optional<String>> failure) throws IOException {
    this(address, registry, ready, failure, java.util.List::of);
  }

  /** As above; {@code details} are lines added to {@code /readyz}'s body (each cloud's state). */
  public StatusServer(InetSocketAddress address, PrometheusMeterRegistry registry, BooleanSupplier ready,
      Supplier<Optional<String>> failure, Supplier<java.util.List<String>> details) throws IOException {
    server = HttpServer.create(address, 16);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "status-server");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
        registry.scrape()));
    server.createContext("/healthz", ex -> {
      Optional<String> why = failure.get();
      reply(ex, why.isEmpty() ? 200 : 503, "text/plain", why.map(w -> "failing: " + w + "\n").orElse("ok\n"));
    });
    server.createContext("/readyz", ex -> {
      boolean ok = ready.getAsBoolean();
      StringBuilder body = new StringBuilder(ok ? "ok\n" : "not ready\n");
      details.get().forEach(line -> body.append(line).append('\n'));
      reply(ex, ok ? 200 : 503, "text/plain", body.toString());
    });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Parses {@code host:port} or {@code :port} (all interfaces). */
  public static InetSocketAddress parseAddress(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("address \"" + text + "\" must be HOST:PORT or :PORT");
    }
    String host = text.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("address \"" + text + "\" has no valid port");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("address \"" + text + "\" has no valid port");
    }
    return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
