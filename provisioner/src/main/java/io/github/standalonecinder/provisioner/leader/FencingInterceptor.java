package io.github.standalonecinder.provisioner.leader;

import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.util.Set;

/**
 * Refuses every Kubernetes write (anything but GET, HEAD and OPTIONS) while the {@link Fence} is not held, right
 * before the request is sent: the last place a paused or deposed replica could still change the cluster. The
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
    fence.check(request.method() + " " + request.uri().getPath());
  }

  static boolean isLease(String path) {
    return path.startsWith("/apis/coordination.k8s.io/") && path.contains("/leases");
  }
}
