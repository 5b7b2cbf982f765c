package io.github.standalonecinder.mappers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Cinder's {@code connection_info} as returned by {@code os-initialize_connection} or an attachment:
 * the {@code driver_volume_type} and its untyped {@code data} map, exactly as decoded from JSON.
 * Each mapper parses the data into its own typed record, so a backend-specific field stays in one place.
 *
 * <p>{@code toString} never prints {@code data}: it holds CHAP passwords and cephx keys.
 */
public record ConnectionInfo(String driverVolumeType, Map<String, Object> data) {
  public ConnectionInfo {
    Objects.requireNonNull(driverVolumeType, "driverVolumeType");
    // Not Map.copyOf: Cinder sends JSON nulls (qos_specs, secret_uuid, auth_username) and copyOf rejects them.
    data = data == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(data));
  }

  @Override
  public String toString() {
    return "ConnectionInfo[driverVolumeType=" + driverVolumeType + ", data keys=" + data.keySet() + "]";
  }
}
