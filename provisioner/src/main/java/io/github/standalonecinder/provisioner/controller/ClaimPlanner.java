package io.github.standalonecinder.provisioner.controller;

import io.github.standalonecinder.provisioner.config.CloudSet;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TypedLocalObjectReference;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.github.standalonecinder.mappers.MappingException;
import io.github.standalonecinder.mappers.MappingRequest;
import io.github.standalonecinder.mappers.VolumeMapperRegistry;
import io.github.standalonecinder.provisioner.cinder.CinderException;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Validates a claim and its StorageClass and decides what to ask Cinder for. Every bad input is refused here,
 * before anything is created; the only Cinder calls are the (cached) lists of volume types and availability zones
 * ({@link CinderCatalog}): a class naming one Cinder does not have, or RWX/ROX on a type without multiattach.
 */
public final class ClaimPlanner {
  /** StorageClass parameters the controller itself reads (matched case-insensitively, as the Go original did). */
  public static final String PARAM_TYPE = "type";
  public static final String PARAM_AVAILABILITY = "availability";
  public static final String PARAM_SECRET_NAMESPACE = "secret-namespace";
  /** Opt-in to Secrets that open more than their volume in claim namespaces (with {@code secret-namespace: claim}). */
  public static final String PARAM_SHARED_SECRETS = "shared-secrets-in-claim-namespace";
  /** Namespaces whose claims may adopt existing Cinder volumes with this class: a comma list, or {@code *}. */
  public static final String PARAM_ADOPT_NAMESPACES = "adopt-namespaces";
  /** The reclaim policy of an adopted volume's PV: {@code Retain} (default) or {@code Delete}. */
  public static final String PARAM_ADOPT_RECLAIM = "adopt-reclaim-policy";
  /** {@code metadata.<key>: value} parameters become Cinder volume metadata. */
  public static final String PARAM_METADATA_PREFIX = "metadata.";
  /** Which of several clouds makes the class's volumes ({@link Clouds}); routed before planning. */
  public static final String PARAM_CLOUD = "cloud";

  private static final Set<String> ACCESS_MODES_SINGLE = Set.of("ReadWriteOnce", "ReadWriteOncePod");
  private static final Set<String> ACCESS_MODES_SHARED = Set.of("ReadOnlyMany", "ReadWriteMany");
  private static final BigInteger GIB = BigInteger.ONE.shiftLeft(30);

  private final ProvisionerSettings settings;
  private final VolumeMapperRegistry mappers;
  private final CinderGateway cinder;
  private final Function<String, PersistentVolume> pvLookup;
  private final Function<String, PersistentVolumeClaim> claimLookup;
  private final CinderCatalog catalog;
  private final Topology topology;
  private final Function<String, Node> nodeLookup;
  private final RestoreSources restoreSources;
  private final String cloud;

  /** The Cinder snapshot behind a VolumeSnapshot of the claim's namespace ({@link SnapshotController}). */
  @FunctionalInterface
  public interface RestoreSources {
    RestoreSources OFF = (namespace, name) -> {
      throw ProvisioningException.invalid("dataSource VolumeSnapshot " + namespace + "/" + name
          + ": snapshots are off");
    };

    SnapshotController.RestoreSource lookup(String namespace, String name) throws ProvisioningException;
  }

  /**
   * @param pvLookup    PV by name (for clone sources)
   * @param claimLookup claim by "namespace/name" (for clone sources)
   */
  public ClaimPlanner(ProvisionerSettings settings, VolumeMapperRegistry mappers, CinderGateway cinder,
      Function<String, PersistentVolume> pvLookup, Function<String, PersistentVolumeClaim> claimLookup) {
    this(settings, mappers, cinder, pvLookup, claimLookup, Topology.OFF, name -> null);
  }

  /**
   * @param topology   how Cinder's AZs meet the nodes' zones
   * @param nodeLookup node by name (the selected node of a WaitForFirstConsumer claim), null when not known
   */
  public ClaimPlanner(ProvisionerSettings settings, VolumeMapperRegistry mappers, CinderGateway cinder,
      Function<String, PersistentVolume> pvLookup, Function<String, PersistentVolumeClaim> claimLookup,
      Topology topology, Function<String, Node> nodeLookup) {
    this(settings, mappers, cinder, pvLookup, claimLookup, topology, nodeLookup, RestoreSources.OFF);
  }

  /** @param restoreSources VolumeSnapshots a claim may name as its dataSource */
  public ClaimPlanner(ProvisionerSettings settings, VolumeMapperRegistry mappers, CinderGateway cinder,
      Function<String, PersistentVolume> pvLookup, Function<String, PersistentVolumeClaim> claimLookup,
      Topology topology, Function<String, Node> nodeLookup, RestoreSources restoreSources) {
    this(settings, mappers, cinder, pvLookup, claimLookup, topology, nodeLookup, restoreSources, CloudSet.DEFAULT);
  }

  /** @param cloud the cloud {@code cinder} talks to: plans name it, and sources must be in it */
  public ClaimPlanner(ProvisionerSettings settings, VolumeMapperRegistry mappers, CinderGateway cinder,
      Function<String, PersistentVolume> pvLookup, Function<String, PersistentVolumeClaim> claimLookup,
      Topology topology, Function<String, Node> nodeLookup, RestoreSources restoreSources, String cloud) {
    this.cloud = cloud;
    this.restoreSources = restoreSources;
    this.topology = topology;
    this.nodeLookup = nodeLookup;
    this.settings = settings;
    this.mappers = mappers;
    this.cinder = cinder;
    this.catalog = new CinderCatalog(cinder, Duration.ofSeconds(30), System::nanoTime);
    this.pvLookup = pvLookup;
    this.claimLookup = claimLookup;
  }

  public static String pvName(PersistentVolumeClaim claim) {
    return "pvc-" + claim.getMetadata().getUid();
  }

  /** The UID of the claim a PV is bound or pre-bound to, if any. */
  static java.util.Optional<String> claimUid(io.fabric8.kubernetes.api.model.PersistentVolume pv) {
    return java.util.Optional.ofNullable(pv.getSpec()).map(s -> s.getClaimRef()).map(r -> r.getUid());
  }

  /** Whether the claim names its volume (the PV controller binds it so). */
  static boolean isBound(PersistentVolumeClaim claim) {
    return claim.getSpec().getVolumeName() != null && !claim.getSpec().getVolumeName().isEmpty();
  }

  public ProvisionPlan plan(PersistentVolumeClaim claim, StorageClass storageClass) throws ProvisioningException {
    var spec = claim.getSpec();
    if (spec.getSelector() != null
        && (spec.getSelector().getMatchLabels() != null && !spec.getSelector().getMatchLabels().isEmpty()
            || spec.getSelector().getMatchExpressions() != null
                && !spec.getSelector().getMatchExpressions().isEmpty())) {
      throw ProvisioningException.invalid("claim selector is not supported: remove spec.selector");
    }
    Map<String, String> params = storageClass.getParameters() == null ? Map.of() : storageClass.getParameters();
    Map<String, String> mapperParams = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    String volumeType = null;
    String az = null;
    String secretNamespace = settings.namespace();
    boolean inClaimNamespace = false;
    boolean sharedSecrets = false;
    String adoptNamespaces = null;
    String adoptReclaim = "Retain";
    Set<String> mapperNames = mappers.parameterNames();
    List<String> unknown = new ArrayList<>();
    for (var e : params.entrySet()) {
      String key = e.getKey();
      String lower = key.toLowerCase(Locale.ROOT);
      if (lower.equals(PARAM_CLOUD)) {
        continue; // chose this planner's cloud
      } else if (lower.equals(PARAM_TYPE)) {
        volumeType = blankToNull(e.getValue());
      } else if (lower.equals(PARAM_AVAILABILITY)) {
        az = blankToNull(e.getValue());
      } else if (lower.equals(PARAM_SECRET_NAMESPACE)) {
        secretNamespace = switch (e.getValue()) {
          case "provisioner" -> settings.namespace();
          case "claim" -> claim.getMetadata().getNamespace();
          default -> throw ProvisioningException.invalid("StorageClass parameter \"" + PARAM_SECRET_NAMESPACE
              + "\" must be \"provisioner\" or \"claim\", got \"" + e.getValue() + "\"");
        };
        inClaimNamespace = "claim".equals(e.getValue());
      } else if (lower.equals(PARAM_ADOPT_NAMESPACES)) {
        adoptNamespaces = e.getValue();
      } else if (lower.equals(PARAM_ADOPT_RECLAIM)) {
        adoptReclaim = e.getValue();
        if (!adoptReclaim.equals("Retain") && !adoptReclaim.equals("Delete")) {
          throw ProvisioningException.invalid("StorageClass parameter \"" + PARAM_ADOPT_RECLAIM + "\" must be "
              + "\"Retain\" or \"Delete\", got \"" + adoptReclaim + "\"");
        }
      } else if (lower.equals(PARAM_SHARED_SECRETS)) {
        sharedSecrets = switch (e.getValue()) {
          case "true" -> true;
          case "false" -> false;
          default -> throw ProvisioningException.invalid("StorageClass parameter \"" + PARAM_SHARED_SECRETS
              + "\" must be \"true\" or \"false\", got \"" + e.getValue() + "\"");
        };
      } else if (key.startsWith(PARAM_METADATA_PREFIX) && key.length() > PARAM_METADATA_PREFIX.length()) {
        metadata.put(key.substring(PARAM_METADATA_PREFIX.length()), e.getValue());
      } else if (mapperNames.contains(key)) {
        mapperParams.put(key, e.getValue());
      } else {
        unknown.add(key);
      }
    }
    if (sharedSecrets && !inClaimNamespace) {
      throw ProvisioningException.invalid("StorageClass parameter \"" + PARAM_SHARED_SECRETS + "\" only applies "
          + "with \"" + PARAM_SECRET_NAMESPACE + "\": \"claim\"");
    }
    MappingRequest.SecretPlacement placement = !inClaimNamespace ? MappingRequest.SecretPlacement.PROVISIONER
        : sharedSecrets ? MappingRequest.SecretPlacement.CLAIM_WITH_SHARED : MappingRequest.SecretPlacement.CLAIM;
    if (!unknown.isEmpty()) {
      Set<String> known = new TreeSet<>(mapperNames);
      known.addAll(List.of(PARAM_CLOUD, PARAM_TYPE, PARAM_AVAILABILITY, PARAM_SECRET_NAMESPACE, PARAM_SHARED_SECRETS,
          PARAM_ADOPT_NAMESPACES, PARAM_ADOPT_RECLAIM, PARAM_METADATA_PREFIX + "<key>"));
      throw ProvisioningException.invalid("unknown StorageClass parameter" + (unknown.size() > 1 ? "s " : " ")
          + String.join(", ", unknown.stream().map(k -> "\"" + k + "\"").toList()) + "; known: "
          + String.join(", ", known));
    }
    try {
      mappers.validateParameters(mapperParams);
    } catch (MappingException e) {
      throw ProvisioningException.invalid(e.getMessage());
    }

    int sizeGiB = sizeGiB(claim);
    List<String> accessModes = spec.getAccessModes() == null ? List.of() : spec.getAccessModes();
    if (accessModes.isEmpty()) {
      throw ProvisioningException.invalid("claim has no spec.accessModes");
    }
    boolean shared = false;
    for (String mode : accessModes) {
      if (ACCESS_MODES_SHARED.contains(mode)) {
        shared = true;
      } else if (!ACCESS_MODES_SINGLE.contains(mode)) {
        throw ProvisioningException.invalid("unsupported access mode \"" + mode
            + "\"; supported: ReadWriteOnce, ReadWriteOncePod, and ReadOnlyMany/ReadWriteMany on a multiattach type");
      }
    }
    String classAz = az;
    az = placement(claim, storageClass, classAz);
    requireKnownToCinder(volumeType, classAz);
    if (az != null && !az.equals(classAz)) {
      requireZoneKnownToCinder(az);
    }
    if (shared) {
      requireMultiattach(volumeType, accessModes);
    }
    boolean readOnly = accessModes.size() == 1 && accessModes.get(0).equals("ReadOnlyMany");
    String volumeMode = spec.getVolumeMode() == null ? "Filesystem" : spec.getVolumeMode();
    if (!volumeMode.equals("Filesystem") && !volumeMode.equals("Block")) {
      throw ProvisioningException.invalid("unsupported volumeMode \"" + volumeMode + "\"; use Filesystem or Block");
    }

    String pvName = pvName(claim);
    Map<String, String> volumeMetadata = new LinkedHashMap<>(metadata);
    volumeMetadata.put(Annotations.META_CLUSTER, settings.clusterId());
    volumeMetadata.put(Annotations.META_PROVISIONER, settings.provisionerName());
    volumeMetadata.put(Annotations.META_CLAIM_NAMESPACE, claim.getMetadata().getNamespace());
    volumeMetadata.put(Annotations.META_CLAIM_NAME, claim.getMetadata().getName());
    volumeMetadata.put(Annotations.META_CLAIM_UID, claim.getMetadata().getUid());
    volumeMetadata.put(Annotations.META_PV_NAME, pvName);
    String adoptId = adoptVolumeId(claim, adoptNamespaces, storageClass);
    String reclaim = adoptId != null ? adoptReclaim
        : storageClass.getReclaimPolicy() == null ? "Delete" : storageClass.getReclaimPolicy();
    // The orphan sweeper deletes a volume whose claim and PV are gone only when this says Delete.
    volumeMetadata.put(Annotations.META_RECLAIM_POLICY, reclaim);

    DataSource source = adoptId != null ? DataSource.NONE : dataSource(claim, sizeGiB);
    return new ProvisionPlan(pvName, settings.volumeNamePrefix() + claim.getMetadata().getUid(), sizeGiB,
        volumeType, az, volumeMetadata, secretNamespace, placement, accessModes, volumeMode, readOnly, reclaim,
        storageClass.getMountOptions(), storageClass.getMetadata().getName(), mapperParams,
        source.volumeId(), source.snapshotId(), SchedulerHints.of(claim.getMetadata().getAnnotations(),
            name -> cinder.findVolumes(name, Map.of())), adoptId, cloud);
  }

  /** Whole GiB holding {@code bytes}, rounded up (Cinder sizes are whole GiB). */
  static BigInteger ceilGiB(BigDecimal bytes) {
    return bytes.setScale(0, RoundingMode.CEILING).toBigInteger().add(GIB).subtract(BigInteger.ONE).divide(GIB);
  }

  private int sizeGiB(PersistentVolumeClaim claim) throws ProvisioningException {
    var resources = claim.getSpec().getResources();
    Quantity q = resources == null || resources.getRequests() == null ? null : resources.getRequests().get("storage");
    if (q == null) {
      throw ProvisioningException.invalid("claim has no spec.resources.requests.storage");
    }
    BigDecimal bytes;
    try {
      bytes = Quantity.getAmountInBytes(q);
    } catch (RuntimeException e) {
      throw ProvisioningException.invalid("claim storage request \"" + q + "\" is not a quantity");
    }
    if (bytes.signum() <= 0) {
      throw ProvisioningException.invalid("claim storage request must be positive, got \"" + q + "\"");
    }
    BigInteger gib = ceilGiB(bytes);
    if (gib.compareTo(BigInteger.valueOf(settings.maxSizeGiB())) > 0) {
      throw ProvisioningException.invalid("claim storage request \"" + q + "\" (" + gib + " GiB) exceeds the "
          + "provisioner's limit of " + settings.maxSizeGiB() + " GiB");
    }
    return gib.intValueExact();
  }

  /**
   * The volume the claim asks to adopt, if its class allows that in the claim's namespace (a tenant must not take
   * a volume an admin did not mean to give); null when the claim asks for none.
   */
  private static String adoptVolumeId(PersistentVolumeClaim claim, String allowed, StorageClass sc)
      throws ProvisioningException {
    var annotations = claim.getMetadata().getAnnotations();
    String id = annotations == null ? null : annotations.get(Annotations.ADOPT_VOLUME_ID);
    if (id == null) {
      return null;
    }
    String ns = claim.getMetadata().getNamespace();
    boolean ok = allowed != null && java.util.Arrays.stream(allowed.split(",")).map(String::trim)
        .anyMatch(a -> a.equals("*") || a.equals(ns));
    if (!ok) {
      throw ProvisioningException.invalid("StorageClass \"" + sc.getMetadata().getName() + "\" does not let claims "
          + "in namespace " + ns + " adopt Cinder volumes (parameter \"" + PARAM_ADOPT_NAMESPACES + "\")");
    }
    if (!id.trim().matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
      throw ProvisioningException.invalid("annotation " + Annotations.ADOPT_VOLUME_ID + " must be a Cinder volume "
          + "id, got \"" + id + "\"");
    }
    if (claim.getSpec().getDataSource() != null || claim.getSpec().getDataSourceRef() != null) {
      throw ProvisioningException.invalid("a claim adopting a Cinder volume cannot also have a dataSource");
    }
    return id.trim().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * The AZ for the claim's volume ({@link ZonePlacement}); the selected node counts only for a
   * WaitForFirstConsumer class. Decided from the caches: a conflict costs no Cinder call.
   */
  private String placement(PersistentVolumeClaim claim, StorageClass storageClass, String classAz)
      throws ProvisioningException {
    var annotations = claim.getMetadata().getAnnotations();
    String selected = "WaitForFirstConsumer".equals(storageClass.getVolumeBindingMode()) && annotations != null
        ? annotations.get(Annotations.SELECTED_NODE) : null;
    return ZonePlacement.availabilityZone(topology, classAz, storageClass.getAllowedTopologies(), selected,
        selected == null || !topology.enabled() ? null : nodeLookup.apply(selected), claim.getMetadata().getUid());
  }

  /** An AZ the zone map or the class's allowedTopologies gave must be one Cinder has. */
  private void requireZoneKnownToCinder(String az) throws ProvisioningException {
    try {
      if (!catalog.hasZone(az)) {
        throw ProvisioningException.invalid("Cinder has no availability zone \"" + az + "\" (from the node's zone "
            + "through --topology-zone, or the StorageClass's allowedTopologies); it has: "
            + String.join(", ", catalog.zoneNames()));
      }
    } catch (CinderException e) {
      throw CinderFailures.of("list Cinder's availability zones", e);
    }
  }

  /**
   * A type or zone Cinder does not have is bad input: found here from Cinder's lists (cached, see
   * {@link CinderCatalog}), before anything is created, instead of as Cinder's 404 or 400 on every retry.
   */
  private void requireKnownToCinder(String volumeType, String az) throws ProvisioningException {
    try {
      if (volumeType != null && catalog.volumeType(volumeType).isEmpty() && !catalog.typesUnlisted()) {
        throw ProvisioningException.invalid("Cinder has no volume type \"" + volumeType + "\" (StorageClass "
            + "parameter \"type\"); it has: " + String.join(", ", catalog.typeNames()));
      }
      if (az != null && !catalog.hasZone(az)) {
        throw ProvisioningException.invalid("Cinder has no availability zone \"" + az + "\" (StorageClass "
            + "parameter \"availability\"); it has: " + String.join(", ", catalog.zoneNames()));
      }
    } catch (CinderException e) {
      throw CinderFailures.of("list Cinder's volume types and availability zones", e);
    }
  }

  private void requireMultiattach(String volumeType, List<String> accessModes) throws ProvisioningException {
    if (volumeType == null) {
      throw ProvisioningException.invalid("access modes " + accessModes + " need a multiattach volume type: set "
          + "the StorageClass parameter \"type\" to a Cinder type with multiattach=\"<is> True\"");
    }
    VolumeType match;
    try {
      match = catalog.volumeType(volumeType).orElse(null);
    } catch (CinderException e) {
      throw CinderFailures.of("list Cinder volume types", e);
    }
    if (match == null) {
      // Cinder would not list its types: let it decide on the create.
      return;
    }
    if (!match.multiattach()) {
      throw ProvisioningException.invalid("access modes " + accessModes + " need a multiattach volume type, and "
          + "Cinder type \"" + volumeType + "\" is not one (extra spec multiattach=\"<is> True\")");
    }
  }


  /** What a claim's volume is made from: a Cinder volume (clone), a Cinder snapshot (restore), or nothing. */
  private record DataSource(String volumeId, String snapshotId) {
    static final DataSource NONE = new DataSource(null, null);
  }

  private DataSource dataSource(PersistentVolumeClaim claim, int sizeGiB) throws ProvisioningException {
    TypedLocalObjectReference ds = claim.getSpec().getDataSourceRef() != null
        ? new TypedLocalObjectReference(claim.getSpec().getDataSourceRef().getApiGroup(),
            claim.getSpec().getDataSourceRef().getKind(), claim.getSpec().getDataSourceRef().getName())
        : claim.getSpec().getDataSource();
    if (ds == null) {
      return DataSource.NONE;
    }
    var ref = claim.getSpec().getDataSourceRef();
    if (ref != null && ref.getNamespace() != null && !ref.getNamespace().isEmpty()
        && !ref.getNamespace().equals(claim.getMetadata().getNamespace())) {
      // Cross-namespace data sources need a ReferenceGrant and the AnyVolumeDataSource/CrossNamespaceVolumeDataSource
      // gates; cloning another tenant's volume must never happen by accident.
      throw ProvisioningException.invalid("dataSourceRef names " + ref.getKind() + " " + ref.getNamespace() + "/"
          + ref.getName() + " in another namespace; only a claim or VolumeSnapshot in the same namespace can be a "
          + "source");
    }
    boolean isSnapshot = SnapshotApi.KIND_SNAPSHOT.equals(ds.getKind()) && SnapshotApi.GROUP.equals(ds.getApiGroup());
    if (isSnapshot) {
      return new DataSource(null, restoreSource(claim, ds.getName(), sizeGiB));
    }
    boolean isClaim = "PersistentVolumeClaim".equals(ds.getKind()) && (ds.getApiGroup() == null || ds.getApiGroup().isEmpty());
    if (!isClaim) {
      throw ProvisioningException.invalid("unsupported dataSource " + ds.getKind() + " (" + ds.getApiGroup()
          + "); a PersistentVolumeClaim (clone) or a snapshot.storage.k8s.io VolumeSnapshot (restore) of the same "
          + "namespace can be a source");
    }
    return new DataSource(cloneSource(claim, ds, sizeGiB), null);
  }

  /**
   * The handle to restore from (a Cinder snapshot id, or {@code backup:<id>}); the claim must be at least the
   * snapshot's restoreSize.
   */
  private String restoreSource(PersistentVolumeClaim claim, String name, int sizeGiB) throws ProvisioningException {
    SnapshotController.RestoreSource source = restoreSources.lookup(claim.getMetadata().getNamespace(), name);
    if (!cloud.equals(source.cloud())) {
      throw ProvisioningException.invalid("VolumeSnapshot " + claim.getMetadata().getNamespace() + "/" + name
          + " is in cloud \"" + source.cloud() + "\" and the claim's StorageClass makes volumes in cloud \"" + cloud
          + "\": restore with a class of the snapshot's cloud");
    }
    if (BigInteger.valueOf(source.restoreSizeBytes()).compareTo(BigInteger.valueOf(sizeGiB).multiply(GIB)) > 0) {
      throw ProvisioningException.invalid("a volume restored from VolumeSnapshot " + claim.getMetadata()
          .getNamespace() + "/" + name + " must be at least its restoreSize " + SnapshotStatus.quantity(
              source.restoreSizeBytes()) + "; the claim asks for " + sizeGiB + "Gi");
    }
    return source.handle();
  }

  private String cloneSource(PersistentVolumeClaim claim, TypedLocalObjectReference ds, int sizeGiB)
      throws ProvisioningException {
    String key = claim.getMetadata().getNamespace() + "/" + ds.getName();
    PersistentVolumeClaim source = claimLookup.apply(key);
    if (source == null || !isBound(source)) {
      throw ProvisioningException.retryable("clone source claim " + key + " does not exist or is not bound yet", null);
    }
    PersistentVolume pv = pvLookup.apply(source.getSpec().getVolumeName());
    String volumeId = pv == null || pv.getMetadata().getAnnotations() == null ? null
        : pv.getMetadata().getAnnotations().get(Annotations.CINDER_VOLUME_ID);
    if (pv == null) {
      // Bound a moment ago: the PV cache has not shown its PV yet.
      throw ProvisioningException.retryable("the PV of clone source claim " + key + " is not known yet", null);
    }
    if (volumeId == null) {
      throw ProvisioningException.invalid("clone source claim " + key + " is not backed by a Cinder volume of ours");
    }
    String sourceCloud = Annotations.cloudOf(pv, Annotations.CLOUD);
    if (!cloud.equals(sourceCloud)) {
      throw ProvisioningException.invalid("clone source claim " + key + " is in cloud \"" + sourceCloud + "\" and "
          + "the claim's StorageClass makes volumes in cloud \"" + cloud + "\": Cinder clones within one cloud");
    }
    Quantity sourceSize = pv.getSpec().getCapacity() == null ? null : pv.getSpec().getCapacity().get("storage");
    BigDecimal sourceBytes;
    try {
      sourceBytes = sourceSize == null ? null : Quantity.getAmountInBytes(sourceSize);
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw ProvisioningException.invalid("clone source claim " + key + " has a capacity that is not a size: "
          + sourceSize);
    }
    if (sourceBytes != null && sourceBytes.compareTo(BigDecimal.valueOf(sizeGiB).multiply(new BigDecimal(GIB))) > 0) {
      throw ProvisioningException.invalid("clone of " + key + " must be at least its size " + sourceSize);
    }
    return volumeId;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
