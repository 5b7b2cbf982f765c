#!/usr/bin/env bash
# Opt-in end-to-end check on a real cluster: builds the image, starts a Kind cluster, installs the chart (or
# deploy/standalone-cinder.yaml when helm is missing), runs the Cinder simulator as a pod (or uses the Cinder of
# CLOUD_CONF=<file>), applies the examples, waits for the claims to bind, deletes them and waits for the PVs to go.
# Where Docker or kind is missing it prints "SKIP: <reason>" and exits 0.
#
# Environment: CLUSTER (kind cluster name, default standalone-cinder-e2e), KEEP_CLUSTER=1 (do not delete it),
# CLOUD_CONF (cloud.conf of a real Cinder; default: the simulator), IMAGE (default standalone-cinder:e2e),
# TIMEOUT (seconds per wait, default 180), DOCKER / KIND / KUBECTL / HELM (the commands to use).
set -euo pipefail

DOCKER=${DOCKER:-docker}
KIND=${KIND:-kind}
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-helm}
CLUSTER=${CLUSTER:-standalone-cinder-e2e}
IMAGE=${IMAGE:-standalone-cinder:e2e}
TIMEOUT=${TIMEOUT:-180}
NS=standalone-cinder
SIM_NS=standalone-cinder-e2e
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

skip() {
  echo "SKIP: $*"
  exit 0
}

command -v "$DOCKER" >/dev/null 2>&1 || skip "no docker client ($DOCKER) on PATH"
"$DOCKER" info >/dev/null 2>&1 || skip "docker cannot reach a Docker engine ('$DOCKER info' failed)"
command -v "$KIND" >/dev/null 2>&1 || skip "no kind ($KIND) on PATH: https://kind.sigs.k8s.io/docs/user/quick-start/"
command -v "$KUBECTL" >/dev/null 2>&1 || skip "no kubectl ($KUBECTL) on PATH"

log() {
  echo "==> $*"
}

WORK=$(mktemp -d)
created_cluster=""
on_exit() {
  status=$?
  if [[ $status -ne 0 && -n "$created_cluster" ]]; then
    echo "FAILED (exit $status); diagnostics:" >&2
    "$KUBECTL" -n "$NS" logs -l app.kubernetes.io/name=standalone-cinder --tail=200 --all-containers >&2 || true
    "$KUBECTL" get pvc,pv -A -o wide >&2 || true
    "$KUBECTL" get events -A --sort-by=.metadata.creationTimestamp >&2 || true
  fi
  if [[ -n "$created_cluster" && "${KEEP_CLUSTER:-0}" != 1 ]]; then
    "$KIND" delete cluster --name "$CLUSTER" || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap on_exit EXIT

# Polls a command until it succeeds or TIMEOUT passes.
wait_for() {
  local what=$1
  shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "timed out after ${TIMEOUT}s waiting for $what" >&2
      return 1
    fi
    sleep 2
  done
  log "$what"
}

no_pvs_left() {
  [[ -z "$("$KUBECTL" get pv -l app.kubernetes.io/managed-by=standalone-cinder -o name)" ]]
}

claim_bound() {
  [[ "$("$KUBECTL" -n default get pvc "$1" -o 'jsonpath={.status.phase}')" == Bound ]]
}

if [[ ! -f "$ROOT/cmd/target/standalone-cinder.jar" ]]; then
  log "building the jar"
  (cd "$ROOT" && mvn -B -q -Dstyle.color=never -DskipTests package)
fi
log "building image $IMAGE"
"$DOCKER" build -t "$IMAGE" "$ROOT"

log "creating kind cluster $CLUSTER"
"$KIND" create cluster --name "$CLUSTER" --wait 120s
created_cluster=yes
"$KIND" load docker-image "$IMAGE" --name "$CLUSTER"

if [[ -n "${CLOUD_CONF:-}" ]]; then
  cp "$CLOUD_CONF" "$WORK/cloud.conf"
else
  log "starting the Cinder simulator (same image, 'simulator' command)"
  "$KUBECTL" create namespace "$SIM_NS"
  "$KUBECTL" apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: cinder-simulator
  namespace: $SIM_NS
  labels: {app: cinder-simulator}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532}
  containers:
    - name: simulator
      image: $IMAGE
      imagePullPolicy: Never
      args: [simulator, --bind, 0.0.0.0, --port, "8776"]
      ports: [{containerPort: 8776, name: cinder}]
      readinessProbe: {tcpSocket: {port: 8776}}
---
apiVersion: v1
kind: Service
metadata:
  name: cinder-simulator
  namespace: $SIM_NS
spec:
  selector: {app: cinder-simulator}
  ports: [{port: 8776, targetPort: cinder}]
YAML
  "$KUBECTL" -n "$SIM_NS" wait --for=condition=Ready pod/cinder-simulator --timeout="${TIMEOUT}s"
  cat >"$WORK/cloud.conf" <<CONF
[Global]
cinder-endpoint = http://cinder-simulator.$SIM_NS.svc:8776/v3
username = admin
tenant-name = admin
CONF
fi

repo=${IMAGE%:*}
tag=${IMAGE##*:}
if command -v "$HELM" >/dev/null 2>&1; then
  log "installing the chart with helm"
  "$HELM" install standalone-cinder "$ROOT/charts/standalone-cinder" --namespace "$NS" --create-namespace \
    --set image.repository="$repo" --set image.tag="$tag" --set image.pullPolicy=Never \
    --set cloudConfig.create=true --set-file cloudConfig.content="$WORK/cloud.conf"
else
  log "no helm: applying deploy/standalone-cinder.yaml"
  "$KUBECTL" create namespace "$NS"
  "$KUBECTL" -n "$NS" create secret generic standalone-cinder-cloud-config --from-file=cloud.conf="$WORK/cloud.conf"
  sed -e "s#image: \"ghcr.io/standalone-cinder/standalone-cinder:[^\"]*\"#image: \"$IMAGE\"#" \
    -e "s#imagePullPolicy: IfNotPresent#imagePullPolicy: Never#" \
    "$ROOT/deploy/standalone-cinder.yaml" | "$KUBECTL" apply -f -
fi
"$KUBECTL" -n "$NS" rollout status deploy/standalone-cinder --timeout="${TIMEOUT}s"

log "applying the examples"
"$KUBECTL" apply -f "$ROOT/examples/storageclass-iscsi.yaml"
"$KUBECTL" apply -f "$ROOT/examples/claim-filesystem.yaml" -f "$ROOT/examples/claim-block.yaml"
wait_for "claim data is Bound" claim_bound data
wait_for "claim raw is Bound" claim_bound raw
"$KUBECTL" get pvc -n default
"$KUBECTL" get pv -o wide

log "deleting the claims"
"$KUBECTL" delete -f "$ROOT/examples/claim-filesystem.yaml" -f "$ROOT/examples/claim-block.yaml" --wait=true
wait_for "the provisioner deleted its PVs" no_pvs_left

log "PASS"
