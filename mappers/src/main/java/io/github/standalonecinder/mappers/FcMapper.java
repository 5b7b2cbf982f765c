package io.github.standalonecinder.mappers;

import io.fabric8.kubernetes.api.model.FCVolumeSource;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code driver_volume_type: fibre_channel} to {@code spec.fc}. No Secrets: FC has no authentication.
 *
 * <p>Kubernetes takes one LUN for all WWNs; when Cinder reports per-target LUNs that differ, the WWNs with the
 * first target's LUN are kept, the same policy as for iSCSI portals.
 */
public final class FcMapper implements VolumeMapper {
  public static final String DRIVER_VOLUME_TYPE = "fibre_channel";

  private static final Logger LOG = LoggerFactory.getLogger(FcMapper.class);

  @Override
  public String driverVolumeType() {
    return DRIVER_VOLUME_TYPE;
  }

  @Override
  public Set<String> parameterNames() {
    return Set.of(Parameters.FS_TYPE);
  }

  @Override
  public void validateParameters(Map<String, String> parameters) throws MappingException {
    Parameters.validateFsType(parameters);
  }

  @Override
  public MappedVolume map(ConnectionInfo info, MappingRequest request) throws MappingException {
    validateParameters(request.parameters());
    FcConnection conn = FcConnection.parse(info);
    FCVolumeSource fc = new FCVolumeSource();
    if (conn.targets().isEmpty()) {
      fc.setWwids(conn.wwids());
    } else {
      int lun = conn.targets().get(0).lun();
      Set<String> wwns = new LinkedHashSet<>();
      List<String> dropped = new ArrayList<>();
      for (FcConnection.Target t : conn.targets()) {
        if (t.lun() == lun) {
          wwns.add(t.wwn());
        } else {
          dropped.add(t.wwn() + " lun " + t.lun());
        }
      }
      if (!dropped.isEmpty()) {
        LOG.info("PV {}: dropping FC targets {}: Kubernetes uses one LUN ({}) for all WWNs", request.pvName(),
            dropped, lun);
      }
      fc.setTargetWWNs(List.copyOf(wwns));
      fc.setLun(lun);
    }
    fc.setFsType(Parameters.value(request.parameters(), Parameters.FS_TYPE));
    fc.setReadOnly(request.readOnly());
    PersistentVolumeSpec spec = new PersistentVolumeSpec();
    spec.setFc(fc);
    return new MappedVolume(spec, List.of());
  }

  @Override
  public boolean handles(PersistentVolume pv) {
    return pv.getSpec() != null && pv.getSpec().getFc() != null;
  }

  @Override
  public List<SecretRef> ownedSecrets(PersistentVolume pv) {
    return List.of();
  }
}
