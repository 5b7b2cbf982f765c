package io.github.standalonecinder.provisioner.leader;

import java.io.IOException;
import java.io.InputStream;

/**
 * A Kubernetes write's body that checks the {@link Fence} once more when the HTTP client starts sending it: after
 * the client has taken a connection and written the request line and headers, in the thread that hands the body's
 * bytes to the socket. The interceptor's own check comes earlier, before the request is queued in the client, and
 * a process frozen in between (the JDK client moves a request across its executor and selector threads first)
 * would otherwise send it on thawing. A refused body fails the exchange: the server never gets a whole request.
 *
 * <p>The client closes the stream at its end; closing rewinds it, because Fabric8 sends the very same body again
 * after a 401 and a token refresh, and that second sending is checked again.
 */
final class FencedBody extends InputStream {
  private final byte[] bytes;
  private final Fence fence;
  private final String what;
  private int position;

  FencedBody(byte[] bytes, Fence fence, String what) {
    this.bytes = bytes;
    this.fence = fence;
    this.what = what;
  }

  long length() {
    return bytes.length;
  }

  @Override
  public synchronized int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public synchronized int read(byte[] into, int offset, int length) throws IOException {
    if (position == 0) {
      checkFence();
    }
    if (position >= bytes.length) {
      return -1;
    }
    int n = Math.min(length, bytes.length - position);
    System.arraycopy(bytes, position, into, offset, n);
    position += n;
    return n;
  }

  private void checkFence() throws IOException {
    try {
      fence.check(what);
    } catch (FencedException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public synchronized int available() {
    return bytes.length - position;
  }

  /** Rewinds, ready (and fenced) for the next sending. */
  @Override
  public synchronized void close() {
    position = 0;
  }
}
