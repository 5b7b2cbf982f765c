package io.github.standalonecinder.mappers;

import java.util.Map;
import java.util.Objects;

/**
 * What a mapper needs to know besides the connection info: the PV it builds for, where its Secrets go, the
 * StorageClass parameters, and the connector the volume was exported to.
 *
 * @param pvName           name of the PersistentVolume being built ({@code pvc-<claim uid>})
 * @param claimNamespace   namespace of the claim
 * @param claimName        name of the claim
 * @param storageClassName the claim's StorageClass
 * @param secretNamespace  namespace where this PV's Secrets are created (the provisioner's own by default)
 * @param parameters       all StorageClass parameters; each mapper reads only those it declares
 * @param connector        the connector sent to Cinder ({@code initiatorName} on iSCSI PVs comes from it)
 * @param readOnly         the PV source's {@code readOnly}
 * @param placement        where the class puts Secrets, and whether it accepts credentials that open more than
 *                         this volume in a claim's namespace ({@link #refuseShared})
 */
public record MappingRequest(
    String pvName,
    String claimNamespace,
    String claimName,
    String storageClassName,
    String secretNamespace,
    Map<String, String> parameters,
    Connector connector,
    boolean readOnly,
    SecretPlacement placement) {

  public MappingRequest {
    Objects.requireNonNull(pvName, "pvName");
    Objects.requireNonNull(secretNamespace, "secretNamespace");
    placement = placement == null ? SecretPlacement.PROVISIONER : placement;
    parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
  }

  public String parameter(String name) {
    return parameters.get(name);
  }

  /** Where a class puts its PVs' Secrets (StorageClass parameters {@code secret-namespace}, and its opt-in). */
  public enum SecretPlacement {
    /** The provisioner's namespace (the default). */
    PROVISIONER,
    /** The claim's namespace, for credentials that open this volume only. */
    CLAIM,
    /** The claim's namespace, even for credentials that open more than this volume. */
    CLAIM_WITH_SHARED
  }

  /**
   * Refuses to put a Secret holding credentials that open more than this volume (Cinder's pool-wide cephx key, a
   * backend's host-level CHAP pair) where the claim's users can read it, unless the class accepts that. Permanent:
   * it takes a change to the class.
   *
   * @param what what the credentials are, for the message: "the cephx key Cinder returned (pool-wide)"
   */
  public void refuseShared(String what) throws PermanentMappingException {
    if (placement == SecretPlacement.CLAIM) {
      throw new PermanentMappingException(what + " opens more than this volume; StorageClass \"" + storageClassName
          + "\" puts Secrets in the claim's namespace (\"secret-namespace\": \"claim\"), where the claim's users "
          + "could read it. Set \"shared-secrets-in-claim-namespace\": \"true\" to accept that, or keep Secrets "
          + "in the provisioner's namespace");
    }
  }
}
