package io.github.standalonecinder.provisioner.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one token every thread uses. It is refreshed ahead of its expiry (a tenth of its lifetime, at least one
 * minute) by whichever caller first notices; the others wait for that one refresh instead of each going to
 * Keystone.
 */
public final class TokenManager {
  private static final Logger log = LoggerFactory.getLogger(TokenManager.class);
  private final Supplier<AuthToken> source;
  private final Clock clock;
  private volatile AuthToken current;
  private volatile Instant refreshAt;

  public TokenManager(Supplier<AuthToken> source, Clock clock) {
    this.source = source;
    this.clock = clock;
  }

  /** A valid token, fetching or refreshing it when needed. */
  public AuthToken current() {
    AuthToken t = current;
    if (t != null && (refreshAt == null || clock.instant().isBefore(refreshAt))) {
      return t;
    }
    synchronized (this) {
      if (current == null || current == t) {
        refresh();
      }
      return current;
    }
  }

  /** Forgets the token after Cinder refused it, so the next call fetches a new one. */
  public synchronized void invalidate(AuthToken refused) {
    if (current == refused) {
      refreshAt = clock.instant();
    }
  }

  private void refresh() {
    AuthToken fresh = source.get();
    Instant now = clock.instant();
    if (fresh.expiresAt() == null) {
      refreshAt = null;
    } else {
      Duration life = Duration.between(now, fresh.expiresAt());
      Duration margin = life.dividedBy(10).compareTo(Duration.ofMinutes(1)) < 0 ? Duration.ofMinutes(1)
          : life.dividedBy(10);
      if (margin.compareTo(life.dividedBy(2)) > 0) {
        margin = life.dividedBy(2);
      }
      refreshAt = fresh.expiresAt().minus(margin);
      log.debug("new token valid until {}, refreshing from {}", fresh.expiresAt(), refreshAt);
    }
    current = fresh;
  }
}
