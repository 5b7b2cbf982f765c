package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.cinder.AvailabilityZone;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cinder's volume types and availability zones, so a class naming one Cinder does not have is bad input found
 * before any create (Cinder would answer 404 for the type and 400 for the zone, every time). Cached; a name not
 * in the cache refreshes it, at most once per {@code minRefresh}, so a type or zone an admin just added is found.
 * A listing Cinder refuses (policy) leaves the check to Cinder's own answer.
 */
final class CinderCatalog {
  private static final Logger log = LoggerFactory.getLogger(CinderCatalog.class);

  private final CinderGateway cinder;
  private final LongSupplier nanoClock;
  private final long minRefreshNanos;
  private final Entry<VolumeType> types = new Entry<>();
  private final Entry<AvailabilityZone> zones = new Entry<>();

  /** One cached list and when it was read; null list: not read yet, or Cinder would not list it. */
  private static final class Entry<T> {
    volatile List<T> items;
    volatile long readAt;
    volatile boolean refused;
  }

  CinderCatalog(CinderGateway cinder, Duration minRefresh, LongSupplier nanoClock) {
    this.cinder = cinder;
    this.minRefreshNanos = minRefresh.toNanos();
    this.nanoClock = nanoClock;
  }

  /** The volume type of this name or id; empty when Cinder has none (or lets us not list them: then unknown). */
  Optional<VolumeType> volumeType(String nameOrId) throws CinderException {
    return find(types, cinder::listVolumeTypes, t -> nameOrId.equals(t.name()) || nameOrId.equals(t.id()));
  }

  /** Whether the zone exists; true when Cinder would not list zones (its own answer decides then). */
  boolean hasZone(String name) throws CinderException {
    if (zones.refused) {
      return true;
    }
    return find(zones, cinder::listAvailabilityZones, z -> name.equals(z.name())).isPresent() || zones.refused;
  }

  /** Whether the last type listing was refused by Cinder: then an unknown type cannot be told from a hidden one. */
  boolean typesUnlisted() {
    return types.refused;
  }

  List<String> typeNames() {
    List<VolumeType> t = types.items;
    return t == null ? List.of() : t.stream().map(VolumeType::name).sorted().toList();
  }

  List<String> zoneNames() {
    List<AvailabilityZone> z = zones.items;
    return z == null ? List.of() : z.stream().map(AvailabilityZone::name).sorted().toList();
  }

  private <T> Optional<T> find(Entry<T> entry, java.util.function.Supplier<List<T>> list,
      java.util.function.Predicate<T> match) throws CinderException {
    List<T> items = entry.items;
    if (items != null) {
      Optional<T> hit = items.stream().filter(match).findFirst();
      if (hit.isPresent() || nanoClock.getAsLong() - entry.readAt < minRefreshNanos) {
        return hit;
      }
    }
    synchronized (entry) {
      try {
        entry.items = List.copyOf(list.get());
        entry.refused = false;
      } catch (CinderException e) {
        if (e.kind() != CinderException.Kind.UNAUTHORIZED && e.kind() != CinderException.Kind.FORBIDDEN) {
          throw e;
        }
        if (!entry.refused) {
          log.warn("Cinder refuses to list them ({}); unknown volume types and zones are left to Cinder to refuse",
              e.getMessage());
        }
        entry.refused = true;
        entry.items = List.of();
      }
      entry.readAt = nanoClock.getAsLong();
      return entry.items.stream().filter(match).findFirst();
    }
  }
}
