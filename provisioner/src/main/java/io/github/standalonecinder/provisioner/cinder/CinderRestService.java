package io.github.standalonecinder.provisioner.cinder;

import java.util.Map;
import org.openstack4j.api.types.ServiceType;
import org.openstack4j.core.transport.HttpMethod;
import org.openstack4j.core.transport.HttpResponse;
import org.openstack4j.openstack.internal.BaseOpenStackService;

/**
 * The one extension of OpenStack4j we need: raw JSON calls to the block-storage endpoint of the current thread's
 * session, with any headers (the microversion) and query parameters, returning status, headers and body
 * unparsed. OpenStack4j's own Cinder API lacks reserve, initialize_connection, attachments and microversions,
 * and maps statuses through a lossy enum.
 */
final class CinderRestService extends BaseOpenStackService {

  /** An HTTP answer, read completely. */
  record Raw(int status, String body, Map<String, String> headers) {
    String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
          return e.getValue();
        }
      }
      return null;
    }
  }

  CinderRestService() {
    super(ServiceType.BLOCK_STORAGE);
  }

  Raw send(HttpMethod method, String path, Map<String, ?> params, String json, Map<String, String> headers) {
    Invocation<Void> call = request(method, Void.class, path);
    if (params != null) {
      call.params(params);
    }
    if (headers != null) {
      headers.forEach(call::header);
    }
    if (json != null) {
      call.json(json);
    }
    try (HttpResponse response = call.executeWithResponse()) {
      // Raw bytes: the connector's readEntity(String.class) runs the body through Jackson.
      String body = "";
      if (response.getStatus() != 204) {
        try (java.io.InputStream in = response.getInputStream()) {
          body = in == null ? "" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
      }
      return new Raw(response.getStatus(), body, response.headers());
    } catch (java.io.IOException e) {
      throw new org.openstack4j.api.exceptions.ConnectionException(e.getMessage(), 0, e);
    }
  }
}
