package io.github.standalonecinder.e2e.chart;

import io.github.standalonecinder.mappers.ConnectionInfo;
import io.github.standalonecinder.mappers.Connector;
import io.github.standalonecinder.provisioner.cinder.ApiVersion;
import io.github.standalonecinder.provisioner.cinder.AvailabilityZone;
import io.github.standalonecinder.provisioner.cinder.CinderAttachment;
import io.github.standalonecinder.provisioner.cinder.CinderGateway;
import io.github.standalonecinder.provisioner.cinder.CinderSnapshot;
import io.github.standalonecinder.provisioner.cinder.CinderVolume;
import io.github.standalonecinder.provisioner.cinder.Microversion;
import io.github.standalonecinder.provisioner.cinder.VolumeCreateRequest;
import io.github.standalonecinder.provisioner.cinder.VolumeType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An instant, in-memory Cinder behind the gateway interface, exporting iSCSI with CHAP through the attachments
 * API. The RBAC test needs only the Kubernetes side of a provision + delete, so no HTTP Cinder is involved.
 */
final class FakeCinder implements CinderGateway {
  private final Map<String, CinderVolume> volumes = new ConcurrentHashMap<>();
  private final Map<String, String> attachments = new ConcurrentHashMap<>();

  int volumeCount() {
    return volumes.size();
  }

  @Override
  public ApiVersion apiVersion() {
    return new ApiVersion(3, Microversion.V3_0, new Microversion(3, 60), new Microversion(3, 44), "fake://cinder/v3");
  }

  @Override
  public CinderVolume createVolume(VolumeCreateRequest r) {
    String id = UUID.randomUUID().toString();
    CinderVolume v = new CinderVolume(id, r.name(), "available", r.sizeGiB(), r.volumeType(), r.availabilityZone(),
        r.metadata(), false, List.of());
    volumes.put(id, v);
    return v;
  }

  @Override
  public Optional<CinderVolume> getVolume(String volumeId) {
    return Optional.ofNullable(volumes.get(volumeId));
  }

  @Override
  public List<CinderVolume> findVolumes(String name, Map<String, String> metadata) {
    return volumes.values().stream().filter(v -> v.name().equals(name))
        .filter(v -> v.metadata().entrySet().containsAll(metadata.entrySet())).toList();
  }

  @Override
  public List<CinderVolume> listVolumes(Map<String, String> metadata) {
    return volumes.values().stream().filter(v -> v.metadata().entrySet().containsAll(metadata.entrySet())).toList();
  }

  @Override
  public CinderAttachment createAttachment(String volumeId, Connector connector, String hostName) {
    String id = UUID.randomUUID().toString();
    attachments.put(id, volumeId);
    volumes.computeIfPresent(volumeId, (k, v) -> with(v, "attaching",
        List.of(new CinderVolume.Attachment(id, null, hostName))));
    ConnectionInfo info = new ConnectionInfo("iscsi", Map.of(
        "target_portal", "192.0.2.1:3260", "target_iqn", "iqn.2010-10.org.openstack:volume-" + volumeId,
        "target_lun", 1, "auth_method", "CHAP", "auth_username", "user", "auth_password", "secret"));
    return new CinderAttachment(id, volumeId, "attaching", info);
  }

  @Override
  public void completeAttachment(String attachmentId) {
    String volumeId = attachments.get(attachmentId);
    volumes.computeIfPresent(volumeId, (k, v) -> with(v, "in-use", v.attachments()));
  }

  @Override
  public boolean deleteAttachment(String attachmentId) {
    String volumeId = attachments.remove(attachmentId);
    if (volumeId != null) {
      volumes.computeIfPresent(volumeId, (k, v) -> with(v, "available", List.of()));
    }
    return volumeId != null;
  }

  @Override
  public boolean deleteVolume(String volumeId) {
    return volumes.remove(volumeId) != null;
  }

  @Override
  public List<VolumeType> listVolumeTypes() {
    return List.of(new VolumeType("t-1", "iscsi", Map.of()));
  }

  @Override
  public List<AvailabilityZone> listAvailabilityZones() {
    return List.of();
  }

  private static CinderVolume with(CinderVolume v, String status, List<CinderVolume.Attachment> attachments) {
    return new CinderVolume(v.id(), v.name(), status, v.sizeGiB(), v.volumeType(), v.availabilityZone(), v.metadata(),
        v.multiattach(), attachments);
  }

  // Not used on the attachments path the RBAC scenario takes.
  @Override
  public void reserve(String volumeId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void unreserve(String volumeId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ConnectionInfo initializeConnection(String volumeId, Connector connector) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void terminateConnection(String volumeId, Connector connector) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void attach(String volumeId, String hostName, String mountpoint) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void detach(String volumeId, String attachmentId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void extendVolume(String volumeId, int newSizeGiB) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CinderSnapshot createSnapshot(String volumeId, String name, Map<String, String> metadata, boolean force) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Optional<CinderSnapshot> getSnapshot(String snapshotId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public List<CinderSnapshot> listSnapshots(Map<String, String> metadata) {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean deleteSnapshot(String snapshotId) {
    throw new UnsupportedOperationException();
  }
}
