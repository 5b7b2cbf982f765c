package io.github.standalonecinder.mappers;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Connection-info fixtures and requests shared by the mapper tests. */
final class TestData {
  static final String PV = "pvc-6f1c2b8e-3d4a-4f5b-9c6d-7e8f9a0b1c2d";
  static final String SECRET_NAMESPACE = "standalone-cinder";
  static final String NODE_IQN = "iqn.1994-05.com.redhat:k8s-worker-1";
  static final Connector CONNECTOR = new Connector("k8s-worker-1", "10.0.0.21", NODE_IQN,
      List.of("10000090fa3c4d5e", "10000090fa3c4d5f"), List.of("20000090fa3c4d5e"), true, "x86_64", "linux2");

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestData() {
  }

  /** A fixture under connection-info/, decoded the way a JSON client hands it to the mappers. */
  static ConnectionInfo fixture(String name) {
    return fixture(name, data -> { });
  }

  /** A fixture with its data edited first, for bad-input cases. */
  static ConnectionInfo fixture(String name, Consumer<Map<String, Object>> edit) {
    try (InputStream in = TestData.class.getResourceAsStream("/connection-info/" + name + ".json")) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      Map<String, Object> root = JSON.readValue(in, new TypeReference<>() { });
      @SuppressWarnings("unchecked")
      Map<String, Object> data = new LinkedHashMap<>((Map<String, Object>) root.get("data"));
      edit.accept(data);
      return new ConnectionInfo((String) root.get("driver_volume_type"), data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static MappingRequest request(Map<String, String> parameters) {
    return request(parameters, CONNECTOR, false);
  }

  static MappingRequest request(Map<String, String> parameters, Connector connector, boolean readOnly) {
    return new MappingRequest(PV, "shop", "orders-db", "cinder", SECRET_NAMESPACE, parameters, connector, readOnly,
        MappingRequest.SecretPlacement.PROVISIONER);
  }

  static Map<String, String> decoded(Secret secret) {
    Map<String, String> out = new LinkedHashMap<>();
    secret.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    return out;
  }
}
