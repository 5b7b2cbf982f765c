package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Kubernetes snapshot API ({@code snapshot.storage.k8s.io/v1}, the CRDs of kubernetes-csi/external-snapshotter)
 * as plain generic resources, and the names its common snapshot-controller uses (its {@code pkg/utils/util.go}):
 * our controller writes the same finalizers and annotations so that, installed or not, the objects end the same.
 */
public final class SnapshotApi {
  public static final String GROUP = "snapshot.storage.k8s.io";
  public static final String VERSION = "v1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND_SNAPSHOT = "VolumeSnapshot";

  public static final ResourceDefinitionContext SNAPSHOTS = context("VolumeSnapshot", "volumesnapshots", true);
  public static final ResourceDefinitionContext CONTENTS =
      context("VolumeSnapshotContent", "volumesnapshotcontents", false);
  public static final ResourceDefinitionContext CLASSES =
      context("VolumeSnapshotClass", "volumesnapshotclasses", false);

  /** utils.VolumeSnapshotContentFinalizer: on a bound content until its snapshot is deleted or kept. */
  public static final String CONTENT_FINALIZER =
      "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection";
  /** utils.VolumeSnapshotBoundFinalizer: on a snapshot bound to a content with deletionPolicy Delete. */
  public static final String BOUND_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection";
  /** utils.VolumeSnapshotAsSourceFinalizer: on every snapshot not being deleted. */
  public static final String AS_SOURCE_FINALIZER =
      "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection";
  /** utils.AnnVolumeSnapshotBeingDeleted: the content's snapshot is being deleted; the driver side may act. */
  public static final String ANN_BEING_DELETED = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted";

  /** Cinder snapshot metadata: which VolumeSnapshot (by UID) and content a snapshot was made for. */
  public static final String META_SNAPSHOT_NAMESPACE = "standalone-cinder.openstack.org/volumesnapshot-namespace";
  public static final String META_SNAPSHOT_NAME = "standalone-cinder.openstack.org/volumesnapshot-name";
  public static final String META_SNAPSHOT_UID = "standalone-cinder.openstack.org/volumesnapshot-uid";
  public static final String META_CONTENT_NAME = "standalone-cinder.openstack.org/volumesnapshotcontent-name";

  private static final Set<String> PLURALS = Set.of("volumesnapshots", "volumesnapshotcontents",
      "volumesnapshotclasses");

  private SnapshotApi() {}

  private static ResourceDefinitionContext context(String kind, String plural, boolean namespaced) {
    return new ResourceDefinitionContext.Builder().withGroup(GROUP).withVersion(VERSION).withKind(kind)
        .withPlural(plural).withNamespaced(namespaced).build();
  }

  /** utils.GetDynamicSnapshotContentNameForSnapshot. */
  public static String contentName(String snapshotUid) {
    return "snapcontent-" + snapshotUid;
  }

  /** Whether the API server serves the three kinds (discovery); false on 404, the CRDs not installed. */
  public static boolean served(KubernetesClient kube) {
    APIResourceList list;
    try {
      list = kube.getApiResources(API_VERSION);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
    if (list == null || list.getResources() == null) {
      return false;
    }
    return list.getResources().stream().map(APIResource::getName).collect(Collectors.toSet()).containsAll(PLURALS);
  }

  // ------------------------------------------------------------------ reading generic objects

  /** The string at {@code path} under the object's top level ({@code spec}, {@code status}), or null. */
  public static String str(GenericKubernetesResource r, String... path) {
    Object o = at(r, path);
    return o == null ? null : o.toString();
  }

  public static Object at(GenericKubernetesResource r, String... path) {
    Object o = r.getAdditionalProperties();
    for (String p : path) {
      if (!(o instanceof Map<?, ?> m)) {
        return null;
      }
      o = m.get(p);
    }
    return o;
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(GenericKubernetesResource r, String key) {
    Object o = r.getAdditionalProperties().get(key);
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /** A writable copy of the top-level map {@code key} (empty when absent). */
  public static Map<String, Object> mutable(GenericKubernetesResource r, String key) {
    Map<String, Object> m = map(r, key);
    return m == null ? new LinkedHashMap<>() : new LinkedHashMap<>(m);
  }

  public static boolean deleting(GenericKubernetesResource r) {
    return r.getMetadata().getDeletionTimestamp() != null;
  }

  public static List<String> finalizers(GenericKubernetesResource r) {
    return r.getMetadata().getFinalizers() == null ? List.of() : r.getMetadata().getFinalizers();
  }

  public static String annotation(GenericKubernetesResource r, String key) {
    return r.getMetadata().getAnnotations() == null ? null : r.getMetadata().getAnnotations().get(key);
  }

  /** The namespace/name key of a VolumeSnapshot. */
  public static String key(GenericKubernetesResource vs) {
    return vs.getMetadata().getNamespace() + "/" + vs.getMetadata().getName();
  }
}
