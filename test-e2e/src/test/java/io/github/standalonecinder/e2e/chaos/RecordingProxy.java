package io.github.standalonecinder.e2e.chaos;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A forwarding HTTP proxy on loopback in front of the Cinder simulator, one per replica: it records when each
 * request arrived (monotonic nanos), so a test can tell which replica wrote what, and when.
 */
final class RecordingProxy implements AutoCloseable {
  /** One request as it arrived. */
  record Request(long arrivedNanos, String method, String path) {
    boolean write() {
      return !method.equals("GET") && !method.equals("HEAD");
    }
  }

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "host", "transfer-encoding",
      "keep-alive", "upgrade", "expect");
  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(16);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String target;
  private final List<Request> requests = new ArrayList<>();

  /** Forwards to {@code targetOrigin} ({@code http://host:port}). */
  RecordingProxy(String targetOrigin) throws IOException {
    this.target = targetOrigin.replaceAll("/+$", "");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(threads);
    server.createContext("/", this::forward);
    server.start();
  }

  String origin() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  /** Writes that arrived at or after {@code nanos}. */
  List<Request> writesSince(long nanos) {
    return requests().stream().filter(r -> r.write() && r.arrivedNanos() >= nanos).toList();
  }

  private void forward(HttpExchange ex) throws IOException {
    long arrived = System.nanoTime();
    String path = ex.getRequestURI().getRawPath();
    synchronized (this) {
      requests.add(new Request(arrived, ex.getRequestMethod(), path));
    }
    try (ex) {
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readAllBytes();
      }
      String query = ex.getRequestURI().getRawQuery();
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + path + (query == null ? "" : "?" + query)))
          .timeout(Duration.ofSeconds(30))
          .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(body));
      ex.getRequestHeaders().forEach((k, vs) -> {
        if (!HOP_BY_HOP.contains(k.toLowerCase())) {
          vs.forEach(v -> b.header(k, v));
        }
      });
      HttpResponse<byte[]> resp;
      try {
        resp = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ex.sendResponseHeaders(502, -1);
        return;
      } catch (IOException e) {
        ex.sendResponseHeaders(502, -1);
        return;
      }
      resp.headers().map().forEach((k, vs) -> {
        if (!HOP_BY_HOP.contains(k.toLowerCase()) && !k.startsWith(":")) {
          ex.getResponseHeaders().put(k, new ArrayList<>(vs));
        }
      });
      byte[] out = resp.body();
      ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(out);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
