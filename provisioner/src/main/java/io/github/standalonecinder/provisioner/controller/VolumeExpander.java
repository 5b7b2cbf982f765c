package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimCondition;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.Microversion;
import io.github.standalonecinder.provisioner.kube.Updates;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The external resizer's part for our PVs, which Kubernetes' expand controller leaves to "an external controller"
 * (they are native iSCSI/FC/RBD PVs, not CSI; its {@code ExternalExpanding} Event says so): a bound claim asking for
 * more than its PV has gets its Cinder volume extended (in use: microversion 3.42), then the PV's capacity.
 *
 * <p>What happens next on the node is the in-tree volume plugin's: kubelet's iSCSI and FC plugins implement neither
 * expansion interface ({@code NodeExpandableVolumePlugin}), so no node ever grows a file system on them, and the
 * kernel sees the bigger LUN only after a new login or a rescan. So a {@code Block} claim is done once the volume
 * and PV are grown (its status capacity says so); a {@code Filesystem} claim keeps its old status capacity with the
 * condition {@code FileSystemResizePending} saying what the user must do, until they confirm it with the annotation
 * {@link #RESIZE_DONE} set to the new size. A claim never looks done while its file system is not grown.
 */
final class VolumeExpander {
  private static final Logger log = LoggerFactory.getLogger(VolumeExpander.class);
  /** The annotation by which a user says the file system was grown to this size ("2Gi"). */
  static final String RESIZE_DONE = "standalone-cinder.openstack.org/filesystem-resized";
  static final Microversion IN_USE_EXTEND = new Microversion(3, 42);
  static final String FS_PENDING = "FileSystemResizePending";
  static final String RESIZING = "Resizing";
  private static final Duration POLL = Duration.ofSeconds(1);

  private final KubernetesClient kube;
  private final CinderGateway cinder;
  private final EventRecorder events;

  VolumeExpander(KubernetesClient kube, CinderGateway cinder, EventRecorder events) {
    this.kube = kube;
    this.cinder = cinder;
    this.events = events;
  }

  /** GiB of a quantity, rounded up (Cinder sizes are whole GiB); 0 when absent or not a quantity. */
  static int gib(Quantity q) {
    if (q == null) {
      return 0;
    }
    try {
      return ClaimPlanner.ceilGiB(Quantity.getAmountInBytes(q)).intValueExact();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  static int requestedGiB(PersistentVolumeClaim claim) {
    var r = claim.getSpec().getResources();
    return r == null || r.getRequests() == null ? 0 : gib(r.getRequests().get("storage"));
  }

  static int statusGiB(PersistentVolumeClaim claim) {
    var s = claim.getStatus();
    return s == null || s.getCapacity() == null ? 0 : gib(s.getCapacity().get("storage"));
  }

  static int capacityGiB(PersistentVolume pv) {
    return pv.getSpec().getCapacity() == null ? 0 : gib(pv.getSpec().getCapacity().get("storage"));
  }

  /**
   * Whether a bound claim of ours may have resize work: it asks for more than its status says it has, or a resize
   * is open. A claim whose status shows no capacity yet is still being bound (kube-controller-manager writes its
   * volumeName, then its status, in two writes): that is no resize, and its status update brings it back.
   */
  static boolean mayNeed(PersistentVolumeClaim claim) {
    int status = statusGiB(claim);
    return (status > 0 && requestedGiB(claim) > status) || condition(claim, FS_PENDING) != null;
  }

  private static PersistentVolumeClaimCondition condition(PersistentVolumeClaim claim, String type) {
    var s = claim.getStatus();
    return s == null || s.getConditions() == null ? null
        : s.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }

  /**
   * Brings the claim's volume, PV and status to its request. Throws {@link ProvisioningException#waiting} while
   * Cinder extends, a retryable failure for Cinder's transient refusals, a permanent one for what needs a change.
   */
  void sync(PersistentVolumeClaim claim, PersistentVolume pv, StorageClass sc)
      throws ProvisioningException {
    int wanted = requestedGiB(claim);
    int has = capacityGiB(pv);
    if (wanted > has) {
      if (!Boolean.TRUE.equals(sc.getAllowVolumeExpansion())) {
        throw ProvisioningException.invalid("StorageClass \"" + sc.getMetadata().getName() + "\" does not allow "
            + "volume expansion (allowVolumeExpansion)");
      }
      pv = grow(claim, pv, wanted);
      has = capacityGiB(pv);
    } else if (wanted < has && wanted < statusGiB(claim)) {
      events.warning(claim, "VolumeResizeFailed", "Resize", "Cinder volumes cannot shrink: the volume stays "
          + has + " GiB");
    }
    if (has > statusGiB(claim) || condition(claim, FS_PENDING) != null) {
      finishStatus(claim, pv, has);
    }
  }

  /** Extends the Cinder volume (waiting for it in the queue), then the PV's capacity; returns the grown PV. */
  private PersistentVolume grow(PersistentVolumeClaim claim, PersistentVolume pv, int wanted)
      throws ProvisioningException {
    String id = Annotations.cinderVolumeId(pv);
    CinderVolume v;
    try {
      v = cinder.getVolume(id).orElseThrow(() -> ProvisioningException.retryable("Cinder volume " + id
          + " of PV " + pv.getMetadata().getName() + " is gone", null));
      if (v.sizeGiB() < wanted) {
        if (v.hasStatus("extending")) {
          throw ProvisioningException.waiting("Cinder volume " + id + " is extending", POLL);
        }
        if (v.hasStatus("error_extending")) {
          List<String> said = cinder.listUserMessages(id);
          throw ProvisioningException.invalid("Cinder could not extend volume " + id + " (status error_extending"
              + (said.isEmpty() ? "" : ": " + said.get(0)) + "); an admin must reset its status");
        }
        boolean exported = !v.hasStatus("available");
        if (exported && !cinder.apiVersion().supports(IN_USE_EXTEND)) {
          throw ProvisioningException.invalid("Cinder volume " + id + " is " + v.status() + " (exported to the "
              + "nodes); growing it needs Cinder API microversion " + IN_USE_EXTEND + " and this Cinder offers "
              + cinder.apiVersion().maxMicroversion());
        }
        events.normal(claim, "Resizing", "Resize", "growing Cinder volume " + id + " from " + v.sizeGiB()
            + " to " + wanted + " GiB");
        setCondition(claim, RESIZING, "growing Cinder volume " + id + " to " + wanted + " GiB");
        cinder.extendVolume(id, wanted);
        log.info("extending Cinder volume {} of PV {} from {} to {} GiB", id, pv.getMetadata().getName(),
            v.sizeGiB(), wanted);
        throw ProvisioningException.waiting("Cinder volume " + id + " is extending", POLL);
      }
      if (v.hasStatus("extending")) {
        throw ProvisioningException.waiting("Cinder volume " + id + " is extending", POLL);
      }
    } catch (CinderException e) {
      throw CinderFailures.of("extend Cinder volume " + id, e);
    }
    int size = v.sizeGiB();
    PersistentVolume grown = Updates.update(kube.persistentVolumes().withName(pv.getMetadata().getName()),
        kube.persistentVolumes()::resource, p -> capacityGiB(p) >= size ? null : new PersistentVolumeBuilder(p)
            .editSpec().addToCapacity("storage", new Quantity(size + "Gi")).endSpec().build(), pv);
    log.info("PV {} grown to {} GiB", pv.getMetadata().getName(), size);
    return grown == null ? pv : grown;
  }

  /** The claim's status once the volume and PV are grown: done for Block, the file system left to the user. */
  private void finishStatus(PersistentVolumeClaim claim, PersistentVolume pv, int has) {
    String size = has + "Gi";
    boolean block = "Block".equals(claim.getSpec().getVolumeMode());
    var annotations = claim.getMetadata().getAnnotations();
    boolean confirmed = annotations != null && quantityEquals(annotations.get(RESIZE_DONE), size);
    if (block || confirmed) {
      updateStatus(claim, c -> {
        c.getStatus().setCapacity(Map.of("storage", new Quantity(size)));
        c.getStatus().setConditions(withoutResize(c.getStatus().getConditions()));
        return c;
      });
      events.normal(claim, block ? "VolumeResizeSuccessful" : "FileSystemResizeConfirmed", "Resize", block
          ? "Cinder volume and PV grown to " + size + "; a node sees the new size after the volume is attached "
              + "again or its iSCSI session is rescanned (iscsiadm -m session --rescan)"
          : "the file system was reported grown to " + size + " (annotation " + RESIZE_DONE + ")");
      return;
    }
    String message = "Cinder volume and PV grown to " + size + "; Kubernetes does not grow file systems on "
        + "iSCSI/FC volumes: on the node, rescan the device (iscsiadm -m session --rescan) and grow the file "
        + "system (resize2fs or xfs_growfs on the mounted device), then annotate the claim " + RESIZE_DONE
        + "=" + size;
    if (setCondition(claim, FS_PENDING, message)) {
      events.warning(claim, "FileSystemResizeRequired", "Resize", message);
    }
  }

  private static boolean quantityEquals(String value, String size) {
    if (value == null) {
      return false;
    }
    try {
      return gib(new Quantity(value)) == gib(new Quantity(size));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static List<PersistentVolumeClaimCondition> withoutResize(List<PersistentVolumeClaimCondition> cs) {
    List<PersistentVolumeClaimCondition> out = new ArrayList<>();
    for (var c : cs == null ? List.<PersistentVolumeClaimCondition>of() : cs) {
      if (!RESIZING.equals(c.getType()) && !FS_PENDING.equals(c.getType())) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Makes {@code type} ({@code Resizing} or {@code FileSystemResizePending}) the claim's one resize condition;
   * returns false, writing nothing, when it already is, with this message.
   */
  private boolean setCondition(PersistentVolumeClaim claim, String type, String message) {
    PersistentVolumeClaimCondition now = condition(claim, type);
    String other = RESIZING.equals(type) ? FS_PENDING : RESIZING;
    if (now != null && Objects.equals(now.getMessage(), message) && condition(claim, other) == null) {
      return false;
    }
    updateStatus(claim, c -> {
      List<PersistentVolumeClaimCondition> cs = withoutResize(c.getStatus().getConditions());
      cs.add(new PersistentVolumeClaimConditionBuilder().withType(type).withStatus("True")
          .withLastTransitionTime(Instant.now().toString()).withMessage(message).build());
      c.getStatus().setConditions(cs);
      return c;
    });
    return true;
  }

  private void updateStatus(PersistentVolumeClaim claim, UnaryOperator<PersistentVolumeClaim> change) {
    ClaimStatus.update(kube, claim, change);
  }
}
