package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes events.k8s.io/v1 Events with every field a real API server requires (eventTime, reportingController,
 * reportingInstance, action, regarding), aggregating repeats: the same reason on the same object within
 * {@link #SERIES_WINDOW} bumps the first Event's {@code series.count} (and sets its note to the latest) instead of
 * writing a new one, so a claim
 * retried for hours does not flood etcd. Recording never fails the caller: errors are logged. The controller writes
 * through {@link #backgroundWriter(Runnable)}, as client-go's broadcaster does: a worker does not wait for its Events.
 *
 * <p>An Event may be deferred ({@link #defer}): it is written, with its own time, before the object's next Event,
 * when the caller {@linkplain #flush flushes} it, or once its deferral passes; and dropped when the Event it names as
 * its outcome comes first, within the deferral ({@link EventDeferral}). {@code Provisioning} is deferred this way: a
 * claim provisioned at once costs one Event write instead of two.
 */
public final class EventRecorder {
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);
  static final Duration SERIES_WINDOW = Duration.ofMinutes(30);
  private static final int MAX_NOTE = 1024;
  private static final int MAX_TRACKED = 4096;
  static final int MAX_QUEUED = 1000;
  private static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  public enum Type { Normal, Warning }

  private static final java.util.function.Function<String, String> JSON_STRING = v -> {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(v);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  };

  private final KubernetesClient client;
  private final String reportingController;
  private final String reportingInstance;
  private final Clock clock;
  private final Executor writer;
  private final Map<String, Series> recent = new LinkedHashMap<>();
  /** Runs a task once a delay has passed (the deferrals' timer). */
  private final BiConsumer<Duration, Runnable> later;
  /**
   * Deferred Events not yet written or dropped, by object. Guarded by itself, which is also held while an Event is
   * handed to the writer: a deferred Event and the object's next one reach the writer in the order recorded.
   */
  private final Map<String, Deferred> deferred = new HashMap<>();

  private record Series(String namespace, String name, int count, Instant first) {}

  private record Deferred(ObjectReference regarding, Type type, String reason, String action, String note,
      Instant at, Duration deferral, String outcome) {}

  /** Writes each Event before {@code record} returns. */
  public EventRecorder(KubernetesClient client, String reportingController, String reportingInstance, Clock clock) {
    this(client, reportingController, reportingInstance, clock, Runnable::run);
  }

  public EventRecorder(KubernetesClient client, String reportingController, String reportingInstance, Clock clock,
      Executor writer) {
    // A deferral's end runs on the JDK's delay thread, which only hands the Event to the writer.
    this(client, reportingController, reportingInstance, clock, writer,
        (delay, task) -> CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS, Runnable::run)
            .execute(task));
  }

  /** @param later runs a task once a delay has passed: when deferred Events are written at the latest */
  EventRecorder(KubernetesClient client, String reportingController, String reportingInstance, Clock clock,
      Executor writer, BiConsumer<Duration, Runnable> later) {
    this.later = later;
    this.client = client;
    this.reportingController = truncate(reportingController, 128);
    this.reportingInstance = truncate(reportingInstance, 128);
    this.clock = clock;
    this.writer = writer;
  }

  /**
   * One daemon thread writing Events in the order they were recorded. Events are best effort: with
   * {@value #MAX_QUEUED} waiting (the API server down or throttling us), further ones are dropped, counted through
   * onDrop and logged.
   */
  public static ExecutorService backgroundWriter(Runnable onDrop) {
    AtomicLong dropped = new AtomicLong();
    return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(MAX_QUEUED), r -> {
      Thread t = new Thread(r, "event-writer");
      t.setDaemon(true);
      return t;
    }, (r, executor) -> {
      onDrop.run();
      // Logged at the first drop and then every hundredth: an API server that is down must not flood the log too.
      long n = dropped.incrementAndGet();
      if (!executor.isShutdown() && (n == 1 || n % 100 == 0)) {
        log.warn("{} Events waiting to be written; {} dropped so far", MAX_QUEUED, n);
      }
    });
  }

  public void normal(HasMetadata regarding, String reason, String action, String note) {
    record(regarding, Type.Normal, reason, action, note);
  }

  public void warning(HasMetadata regarding, String reason, String action, String note) {
    record(regarding, Type.Warning, reason, action, note);
  }

  public void record(HasMetadata regarding, Type type, String reason, String action, String note) {
    // Read the object now: the caller may go on to change it.
    ObjectReference ref = reference(regarding);
    String safeNote = truncate(note, MAX_NOTE);
    Instant now = clock.instant();
    synchronized (deferred) {
      if (!deferred.isEmpty()) {
        settle(objectKey(ref), null, reason, now);
      }
      writer.execute(() -> write(ref, type, reason, action, safeNote, now));
    }
  }

  /**
   * Records an Event that waits up to {@code deferral} to be written (with the time recorded here), and is dropped
   * if the object's next Event is {@code outcome} within that time ({@link EventDeferral}). A repeat while one of
   * the same reason waits is that Event.
   */
  public void defer(HasMetadata regarding, Type type, String reason, String action, String note, Duration deferral,
      String outcome) {
    ObjectReference ref = reference(regarding);
    String key = objectKey(ref);
    Deferred d = new Deferred(ref, type, reason, action, truncate(note, MAX_NOTE), clock.instant(), deferral,
        outcome);
    synchronized (deferred) {
      Deferred waiting = deferred.get(key);
      if (waiting != null && waiting.reason().equals(reason) && waiting.type() == type) {
        return;
      }
      if (waiting != null) {
        settle(key, waiting, reason, d.at());
      }
      deferred.put(key, d);
    }
    later.accept(deferral, () -> {
      synchronized (deferred) {
        settle(key, d, null, clock.instant());
      }
    });
  }

  /** Writes the object's deferred Event now, if one waits: the object is waiting (for Cinder) and says so. */
  public void flush(HasMetadata regarding) {
    String key = objectKey(reference(regarding));
    synchronized (deferred) {
      settle(key, null, null, clock.instant());
    }
  }

  /** Writes every deferred Event now (the controller is stopping). */
  public void flushAll() {
    synchronized (deferred) {
      for (String key : java.util.List.copyOf(deferred.keySet())) {
        settle(key, null, null, clock.instant());
      }
    }
  }

  /**
   * The object's deferred Event (only {@code which}, unless null) is written or dropped as {@link EventDeferral}
   * says, {@code next} being the reason of the Event about to be recorded (null: none). Holds {@link #deferred}.
   */
  private void settle(String key, Deferred which, String next, Instant now) {
    Deferred d = deferred.get(key);
    if (d == null || (which != null && d != which)) {
      return; // settled already
    }
    deferred.remove(key);
    if (EventDeferral.decide(Duration.between(d.at(), now), d.deferral(), d.outcome(), next)
        == EventDeferral.Outcome.WRITE) {
      writer.execute(() -> write(d.regarding(), d.type(), d.reason(), d.action(), d.note(), d.at()));
    }
  }

  private static String objectKey(ObjectReference regarding) {
    return regarding.getUid() != null ? regarding.getUid() : regarding.getKind() + "/"
        + regarding.getNamespace() + "/" + regarding.getName();
  }

  private void write(ObjectReference regarding, Type type, String reason, String action, String safeNote,
      Instant now) {
    // By reason, not by note: notes name volumes, attempts and Cinder's words, which change from one try to the
    // next; one Event per object and reason, its note the latest, its series counting the repeats.
    String key = objectKey(regarding) + "|" + type + "|" + reason;
    try {
      Series series;
      synchronized (recent) {
        series = recent.get(key);
        if (series != null && Duration.between(series.first(), now).compareTo(SERIES_WINDOW) > 0) {
          recent.remove(key);
          series = null;
        }
      }
      if (series != null && bump(series, key, safeNote, now)) {
        return;
      }
      Event created = create(regarding, type, reason, action, safeNote, now);
      synchronized (recent) {
        recent.put(key, new Series(created.getMetadata().getNamespace(), created.getMetadata().getName(), 1, now));
        trim();
      }
    } catch (RuntimeException e) {
      log.warn("could not record {} event {} on {}/{}: {}", type, reason, regarding.getNamespace(),
          regarding.getName(), e.getMessage());
    }
  }

  private Event create(ObjectReference regarding, Type type, String reason, String action, String note,
      Instant now) {
    String namespace = regarding.getNamespace() == null ? "default" : regarding.getNamespace();
    Event event = new EventBuilder()
        .withNewMetadata()
          .withName(regarding.getName() + "." + Long.toHexString(now.toEpochMilli())
              + UUID.randomUUID().toString().substring(0, 8))
          .withNamespace(namespace)
        .endMetadata()
        .withEventTime(new MicroTime(MICRO.format(now)))
        .withReportingController(reportingController)
        .withReportingInstance(reportingInstance)
        .withAction(truncate(action, 128))
        .withReason(truncate(reason, 128))
        .withType(type.name())
        .withNote(note)
        .withRegarding(regarding)
        .build();
    return client.events().v1().events().inNamespace(namespace).resource(event).create();
  }

  /** Adds one to an existing Event's series; false when that Event is gone and a new one must be written. */
  private boolean bump(Series series, String key, String note, Instant now) {
    int count = series.count() + 1;
    String patch = "{\"note\":" + JSON_STRING.apply(note) + ",\"series\":{\"count\":" + count
        + ",\"lastObservedTime\":\"" + MICRO.format(now) + "\"}}";
    try {
      client.events().v1().events().inNamespace(series.namespace()).withName(series.name())
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      synchronized (recent) {
        recent.remove(key);
      }
      return false;
    }
    synchronized (recent) {
      recent.put(key, new Series(series.namespace(), series.name(), count, series.first()));
    }
    return true;
  }

  private void trim() {
    Iterator<String> it = recent.keySet().iterator();
    while (recent.size() > MAX_TRACKED && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  private static ObjectReference reference(HasMetadata o) {
    return new ObjectReferenceBuilder()
        .withApiVersion(o.getApiVersion())
        .withKind(o.getKind())
        .withNamespace(o.getMetadata().getNamespace())
        .withName(o.getMetadata().getName())
        .withUid(o.getMetadata().getUid())
        .withResourceVersion(o.getMetadata().getResourceVersion())
        .build();
  }

  private static String truncate(String s, int max) {
    Objects.requireNonNull(s);
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
