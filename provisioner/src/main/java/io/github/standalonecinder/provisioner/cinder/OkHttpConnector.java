package io.github.standalonecinder.provisioner.cinder;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.openstack4j.api.exceptions.ConnectionException;
import org.openstack4j.core.transport.ClientConstants;
import org.openstack4j.core.transport.Config;
import org.openstack4j.core.transport.HttpExecutorService;
import org.openstack4j.core.transport.HttpMethod;
import org.openstack4j.core.transport.HttpRequest;
import org.openstack4j.core.transport.HttpResponse;
import org.openstack4j.core.transport.ObjectMapperSingleton;

/**
 * OpenStack4j's HTTP transport, plugged in through its own {@code HttpExecutorService} SPI
 * ({@code META-INF/services}). Unlike the stock openstack4j-okhttp connector it
 * <ul>
 *   <li>keeps one {@link OkHttpClient} (one connection pool) per transport setting instead of a new client and a
 *   new TCP/TLS connection per request;</li>
 *   <li>honours a custom CA: the stock connector's {@code withSSLContext} calls the one-argument
 *   {@code sslSocketFactory}, which throws on JDK 9+. Here the trust manager registered with
 *   {@link #registerTrustManager} for a context is passed along, so a CA file stays scoped to our Cinder client
 *   instead of replacing the JVM-wide default SSLContext (which the Kubernetes client also uses);</li>
 *   <li>never re-authenticates on 401 by itself: the stock connector calls {@code OSAuthenticator.reAuthenticate()},
 *   which authenticates per thread behind the shared token holder's back and throws an NPE for application
 *   credential and noauth tokens. The gateway refreshes its token once for all threads and retries instead.</li>
 * </ul>
 * It never logs headers or bodies.
 */
public final class OkHttpConnector implements HttpExecutorService {
  static final String NAME = "standalone-cinder pooled OkHttp connector";
  /** Below Apache's default KeepAliveTimeout (5 s), so we rarely pick a connection the server is closing. */
  static final long KEEP_ALIVE_MILLIS = 4_000;
  private static final MediaType JSON = MediaType.parse(ClientConstants.CONTENT_TYPE_JSON);
  private static final byte[] EMPTY = new byte[0];

  private static final Map<SSLContext, X509TrustManager> TRUST_MANAGERS = new ConcurrentHashMap<>();
  private static final Map<ClientKey, OkHttpClient> CLIENTS = new ConcurrentHashMap<>();
  private static volatile boolean pooling = true;
  private static volatile Consumer<String> writeGuard = what -> { };

  /**
   * Called with "METHOD path" right before each request that is not a GET or HEAD goes on the wire (an OkHttp
   * network interceptor: after the connection is taken, as late as a check can be); it throws to stop the
   * request. The leader-election fence uses it so a paused replica's Cinder write never leaves after it resumes.
   */
  public static void setWriteGuard(Consumer<String> guard) {
    writeGuard = guard == null ? what -> { } : guard;
  }

  /** Makes {@code Config.withSSLContext(context)} usable: OkHttp needs the trust manager behind the context. */
  public static void registerTrustManager(SSLContext context, X509TrustManager trustManager) {
    TRUST_MANAGERS.put(context, trustManager);
  }

  /**
   * For the benchmark: {@code false} behaves like the stock connector (a new client with no idle connections
   * for every request).
   */
  static void setPooling(boolean enabled) {
    pooling = enabled;
  }

  @Override
  public <R> HttpResponse execute(HttpRequest<R> request) {
    Config config = request.getConfig();
    OkHttpClient client = pooling
        ? CLIENTS.computeIfAbsent(ClientKey.of(config), k -> build(config, new ConnectionPool(16,
            KEEP_ALIVE_MILLIS, TimeUnit.MILLISECONDS)))
        : build(config, new ConnectionPool(0, 500, TimeUnit.MILLISECONDS));
    if (request.getMethod() != HttpMethod.GET && request.getMethod() != HttpMethod.HEAD
        && request.getMethod() != HttpMethod.DELETE) {
      // A transparent retry could repeat a create or an action Cinder already performed: let the caller decide.
      client = client.newBuilder().retryOnConnectionFailure(false).build();
    }
    Request.Builder rb = new Request.Builder().url(request.getUrl());
    if (request.hasHeaders()) {
      request.getHeaders().forEach((name, value) -> rb.addHeader(name, String.valueOf(value)));
    }
    rb.method(request.getMethod().name(), body(request));
    try {
      return new OkHttpResponse(client.newCall(rb.build()).execute());
    } catch (IOException e) {
      throw new ConnectionException(e.getClass().getSimpleName() + ": " + e.getMessage(), 0, e);
    }
  }

  private static RequestBody body(HttpRequest<?> request) {
    Object entity = request.getEntity();
    try {
      if (entity instanceof InputStream in) {
        return RequestBody.create(MediaType.parse(request.getContentType()), in.readAllBytes());
      }
      if (entity != null) {
        String json = ObjectMapperSingleton.getContext(entity.getClass()).writer().writeValueAsString(entity);
        return RequestBody.create(MediaType.parse(request.getContentType()), json);
      }
    } catch (IOException e) {
      throw new ConnectionException("cannot encode the request body: " + e.getClass().getSimpleName(), 0, e);
    }
    if (request.hasJson()) {
      return RequestBody.create(JSON, request.getJson());
    }
    HttpMethod m = request.getMethod();
    return m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH ? RequestBody.create(null, EMPTY)
        : null;
  }

  /** A client as this connector makes one for {@code config}, for tests of the TLS settings. */
  public static OkHttpClient newClient(Config config) {
    return build(config, new ConnectionPool());
  }

  private static OkHttpClient build(Config config, ConnectionPool pool) {
    OkHttpClient.Builder b = new OkHttpClient.Builder().connectionPool(pool).addNetworkInterceptor(chain -> {
      Request r = chain.request();
      if (!r.method().equals("GET") && !r.method().equals("HEAD")) {
        writeGuard.accept(r.method() + " " + r.url().encodedPath());
      }
      return chain.proceed(r);
    });
    if (config.getConnectTimeout() > 0) {
      b.connectTimeout(config.getConnectTimeout(), TimeUnit.MILLISECONDS);
    }
    if (config.getReadTimeout() > 0) {
      b.readTimeout(config.getReadTimeout(), TimeUnit.MILLISECONDS);
      b.writeTimeout(config.getReadTimeout(), TimeUnit.MILLISECONDS);
    }
    if (config.getProxy() != null) {
      b.proxy(new Proxy(Proxy.Type.HTTP,
          new InetSocketAddress(config.getProxy().getRawHost(), config.getProxy().getPort())));
    }
    if (config.isIgnoreSSLVerification()) {
      // A context given with it trusts everything too; it is there for the client certificate it presents.
      SSLContext ctx = config.getSslContext() != null ? config.getSslContext() : INSECURE_CONTEXT;
      b.sslSocketFactory(ctx.getSocketFactory(), TRUST_ALL);
      b.hostnameVerifier(ACCEPT_ALL);
    } else if (config.getSslContext() != null) {
      X509TrustManager tm = TRUST_MANAGERS.get(config.getSslContext());
      if (tm == null) {
        throw new IllegalStateException("SSLContext given to OpenStack4j without its trust manager: "
            + "call OkHttpConnector.registerTrustManager first");
      }
      b.sslSocketFactory(config.getSslContext().getSocketFactory(), tm);
    }
    if (config.getHostNameVerifier() != null && !config.isIgnoreSSLVerification()) {
      b.hostnameVerifier(config.getHostNameVerifier());
    }
    return b.build();
  }

  private static final HostnameVerifier ACCEPT_ALL = (String host, SSLSession session) -> true;

  /** For {@code tls-insecure = true} only: accepts any certificate. */
  private static final X509TrustManager TRUST_ALL = new X509TrustManager() {
    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public java.security.cert.X509Certificate[] getAcceptedIssuers() {
      return new java.security.cert.X509Certificate[0];
    }
  };
  private static final SSLContext INSECURE_CONTEXT = insecureContext();

  private static SSLContext insecureContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new javax.net.ssl.TrustManager[] {TRUST_ALL}, new java.security.SecureRandom());
      return ctx;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String getExecutorDisplayName() {
    return NAME;
  }

  /** The transport settings that make two clients different; value-based so the cache stays small. */
  private record ClientKey(int connectTimeout, int readTimeout, boolean insecure, SSLContext ssl,
      HostnameVerifier verifier, String proxyHost, int proxyPort) {
    static ClientKey of(Config c) {
      return new ClientKey(c.getConnectTimeout(), c.getReadTimeout(), c.isIgnoreSSLVerification(),
          c.getSslContext(), c.getHostNameVerifier(),
          c.getProxy() == null ? null : c.getProxy().getRawHost(), c.getProxy() == null ? 0 : c.getProxy().getPort());
    }
  }

  /** OpenStack4j's view of an OkHttp response. */
  private static final class OkHttpResponse implements HttpResponse {
    private final Response response;

    OkHttpResponse(Response response) {
      this.response = Objects.requireNonNull(response);
    }

    @Override
    public <T> T getEntity(Class<T> returnType) {
      return getEntity(returnType, null);
    }

    @Override
    public <T> T getEntity(Class<T> returnType, org.openstack4j.core.transport.ExecutionOptions<T> options) {
      return org.openstack4j.core.transport.HttpEntityHandler.handle(this, returnType, options, Boolean.TRUE);
    }

    @Override
    public <T> T readEntity(Class<T> typeToReadAs) {
      try {
        return ObjectMapperSingleton.getContext(typeToReadAs).reader(typeToReadAs).readValue(response.body().string());
      } catch (IOException e) {
        throw new ConnectionException("cannot read the response body: " + e.getClass().getSimpleName(),
            response.code(), e);
      }
    }

    @Override
    public int getStatus() {
      return response.code();
    }

    @Override
    public String getContentType() {
      return response.header(ClientConstants.HEADER_CONTENT_TYPE);
    }

    @Override
    public String getStatusMessage() {
      return response.message();
    }

    @Override
    public InputStream getInputStream() {
      return response.body().byteStream();
    }

    @Override
    public String header(String name) {
      return response.header(name);
    }

    @Override
    public Map<String, String> headers() {
      Map<String, String> out = new java.util.HashMap<>();
      for (String name : response.headers().names()) {
        List<String> values = response.headers(name);
        out.put(name, values.get(values.size() - 1));
      }
      return out;
    }

    @Override
    public void close() {
      response.close();
    }
  }
}
