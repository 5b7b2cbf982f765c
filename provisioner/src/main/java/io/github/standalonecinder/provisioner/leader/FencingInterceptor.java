package io.github.standalonecinder.provisioner.leader;

import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.http.StandardHttpRequest;
import io.fabric8.kubernetes.client.http.StandardHttpRequest.ByteArrayBodyContent;
import io.fabric8.kubernetes.client.http.StandardHttpRequest.StringBodyContent;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Refuses every Kubernetes write (anything but GET, HEAD and OPTIONS) while the {@link Fence} is not held: once
 * before the request is handed to the HTTP client, and once more as its body starts on the wire
 * ({@link FencedBody}), the last place a paused or deposed replica could still change the cluster. The
 * leader-election Lease itself is exempt, so the elector can renew, take over and release.
 */
public final class FencingInterceptor implements Interceptor {
  /** The name this interceptor is registered under; after the rate limiter, so a request waiting there is checked last. */
  public static final String NAME = "fence";
  private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");

  private final Fence fence;

  public FencingInterceptor(Fence fence) {
    this.fence = fence;
  }

  @Override
  public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
    if (READS.contains(request.method()) || isLease(request.uri().getPath())) {
      return;
    }
    String what = request.method() + " " + request.uri().getPath();
    fence.check(what);
    if (request instanceof StandardHttpRequest standard && builder instanceof HttpRequest.Builder writable) {
      byte[] body = bytes(standard.body());
      if (body != null) {
        FencedBody fenced = new FencedBody(body, fence, what);
        writable.method(request.method(), standard.getContentType(), fenced, fenced.length());
      }
    }
  }

  /** A body Fabric8 built in memory (every write this controller makes), else {@code null}: left as it is. */
  private static byte[] bytes(StandardHttpRequest.BodyContent body) {
    if (body instanceof StringBodyContent string) {
      return string.getContent().getBytes(StandardCharsets.UTF_8);
    }
    if (body instanceof ByteArrayBodyContent array) {
      return array.getContent();
    }
    return null;
  }

  static boolean isLease(String path) {
    return path.startsWith("/apis/coordination.k8s.io/") && path.contains("/leases");
  }
}
