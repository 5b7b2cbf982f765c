package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.mappers.ConnectionInfo;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.CinderAttachment;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.Microversion;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports a volume to the configured connector and takes the export back, choosing between the v3 attachments
 * API and the legacy {@code os-reserve}/{@code os-initialize_connection}/{@code os-attach} actions. Both
 * directions are idempotent: tearing down an already detached volume, or one that is gone, is success.
 */
final class CinderExporter {
  private static final Logger log = LoggerFactory.getLogger(CinderExporter.class);
  /** Where the Go original "attached" its volumes; kept so its volumes look the same in Cinder. */
  static final String MOUNTPOINT = "/k8s.io/standalone-cinder";

  private final CinderGateway cinder;
  private final Connector connector;
  private final ProvisionerSettings.AttachMode mode;
  /** Decided from the server's microversions at the first answer; null until a cloud not yet reached answers. */
  private volatile Boolean useAttachments;

  /** The outcome of an export: the connection info, and the attachment id when the attachments API was used. */
  record Export(ConnectionInfo connectionInfo, String attachmentId) {}

  /**
   * Decides the API at once when Cinder answers; for a cloud that cannot be reached yet, at the first call that
   * needs it. Attach mode {@code attachments} on a server without them is refused here (an exception).
   */
  CinderExporter(CinderGateway cinder, Connector connector, ProvisionerSettings.AttachMode mode) {
    this.cinder = cinder;
    this.connector = connector;
    this.mode = mode;
    try {
      usesAttachments();
    } catch (CinderException e) {
      log.debug("the export API is chosen once Cinder answers: {}", e.getMessage());
    }
  }

  /** Whether exports use the attachments API; asks Cinder's version (once) when not decided yet. */
  boolean usesAttachments() {
    Boolean decided = useAttachments;
    if (decided != null) {
      return decided;
    }
    if (mode == ProvisionerSettings.AttachMode.LEGACY) {
      useAttachments = false;
      return false;
    }
    boolean serverHasAttachments = cinder.apiVersion().supports(Microversion.ATTACHMENT_COMPLETE);
    if (mode == ProvisionerSettings.AttachMode.ATTACHMENTS && !serverHasAttachments) {
      throw new IllegalStateException("attach mode \"attachments\" needs Cinder microversion "
          + Microversion.ATTACHMENT_COMPLETE + ", the server offers " + cinder.apiVersion().maxMicroversion());
    }
    useAttachments = serverHasAttachments;
    return serverHasAttachments;
  }

  private String hostName() {
    return connector.host() == null || connector.host().isBlank() ? "standalone-cinder.k8s.io" : connector.host();
  }

  /** Exports an {@code available} volume; on failure undoes what it did before rethrowing. */
  Export export(String volumeId) {
    if (usesAttachments()) {
      CinderAttachment attachment = cinder.createAttachment(volumeId, connector, hostName());
      try {
        cinder.completeAttachment(attachment.id());
        if (attachment.connectionInfo() == null) {
          throw new CinderException(CinderException.Kind.PROTOCOL, 0,
              "Cinder returned no connection_info for attachment " + attachment.id() + " of volume " + volumeId);
        }
        return new Export(attachment.connectionInfo(), attachment.id());
      } catch (RuntimeException e) {
        quietly(() -> cinder.deleteAttachment(attachment.id()), "delete attachment " + attachment.id());
        throw e;
      }
    }
    cinder.reserve(volumeId);
    ConnectionInfo info;
    try {
      info = cinder.initializeConnection(volumeId, connector);
    } catch (RuntimeException e) {
      quietly(() -> cinder.unreserve(volumeId), "unreserve " + volumeId);
      throw e;
    }
    try {
      cinder.attach(volumeId, hostName(), MOUNTPOINT);
    } catch (RuntimeException e) {
      quietly(() -> cinder.terminateConnection(volumeId, connector), "terminate connection of " + volumeId);
      quietly(() -> cinder.unreserve(volumeId), "unreserve " + volumeId);
      throw e;
    }
    return new Export(info, null);
  }

  /**
   * Whose exports an unexport may take back: ours (the attachment recorded on the PV, and every attachment or
   * connection made for no Nova server with our connector), or the Go original's (it only ran {@code os-reserve}
   * and {@code os-initialize_connection}, with {@link #GO_ORIGINAL_CONNECTOR}).
   */
  record Owner(String attachmentId, Connector connector) {}

  /**
   * The connector the Go standalone-cinder sent for every volume (hard-coded in its {@code actions.go}): its
   * volumes' connections are terminated with it, so ACL-based backends drop that LUN mapping too.
   */
  static final Connector GO_ORIGINAL_CONNECTOR = new Connector("localhost", "127.0.0.1",
      "iqn.1994-05.com.redhat:a13fc3d1cc22", List.of(), List.of(), false, null, null);

  Owner ours(String attachmentId) {
    return new Owner(attachmentId, connector);
  }

  static Owner goOriginal() {
    return new Owner(null, GO_ORIGINAL_CONNECTOR);
  }

  /** {@link #unexport(String, Owner)} of our own exports, with no attachment id recorded. */
  Optional<CinderVolume> unexport(String volumeId) {
    return unexport(volumeId, ours(null));
  }

  /**
   * Takes back the exports {@code owner} made, so the volume is {@code available} again (or gone); another
   * party's export (a Nova server's attachment) is never touched, and then the volume stays in use. Returns the
   * volume as it is afterwards, empty when Cinder no longer has it.
   *
   * <p>A volume {@code reserved}/{@code attaching} with no attachment record (what the Go original's
   * {@code os-reserve} + {@code os-initialize_connection} leave) has its connection terminated and is unreserved, in
   * both attach modes.
   */
  Optional<CinderVolume> unexport(String volumeId, Owner owner) {
    Optional<CinderVolume> found = cinder.getVolume(volumeId);
    if (found.isEmpty()) {
      return found;
    }
    CinderVolume volume = found.get();
    boolean touched = false;
    boolean foreign = false;
    if (usesAttachments()) {
      // Pending (reserved/attaching) attachments are not in the volume's own list: ask for all of them.
      for (CinderAttachment a : cinder.listAttachments(volumeId)) {
        if (a.id().equals(owner.attachmentId()) || a.instanceId() == null) {
          touched = true;
          ignoreGone(() -> cinder.deleteAttachment(a.id()));
        } else {
          foreign = true;
          log.info("leaving attachment {} of volume {} alone: it is for server {}", a.id(), volumeId,
              a.instanceId());
        }
      }
    } else {
      for (CinderVolume.Attachment a : volume.attachments()) {
        if (a.serverId() != null && !a.serverId().isBlank()) {
          foreign = true;
          continue;
        }
        touched = true;
        ignoreGone(() -> cinder.terminateConnection(volumeId, owner.connector()));
        ignoreGone(() -> cinder.detach(volumeId, a.attachmentId()));
      }
      if (volume.hasStatus("detaching")) {
        touched = true;
        ignoreGone(() -> cinder.detach(volumeId, null));
      }
    }
    if (!foreign && (volume.hasStatus("attaching") || volume.hasStatus("reserved"))
        && (!usesAttachments() || volume.attachments().isEmpty())) {
      // Reserved with no attachment record of anyone's: a connection made with the owner's connector.
      CinderVolume now = touched ? cinder.getVolume(volumeId).orElse(null) : volume;
      if (now != null && (now.hasStatus("attaching") || now.hasStatus("reserved"))) {
        touched = true;
        ignoreGone(() -> cinder.terminateConnection(volumeId, owner.connector()));
        ignoreGone(() -> cinder.unreserve(volumeId));
      }
    }
    return touched ? cinder.getVolume(volumeId) : found;
  }

  /** Runs a teardown step; "already done" answers (404, or a state conflict meaning not attached) are success. */
  private static void ignoreGone(Runnable step) {
    try {
      step.run();
    } catch (CinderException e) {
      if (e.kind() != CinderException.Kind.NOT_FOUND && e.kind() != CinderException.Kind.CONFLICT) {
        throw e;
      }
      log.debug("teardown step already done: {}", e.getMessage());
    }
  }

  private static void quietly(Runnable step, String what) {
    try {
      step.run();
    } catch (RuntimeException e) {
      log.warn("could not {} while undoing a failed export: {}", what, e.getMessage());
    }
  }
}
