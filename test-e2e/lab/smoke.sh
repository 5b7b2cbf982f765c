#!/bin/bash
# End-to-end smoke test of a running lab (start it with up.sh first).
# Uses only curl, Debian's python3 (json) and libiscsi-bin / qemu-io as a
# userspace iSCSI initiator. Exits non-zero with a message on any failure.
#
# Usage: smoke.sh            (reads $LAB_STATE/lab.env written by up.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
ENVF="$LAB_STATE/lab.env"
[ -f "$ENVF" ] || die "no $ENVF: run up.sh first"
# shellcheck disable=SC1090
. "$ENVF"
T_ALL=$(now)
STEP_T=$(now)
log "lab ($LAB_MODE) was brought up with install ${LAB_INSTALL_SECONDS:-?} s, start ${LAB_START_SECONDS:-?} s"
step() { log "ok   $1 ($(since "$STEP_T") s)"; STEP_T=$(now); }
fail() { log "FAIL $*"; log "cinder logs: $LAB_STATE/log (cinder-volume.log, cinder-api.log)"; exit 1; }
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# ---------------------------------------------------------------- token
if [ "$LAB_MODE" = keystone ]; then
  body=$($PY - <<EOF
import json
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
  "name": "$OS_USERNAME", "domain": {"name": "$OS_USER_DOMAIN_NAME"}, "password": "$OS_PASSWORD"}}},
  "scope": {"project": {"name": "$OS_PROJECT_NAME", "domain": {"name": "$OS_PROJECT_DOMAIN_NAME"}}}}}))
EOF
)
  TOKEN=$(curl -sS -f -D - -o /dev/null -H 'Content-Type: application/json' -d "$body" "$OS_AUTH_URL/auth/tokens" \
    | awk 'tolower($1)=="x-subject-token:" {print $2}' | tr -d '\r') || fail "keystone password auth at $OS_AUTH_URL"
  [ -n "$TOKEN" ] || fail "keystone returned no X-Subject-Token"
  if [ -n "${OS_APPLICATION_CREDENTIAL_ID:-}" ]; then
    AC_TOKEN=$(curl -sS -f -D - -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":{\"id\":\"$OS_APPLICATION_CREDENTIAL_ID\",\"secret\":\"$OS_APPLICATION_CREDENTIAL_SECRET\"}}}}" \
      "$OS_AUTH_URL/auth/tokens" | awk 'tolower($1)=="x-subject-token:" {print $2}' | tr -d '\r') \
      || fail "application credential auth at $OS_AUTH_URL"
    ac=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $AC_TOKEN" "$CINDER_ENDPOINT/volumes")
    [ "$ac" = 200 ] || fail "cinder refused the application-credential token (HTTP $ac)"
  fi
  # A bad token must be refused by cinder (keystonemiddleware really checks).
  bad=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: bogus' "$CINDER_ENDPOINT/volumes")
  [ "$bad" = 401 ] || fail "cinder accepted a bogus token (HTTP $bad)"
  step "keystone token (password$([ -n "${OS_APPLICATION_CREDENTIAL_ID:-}" ] && echo ' + application credential'); bogus token -> 401)"
else
  TOKEN="$CINDER_NOAUTH_TOKEN"
fi

# api METHOD URL [JSON] [MICROVERSION] -> body; fails on HTTP >= 400
api() {
  local m="$1" url="$2" d="${3:-}" mv="${4:-3.0}" out code
  out=$(mktemp)
  code=$(curl -sS -o "$out" -w '%{http_code}' -X "$m" -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -H "OpenStack-API-Version: volume $mv" ${d:+--data "$d"} "$url") || { rm -f "$out"; fail "$m $url: curl error"; }
  if [ "$code" -ge 400 ]; then echo "HTTP $code: $(cat "$out")" >&2; rm -f "$out"; fail "$m $url -> HTTP $code"; fi
  cat "$out"; rm -f "$out"
}
E="$CINDER_ENDPOINT"; EP="$CINDER_ENDPOINT_WITH_PROJECT"
vol_status() { api GET "$E/volumes/$1" | json 'd["volume"]["status"]'; }
wait_status() {  # wait_status VOLUME_ID WANTED SECONDS
  local i s=""
  for i in $(seq 1 $(($3 * 4))); do
    s=$(vol_status "$1")
    [ "$s" = "$2" ] && return 0
    case "$s" in error*) fail "volume $1 went to $s (wanted $2)";; esac
    sleep 0.25
  done
  fail "volume $1 is '$s' after $3 s (wanted $2)"
}
wait_gone() {
  local i code
  for i in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$E/volumes/$1")
    [ "$code" = 404 ] && return 0
    sleep 0.25
  done
  fail "volume $1 still there 30 s after delete"
}
CONNECTOR='{"initiator": "iqn.2004-10.com.ubuntu:01:lab", "host": "lab", "ip": "127.0.0.1", "multipath": false}'

# check_iscsi CONNECTION_INFO_JSON LABEL: log in with exactly the returned
# fields, see the LUN, write+read a block, and make sure a wrong password fails.
check_iscsi() {
  local ci="$1" label="$2" portal iqn lun user pass url
  read -r dvt portal iqn lun am user pass < <($PY -c '
import json,sys
c=json.loads(sys.argv[1])
# legacy os-initialize_connection nests the fields under "data"; the
# attachments API returns them flat, next to driver_volume_type.
d=c["data"] if "data" in c else c
print(c["driver_volume_type"], d["target_portal"], d["target_iqn"], d["target_lun"], d.get("auth_method"), d.get("auth_username"), d.get("auth_password"))' "$ci")
  [ "$dvt" = iscsi ] || fail "$label: driver_volume_type '$dvt', want iscsi"
  [ "$am" = CHAP ] || fail "$label: auth_method '$am', want CHAP"
  [ "$portal" = 127.0.0.1:3260 ] || fail "$label: target_portal '$portal'"
  url="iscsi://$user%$pass@${portal%:3260}/$iqn"
  # iscsi-inq logs in to this one target; iscsi-ls -s would also try every other target the portal lists
  # (other volumes, other CHAP accounts) and fail on them.
  iscsi-inq "$url/$lun" > "$LAB_STATE/run/iscsi-inq.out" 2>&1 || { cat "$LAB_STATE/run/iscsi-inq.out" >&2; fail "$label: iscsi-inq login with returned CHAP credentials"; }
  grep -qi "Peripheral Device Type.*DIRECT_ACCESS\|DIRECT_ACCESS\|Direct access" "$LAB_STATE/run/iscsi-inq.out" || { cat "$LAB_STATE/run/iscsi-inq.out" >&2; fail "$label: LUN $lun is not a disk"; }
  step "$label: CHAP login as $user to $iqn, LUN $lun visible"
  local pat; pat=$(printf '0x%02x' $((RANDOM % 200 + 20)))
  qemu-io -f raw -c "write -P $pat 8192 4096" "$url/$lun" >/dev/null || fail "$label: qemu-io write over iSCSI"
  qemu-io -f raw -c "read -P $pat 8192 4096" "$url/$lun" >/dev/null || fail "$label: read-back did not return pattern $pat"
  if qemu-io -f raw -c "read -P 0x01 8192 4096" "$url/$lun" >/dev/null 2>&1; then fail "$label: pattern check is vacuous"; fi
  step "$label: wrote and read back a 4 KiB block (pattern $pat) over iSCSI"
  if iscsi-inq "iscsi://$user%wrong-$pass@${portal%:3260}/$iqn/$lun" >/dev/null 2>&1; then fail "$label: wrong CHAP password was accepted"; fi
  if iscsi-inq "iscsi://${portal%:3260}/$iqn/$lun" >/dev/null 2>&1; then fail "$label: login without CHAP was accepted"; fi
  step "$label: wrong / missing CHAP password refused"
}

# ---------------------------------------------------------------- 1. versions
code=$(curl -s -o "$LAB_STATE/run/versions.json" -w '%{http_code}' "${E%/v3}/")
[ "$code" = 300 ] || [ "$code" = 200 ] || fail "version document at / returned HTTP $code"
maxv=$($PY -c 'import json,sys; print([v for v in json.load(open(sys.argv[1]))["versions"] if v["id"]=="v3.0"][0]["version"])' "$LAB_STATE/run/versions.json") \
  || fail "no v3.0 in version document"
step "version document at / (v3.0, max microversion $maxv)"

# ---------------------------------------------------------------- 2. legacy attach flow
VID=$(api POST "$E/volumes" '{"volume": {"size": 1, "name": "lab-smoke", "volume_type": "'"$CINDER_VOLUME_TYPE"'"}}' | json 'd["volume"]["id"]')
step "create 1 GiB volume $VID of type $CINDER_VOLUME_TYPE (no project in URL)"
wait_status "$VID" available 60
api GET "$EP/volumes/$VID" | json 'd["volume"]["volume_type"]' | grep -qx "$CINDER_VOLUME_TYPE" || fail "GET with project in URL"
step "volume available; also visible at \$CINDER_ENDPOINT_WITH_PROJECT"
api POST "$EP/volumes/$VID/action" '{"os-reserve": {}}' >/dev/null
[ "$(vol_status "$VID")" = attaching ] || fail "os-reserve did not move volume to attaching"
step "os-reserve (project in URL) -> attaching"
CI=$(api POST "$E/volumes/$VID/action" "{\"os-initialize_connection\": {\"connector\": $CONNECTOR}}" | json 'json.dumps(d["connection_info"])')
step "os-initialize_connection"
check_iscsi "$CI" "legacy"
api POST "$E/volumes/$VID/action" "{\"os-terminate_connection\": {\"connector\": $CONNECTOR}}" >/dev/null
api POST "$E/volumes/$VID/action" '{"os-unreserve": {}}' >/dev/null
wait_status "$VID" available 30
step "os-terminate_connection + os-unreserve -> available"
api DELETE "$E/volumes/$VID" >/dev/null
wait_gone "$VID"
step "delete volume, gone (404)"

# ---------------------------------------------------------------- 3. attachments API
VID=$(api POST "$EP/volumes" '{"volume": {"size": 1, "name": "lab-smoke-attach", "volume_type": "'"$CINDER_MULTIATTACH_VOLUME_TYPE"'"}}' | json 'd["volume"]["id"]')
wait_status "$VID" available 60
ma=$(api GET "$E/volumes/$VID" | json 'd["volume"]["multiattach"]')
[ "$ma" = True ] || fail "volume of type $CINDER_MULTIATTACH_VOLUME_TYPE is not multiattach"
step "create multiattach volume $VID (project in URL), available"
ATT=$(api POST "$E/attachments" "{\"attachment\": {\"volume_uuid\": \"$VID\", \"connector\": $CONNECTOR}}" 3.27)
AID=$(echo "$ATT" | json 'd["attachment"]["id"]')
CI=$(echo "$ATT" | json 'json.dumps(d["attachment"]["connection_info"])')
step "POST /attachments (3.27) with connector -> $AID"
check_iscsi "$CI" "attachments"
api POST "$E/attachments/$AID/action" '{"os-complete": null}' 3.44 >/dev/null
wait_status "$VID" in-use 30
step "os-complete (3.44) -> in-use"
api DELETE "$E/attachments/$AID" '' 3.27 >/dev/null
wait_status "$VID" available 30
step "DELETE /attachments/$AID -> available"
api DELETE "$EP/volumes/$VID" >/dev/null
wait_gone "$VID"
step "delete volume, gone (404)"

# ---------------------------------------------------------------- 4. lab driver ops
# snapshot, volume from snapshot, clone, extend (what the provisioner's
# snapshot/clone/resize paths will call)
VID=$(api POST "$E/volumes" '{"volume": {"size": 1, "name": "lab-smoke-src", "volume_type": "'"$CINDER_VOLUME_TYPE"'"}}' | json 'd["volume"]["id"]')
wait_status "$VID" available 60
SID=$(api POST "$E/snapshots" "{\"snapshot\": {\"volume_id\": \"$VID\", \"name\": \"lab-smoke-snap\"}}" | json 'd["snapshot"]["id"]')
for i in $(seq 1 120); do
  st=$(api GET "$E/snapshots/$SID" | json 'd["snapshot"]["status"]')
  [ "$st" = available ] && break
  case "$st" in error*) fail "snapshot $SID went to $st";; esac
  sleep 0.25
done
[ "$st" = available ] || fail "snapshot $SID is '$st' after 30 s"
step "snapshot $SID available"
FROM_SNAP=$(api POST "$E/volumes" "{\"volume\": {\"size\": 2, \"snapshot_id\": \"$SID\", \"name\": \"lab-smoke-from-snap\"}}" | json 'd["volume"]["id"]')
CLONE=$(api POST "$E/volumes" "{\"volume\": {\"size\": 1, \"source_volid\": \"$VID\", \"name\": \"lab-smoke-clone\"}}" | json 'd["volume"]["id"]')
wait_status "$FROM_SNAP" available 60
wait_status "$CLONE" available 60
step "volume from snapshot (grown to 2 GiB) and clone available"
api POST "$E/volumes/$CLONE/action" '{"os-extend": {"new_size": 3}}' >/dev/null
for i in $(seq 1 120); do
  sz=$(api GET "$E/volumes/$CLONE" | json 'str(d["volume"]["size"]) + " " + d["volume"]["status"]')
  [ "$sz" = "3 available" ] && break
  sleep 0.25
done
[ "$sz" = "3 available" ] || fail "extend: volume $CLONE is '$sz', want '3 available'"
step "extend clone to 3 GiB"
api DELETE "$E/volumes/$FROM_SNAP" >/dev/null
api DELETE "$E/volumes/$CLONE" >/dev/null
api DELETE "$E/snapshots/$SID" >/dev/null
for i in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$E/snapshots/$SID")" = 404 ] && break
  sleep 0.25
done
api DELETE "$E/volumes/$VID" >/dev/null
wait_gone "$FROM_SNAP"; wait_gone "$CLONE"; wait_gone "$VID"
step "deleted snapshot and the three volumes"

# ---------------------------------------------------------------- 5. RBD (optional)
if [ "${CINDER_RBD_AVAILABLE:-0}" = 1 ]; then
  VID=$(api POST "$E/volumes" '{"volume": {"size": 1, "name": "lab-smoke-rbd", "volume_type": "'"$CINDER_RBD_VOLUME_TYPE"'"}}' | json 'd["volume"]["id"]')
  wait_status "$VID" available 60
  step "create RBD volume $VID of type $CINDER_RBD_VOLUME_TYPE, available"
  api POST "$E/volumes/$VID/action" '{"os-reserve": {}}' >/dev/null
  CI=$(api POST "$E/volumes/$VID/action" "{\"os-initialize_connection\": {\"connector\": $CONNECTOR}}" | json 'json.dumps(d["connection_info"])')
  read -r dvt name mons user < <($PY -c '
import json,sys
c=json.loads(sys.argv[1]); d=c["data"]
# qemu rbd filename syntax: ":" and ";" inside option values are escaped with "\\"
print(c["driver_volume_type"], d["name"], "\\;".join("%s\\:%s" % hp for hp in zip(d["hosts"], d["ports"])), d["auth_username"])' "$CI")
  [ "$dvt" = rbd ] || fail "rbd: driver_volume_type '$dvt'"
  step "rbd: os-initialize_connection -> $name on mons $mons as $user"
  # qemu's rbd driver with exactly the returned image name, monitors and user
  url="rbd:$name:id=$user:mon_host=$mons:keyring=$CEPH_KEYRING"
  qemu-io -f raw -c "write -P 0x5a 8192 4096" "$url" >/dev/null || fail "rbd: qemu-io write to $name"
  qemu-io -f raw -c "read -P 0x5a 8192 4096" "$url" >/dev/null || fail "rbd: read-back of $name"
  step "rbd: wrote and read back a 4 KiB block through librbd"
  api POST "$E/volumes/$VID/action" "{\"os-terminate_connection\": {\"connector\": $CONNECTOR}}" >/dev/null
  api POST "$E/volumes/$VID/action" '{"os-unreserve": {}}' >/dev/null
  wait_status "$VID" available 30
  api DELETE "$E/volumes/$VID" >/dev/null
  wait_gone "$VID"
  step "rbd: terminate, unreserve, delete, gone"
else
  log "skip RBD (CINDER_RBD_AVAILABLE=${CINDER_RBD_AVAILABLE:-0}; start with LAB_CEPH=1 up.sh)"
fi

log "SMOKE PASSED ($LAB_MODE) in $(since "$T_ALL") s"
