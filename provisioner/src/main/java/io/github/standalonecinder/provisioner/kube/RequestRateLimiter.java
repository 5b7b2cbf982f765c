package io.github.standalonecinder.provisioner.kube;

import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A token bucket in front of the Kubernetes API, like client-go's QPS/burst: {@code burst} requests may go at once,
 * then {@code qps} per second. Fabric8 has no client-side rate limit of its own, and a storm of claims must not
 * flood the API server.
 */
public final class RequestRateLimiter implements Interceptor {
  private final double permitsPerNano;
  private final double capacity;
  private double available;
  private long last;

  public RequestRateLimiter(double qps, int burst) {
    if (qps <= 0 || burst < 1) {
      throw new IllegalArgumentException("qps must be positive and burst at least 1, got " + qps + "/" + burst);
    }
    this.permitsPerNano = qps / TimeUnit.SECONDS.toNanos(1);
    this.capacity = burst;
    this.available = burst;
    this.last = System.nanoTime();
  }

  @Override
  public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
    acquire();
  }

  /** Blocks until a request may be sent. */
  public void acquire() {
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      available = Math.min(capacity, available + (now - last) * permitsPerNano);
      last = now;
      available -= 1;
      waitNanos = available >= 0 ? 0 : (long) (-available / permitsPerNano);
    }
    if (waitNanos > 0) {
      LockSupport.parkNanos(waitNanos);
    }
  }
}
