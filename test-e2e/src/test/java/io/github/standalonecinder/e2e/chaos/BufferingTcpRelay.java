package io.github.standalonecinder.e2e.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP relay on loopback that never lets a slow client slow the server: what the server sends is read at once
 * and queued, however long the client takes to read it. The Fabric8 mock API server writes watch events to its
 * clients on one event loop; a SIGSTOPped client would fill its socket and stall the whole mock server, which a
 * real API server (a bounded buffer per watcher) does not do. Put in front of a replica that a test pauses.
 *
 * <p>When the client goes away (a replica that exits), its connections to the server are kept open and read until
 * the relay closes: the mock server blocks its event loop for up to a minute when it closes a watch whose
 * events are still being sent, which a real API server does not do either.
 */
final class BufferingTcpRelay implements AutoCloseable {
  private static final byte[] EOF = new byte[0];
  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  BufferingTcpRelay(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon("relay-accept", this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(targetHost, targetPort);
        sockets.add(client);
        sockets.add(server);
        pipe(client, server, false);
        pipe(server, client, true);
      } catch (IOException e) {
        return;
      }
    }
  }

  /**
   * Reads {@code from} as fast as it sends into an unbounded queue; a second thread writes it to {@code to}.
   * {@code closeOnEof}: pass the end of the stream on (server to client); the client's end is kept from the server.
   */
  private void pipe(Socket from, Socket to, boolean closeOnEof) {
    LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    java.util.concurrent.atomic.AtomicBoolean writerGone = new java.util.concurrent.atomic.AtomicBoolean();
    daemon("relay-read", () -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          if (!writerGone.get()) {
            queue.add(Arrays.copyOf(buf, n));
          }
        }
      } catch (IOException e) {
        // closed
      }
      queue.add(EOF);
    });
    daemon("relay-write", () -> {
      try {
        OutputStream out = to.getOutputStream();
        for (byte[] b; (b = queue.take()) != EOF; ) {
          out.write(b);
          out.flush();
        }
        if (closeOnEof) {
          to.shutdownOutput();
        }
      } catch (IOException | InterruptedException e) {
        // closed
      }
      writerGone.set(true);
      queue.clear();
    });
  }

  private static void daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
