package io.github.standalonecinder.provisioner.controller;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.github.standalonecinder.provisioner.config.ConfigException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This cluster's id: the {@code standalone-cinder.openstack.org/cluster} tag on its Cinder volumes, which tells them
 * from other clusters' volumes in a shared Cinder project.
 *
 * <p>Given by {@code --cluster-id}, or derived from the UID of the {@code kube-system} namespace: every cluster has
 * that namespace, it cannot be deleted, and its UID is random per cluster, so the id is stable across restarts and
 * unique. A derived id also accepts volumes tagged with {@link #LEGACY_DEFAULT}, made while {@code kubernetes} was
 * the default: they are found by name as this cluster's, and the orphan sweeper reports them but never deletes them
 * (another cluster sharing the project may have made them).
 *
 * <p>The rule for {@code --orphan-mode delete}: it deletes only volumes tagged with this cluster's own id (the first
 * of {@link ProvisionerSettings#clusterIds}), so that id must be unique to the cluster. A derived id is; an explicit
 * one is taken as the admin's promise, except {@code kubernetes}, the old default many clusters share: that is
 * refused ({@link #refusal}).
 */
public final class ClusterIdentity {
  private static final Logger log = LoggerFactory.getLogger(ClusterIdentity.class);

  /** The old default of {@code --cluster-id}, possibly shared by every cluster that kept it. */
  public static final String LEGACY_DEFAULT = "kubernetes";
  /** The namespace whose UID is the derived cluster id. */
  public static final String UID_NAMESPACE = "kube-system";

  private ClusterIdentity() {}

  /** The cluster ids a {@code --cluster-id} value asks for: itself, or none (null or blank) to derive them. */
  public static List<String> requested(String clusterId) {
    return clusterId == null || clusterId.isBlank() ? List.of() : List.of(clusterId.strip());
  }

  /** The cluster ids derived from the {@code kube-system} namespace's UID: that UID, then the legacy default. */
  static List<String> derived(String kubeSystemUid) {
    if (kubeSystemUid == null || kubeSystemUid.isBlank()) {
      throw new IllegalArgumentException("namespace " + UID_NAMESPACE + " has no UID");
    }
    return List.of(kubeSystemUid, LEGACY_DEFAULT);
  }

  /**
   * Why a {@code --cluster-id} value (null or blank: derived) and orphan mode may not run together; empty when they
   * may. Only delete mode with the legacy default given explicitly is refused.
   */
  public static Optional<String> refusal(String clusterId, ProvisionerSettings.OrphanMode mode) {
    if (mode == ProvisionerSettings.OrphanMode.DELETE && requested(clusterId).equals(List.of(LEGACY_DEFAULT))) {
      return Optional.of("--orphan-mode delete needs a cluster id unique to this cluster, and \"" + LEGACY_DEFAULT
          + "\" (the old default) may be shared by other clusters: leave --cluster-id and CLUSTER_ID unset to "
          + "derive the id from the " + UID_NAMESPACE + " namespace's UID, or give an id of this cluster's own");
    }
    return Optional.empty();
  }

  /**
   * The settings with their cluster ids known: as given, or derived from the {@code kube-system} namespace's UID
   * (one GET; the provisioner's RBAC allows exactly that namespace).
   */
  public static ProvisionerSettings resolve(ProvisionerSettings settings, KubernetesClient kube)
      throws ConfigException {
    if (!settings.clusterIds().isEmpty()) {
      log.info("cluster id {} (given)", settings.clusterId());
      return settings;
    }
    Namespace ns;
    try {
      ns = kube.namespaces().withName(UID_NAMESPACE).get();
    } catch (KubernetesClientException e) {
      String why = e.getCode() == 403
          ? "not allowed to read namespace " + UID_NAMESPACE + " (RBAC: get on namespaces, resourceNames ["
              + UID_NAMESPACE + "])"
          : "cannot read namespace " + UID_NAMESPACE + ": " + e.getMessage();
      throw new ConfigException(why + "; it names the cluster on its Cinder volumes: grant that, or set "
          + "--cluster-id");
    }
    if (ns == null || ns.getMetadata().getUid() == null || ns.getMetadata().getUid().isBlank()) {
      throw new ConfigException("namespace " + UID_NAMESPACE + " " + (ns == null ? "not found" : "has no UID")
          + ": cannot derive the cluster id that names this cluster on its Cinder volumes; set --cluster-id");
    }
    List<String> ids = derived(ns.getMetadata().getUid());
    log.info("cluster id {} (the UID of namespace {}); volumes tagged \"{}\", the old default, are also taken as "
        + "this cluster's when looked up by name, and never deleted by the orphan sweeper", ids.get(0),
        UID_NAMESPACE, LEGACY_DEFAULT);
    return settings.withClusterIds(ids);
  }
}
