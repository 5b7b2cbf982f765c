package io.github.standalonecinder.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.github.standalonecinder.simulator.CinderSimulator;
import io.github.standalonecinder.simulator.SimVolume;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** What the chaos tests share: the fixture's names, the invariants, the log scan. */
final class Chaos {
  static final String PROVISIONER = "openstack.org/standalone-cinder";
  static final String NAMESPACE = "kube-system";
  /** The leader Lease of the default provisioner name. */
  static final String LEASE = "openstack.org-standalone-cinder";
  static final String KEYSTONE_USER = "chaos-admin";
  /** The Keystone password in the cloud config: must never show in a log. */
  static final String KEYSTONE_PASSWORD = "Chaos-Keystone-Pw-7d1e0b";
  static final boolean SOAK = Boolean.getBoolean("chaos.soak");

  private Chaos() {}

  /** A cloud config with Keystone password auth against the simulator (built with {@link #keystoneSim}). */
  static Path cloudConfig(Path dir, CinderSimulator sim) throws IOException {
    Path conf = dir.resolve("cloud.conf");
    Files.writeString(conf, "[Global]\nauth-url = " + sim.keystoneUrl() + "\nusername = " + KEYSTONE_USER
        + "\npassword = " + KEYSTONE_PASSWORD + "\nproject-name = chaos\nuser-domain-name = Default\n"
        + "project-domain-name = Default\n");
    return conf;
  }

  static CinderSimulator.Builder keystoneSim() {
    return CinderSimulator.builder()
        .auth(io.github.standalonecinder.simulator.SimulatorAuth.KEYSTONE)
        .projectId("chaos-project").projectName("chaos")
        .users(Map.of(KEYSTONE_USER, KEYSTONE_PASSWORD))
        .backend(io.github.standalonecinder.simulator.SimulatedBackend.ISCSI_CHAP)
        .volumeType("iscsi", Map.of());
  }

  static void storageClass(KubernetesClient kube, String name) {
    kube.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName(name)
        .endMetadata().withProvisioner(PROVISIONER).withParameters(Map.of("type", "iscsi"))
        .withReclaimPolicy("Delete").build()).create();
  }

  static PersistentVolumeClaim claim(KubernetesClient kube, String ns, String name, String sc) {
    try {
      return kube.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder()
          .withNewMetadata().withName(name).withNamespace(ns).endMetadata().withNewSpec().withStorageClassName(sc)
          .withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage", new Quantity("1Gi"))
          .endResources().endSpec().build()).create();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      // On a loaded machine the client may time out and send the POST again: the first one did create it.
      if (e.getCode() != 409) {
        throw e;
      }
      return kube.persistentVolumeClaims().inNamespace(ns).withName(name).get();
    }
  }

  static boolean bound(PersistentVolumeClaim c) {
    return c != null && c.getStatus() != null && "Bound".equals(c.getStatus().getPhase());
  }

  /** Claims Bound now, as the API server has them. */
  static int countBound(ChaosApiServer api) {
    return (int) api.client.persistentVolumeClaims().inAnyNamespace().list().getItems().stream()
        .filter(Chaos::bound).count();
  }

  /** Who holds the provisioner's leader Lease now, or null. */
  static String leaseHolder(ChaosApiServer api) {
    var l = api.client.leases().inNamespace(NAMESPACE).withName(LEASE).get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  static List<SimVolume> live(CinderSimulator sim) {
    return sim.volumes().stream().filter(v -> !"deleting".equals(v.status())).toList();
  }

  /**
   * The campaign's invariants, on the whole state: every claim Bound exactly once to its own PV, Cinder holds
   * exactly one volume per claim, no volume or Secret without an owner, no PV without a volume. Returns the count
   * of items lost or leaked (0 when all hold) after asserting.
   */
  static void assertNothingLost(KubernetesClient kube, CinderSimulator sim) {
    List<PersistentVolumeClaim> claims = kube.persistentVolumeClaims().inAnyNamespace().list().getItems();
    List<PersistentVolume> pvs = kube.persistentVolumes().list().getItems();
    List<SimVolume> volumes = live(sim);
    Map<String, SimVolume> volumesById = volumes.stream().collect(Collectors.toMap(SimVolume::id, v -> v));
    Map<String, Long> pvsPerClaim = pvs.stream().filter(p -> p.getSpec().getClaimRef() != null)
        .collect(Collectors.groupingBy(p -> p.getSpec().getClaimRef().getUid(), Collectors.counting()));
    Map<String, Long> volumesPerClaim = volumes.stream()
        .collect(Collectors.groupingBy(v -> String.valueOf(v.metadata().get(
            "standalone-cinder.openstack.org/pvc-uid")), Collectors.counting()));
    List<String> problems = new ArrayList<>();
    Set<String> uids = new LinkedHashSet<>();
    for (PersistentVolumeClaim c : claims) {
      String uid = c.getMetadata().getUid();
      String key = c.getMetadata().getNamespace() + "/" + c.getMetadata().getName();
      uids.add(uid);
      if (!bound(c)) {
        problems.add(key + " is not Bound");
      }
      if (!("pvc-" + uid).equals(c.getSpec().getVolumeName())) {
        problems.add(key + " is bound to " + c.getSpec().getVolumeName());
      }
      if (pvsPerClaim.getOrDefault(uid, 0L) != 1) {
        problems.add(key + " has " + pvsPerClaim.getOrDefault(uid, 0L) + " PVs");
      }
      if (volumesPerClaim.getOrDefault(uid, 0L) != 1) {
        problems.add(key + " has " + volumesPerClaim.getOrDefault(uid, 0L) + " Cinder volumes");
      }
      if (c.getMetadata().getFinalizers() != null
          && c.getMetadata().getFinalizers().contains("standalone-cinder.openstack.org/provisioning")) {
        problems.add(key + " still carries the provisioning finalizer");
      }
    }
    for (SimVolume v : volumes) {
      if (!uids.contains(v.metadata().get("standalone-cinder.openstack.org/pvc-uid"))) {
        problems.add("Cinder volume " + v.id() + " (" + v.name() + ", " + v.status() + ") has no claim");
      }
    }
    Set<String> pvNames = new LinkedHashSet<>();
    for (PersistentVolume p : pvs) {
      pvNames.add(p.getMetadata().getName());
      String id = p.getMetadata().getAnnotations() == null ? null
          : p.getMetadata().getAnnotations().get("cinderVolumeId");
      if (id == null || !volumesById.containsKey(id)) {
        problems.add("PV " + p.getMetadata().getName() + " has no Cinder volume (" + id + ")");
      }
    }
    for (Secret s : kube.secrets().inAnyNamespace().list().getItems()) {
      String pv = s.getMetadata().getLabels() == null ? null
          : s.getMetadata().getLabels().get("standalone-cinder.openstack.org/pv");
      if (pv != null && !pvNames.contains(pv)) {
        problems.add("Secret " + s.getMetadata().getNamespace() + "/" + s.getMetadata().getName() + " has no PV");
      }
    }
    if (volumes.size() != claims.size()) {
      problems.add(claims.size() + " claims but " + volumes.size() + " Cinder volumes");
    }
    assertThat(problems).as("invariants").isEmpty();
  }

  /**
   * {@link #assertNothingLost} once the controller has caught up: a claim seen Bound may still carry the
   * provisioning finalizer for a moment (the controller drops it right after saving the PV, the binder binds at
   * the same time).
   */
  static void awaitNothingLost(KubernetesClient kube, CinderSimulator sim) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
        .untilAsserted(() -> assertNothingLost(kube, sim));
  }

  /** Every decoded Secret value: CHAP passwords, usernames, cephx keys the campaign must never log. */
  static Set<String> secretValues(KubernetesClient kube) {
    Set<String> out = new LinkedHashSet<>();
    for (Secret s : kube.secrets().inAnyNamespace().list().getItems()) {
      if (s.getData() == null) {
        continue;
      }
      for (var e : s.getData().entrySet()) {
        if (e.getKey().contains("password") || e.getKey().contains("secret") || e.getKey().contains("key")) {
          String v = new String(Base64.getDecoder().decode(e.getValue()), StandardCharsets.UTF_8);
          if (v.length() >= 6) {
            out.add(v);
          }
        }
      }
    }
    return out;
  }

  private static final Pattern TOKEN_HEADER = Pattern.compile("(?i)(x-auth-token|authorization)\\s*[:=]\\s*\\S{8,}");

  /** Asserts no secret appears in any of the logs; returns how many lines were scanned. */
  static long assertNoSecretsIn(List<Path> logs, Set<String> secrets) throws IOException {
    long lines = 0;
    Map<String, String> leaks = new HashMap<>();
    for (Path log : logs) {
      if (!Files.exists(log)) {
        continue;
      }
      for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
        lines++;
        for (String s : secrets) {
          if (line.contains(s)) {
            leaks.putIfAbsent(s.substring(0, 3) + "…", log.getFileName() + ": " + line.replace(s, "<LEAKED>"));
          }
        }
        if (TOKEN_HEADER.matcher(line).find()) {
          leaks.putIfAbsent("token header", log.getFileName() + ": " + line);
        }
      }
    }
    assertThat(leaks).as("secrets in logs").isEmpty();
    return lines;
  }

  /** Where the jar processes' logs go (kept after the run, for the log scan and for a post-mortem). */
  static Path logDir(String test) throws IOException {
    Path d = Path.of("target", "chaos-logs", test + "-" + System.currentTimeMillis());
    Files.createDirectories(d);
    return d;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
