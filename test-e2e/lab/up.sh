#!/bin/bash
# Bring up a real Cinder (Debian's cinder 21.x / Zed) on loopback for the
# standalone-cinder end-to-end tests.
#
# Usage: up.sh [noauth|keystone]     (default: $LAB_MODE or noauth)
# Idempotent: running it again with the same mode keeps running services;
# a different mode restarts the Cinder services with the new config.
# State (configs, MariaDB data, volume files, logs, pid files) lives in
# ${LAB_STATE:-/var/tmp/standalone-cinder-lab}; the env file for tests is
# $LAB_STATE/lab.env. All services run as root (see README.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODE="${1:-${LAB_MODE:-noauth}}"
case "$MODE" in noauth|keystone) ;; *) die "usage: up.sh [noauth|keystone] (got '$MODE')";; esac
[ "$(id -u)" = 0 ] || die "up.sh must run as root (apt-get, tgtd, cinder-volume privsep)"
PY=/usr/bin/python3   # Debian's python, where cinder lives (not pyenv's)

T_ALL=$(now)
trap 'rc=$?; if [ $rc -ne 0 ]; then log "up.sh FAILED (exit $rc)"; dump_logs; fi' EXIT

# ---------------------------------------------------------------- install
t=$(now)
LAB_INSTALL_LOG="$LAB_STATE/log/install.log"
mkdir -p "$LAB_STATE"/{log,run,etc,cinder,volumes,volumes-z2,volumes-rep,tgt,lock,rabbitmq,keystone}
export LAB_INSTALL_LOG
"$LAB_DIR/install.sh" "$MODE"
if [ "${LAB_CEPH:-0}" = 1 ]; then "$LAB_DIR/install.sh" ceph; fi
if [ "${LAB_BACKUP:-0}" = 1 ]; then "$LAB_DIR/install.sh" backup; fi
T_INSTALL=$(since "$t")

# If a lab in the other mode is running, restart the Cinder services.
if [ -f "$LAB_STATE/run/mode" ] && [ "$(cat "$LAB_STATE/run/mode")" != "$MODE" ]; then
  log "switching lab mode $(cat "$LAB_STATE/run/mode") -> $MODE: restarting cinder services"
  stop_pids cinder-backup cinder-volume cinder-scheduler cinder-api cinder-api-noauth keystone
fi

t_start=$(now)
# start_bg NAME LOGFILE CMD...: start CMD detached (own session), record pid.
start_bg() {
  local name="$1" out="$2"; shift 2
  if pid_alive "$name"; then log "$name already running (pid $(cat "$LAB_STATE/run/$name.pid"))"; return 0; fi
  log "starting $name"
  setsid "$@" >>"$out" 2>&1 < /dev/null &
  echo $! > "$LAB_STATE/run/$name.pid"
}
# wait_for DESC SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local desc="$1" secs="$2" i; shift 2
  for i in $(seq 1 $((secs * 2))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $desc"
}
port_open() { (exec 3<>"/dev/tcp/$LAB_HOST/$1") 2>/dev/null; }
# wait_port NAME PORT SECONDS: wait until NAME (a lab pid) listens on PORT;
# fail at once if the process died.
wait_port() {
  local name="$1" port="$2" secs="$3" i
  for i in $(seq 1 $((secs * 2))); do
    port_open "$port" && return 0
    pid_alive "$name" || die "$name exited during start-up (see $LAB_STATE/log)"
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $name on 127.0.0.1:$port"
}
# require_port_free NAME PORT: before starting NAME, make sure no foreign
# process holds its port (else we would silently talk to someone else's).
require_port_free() {
  local name="$1" port="$2"
  pid_alive "$name" && return 0
  if ss -ltnH "sport = :$port" | grep -q .; then
    ss -ltnpH "sport = :$port" >&2
    die "port $port (for $name) is already in use by a process the lab did not start; stop it or set LAB_*_PORT"
  fi
}

# ---------------------------------------------------------------- rabbitmq
# Node port, Erlang distribution port and epmd all on 127.0.0.1.
RMQ="$LAB_STATE/rabbitmq"
cat > "$RMQ/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $RABBIT_DIST_PORT
distribution.listener.port_range.max = $RABBIT_DIST_PORT
loopback_users = none
default_user = lab
default_pass = lab
log.file.level = info
EOF
echo '[].' > "$RMQ/enabled_plugins"
if ss -ltnH "sport = :$EPMD_PORT" | awk '{print $4}' | grep -q -v -e '^127\.0\.0\.1:' -e '^\[::1\]:'; then
  log "WARNING: an epmd not started by the lab listens on a non-loopback address:"; ss -ltnp "sport = :$EPMD_PORT" >&2
fi
require_port_free rabbitmq "$RABBIT_PORT"
require_port_free rabbitmq "$RABBIT_DIST_PORT"
start_bg rabbitmq "$LAB_STATE/log/rabbitmq.out" env \
  HOME="$RMQ" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT" \
  RABBITMQ_NODENAME=lab@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBIT_PORT" \
  RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
  RABBITMQ_CONFIG_FILE="$RMQ/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ/enabled_plugins" \
  RABBITMQ_MNESIA_BASE="$RMQ/mnesia" RABBITMQ_LOG_BASE="$LAB_STATE/log" \
  RABBITMQ_PID_FILE="$RMQ/rabbitmq.pid" \
  /usr/lib/rabbitmq/bin/rabbitmq-server

# ---------------------------------------------------------------- mariadb
# Cinder's three services write to one DB concurrently; on sqlite that gives
# sporadic "database is locked" (a deferred transaction that read first cannot
# upgrade after another process committed), so the lab uses MariaDB on a unix
# socket only (--skip-networking: it does not listen on TCP at all).
MYSQL_DIR="$LAB_STATE/mysql"
MYSQL_SOCK="$LAB_STATE/run/mysqld.sock"
if [ ! -d "$MYSQL_DIR/mysql" ]; then
  mariadb-install-db --no-defaults --user=root --datadir="$MYSQL_DIR" --skip-test-db \
    --auth-root-authentication-method=socket >"$LAB_STATE/log/mariadb-install-db.log" 2>&1 \
    || die "mariadb-install-db failed (see $LAB_STATE/log/mariadb-install-db.log)"
fi
start_bg mariadb "$LAB_STATE/log/mariadb.out" /usr/sbin/mariadbd --no-defaults --user=root \
  --datadir="$MYSQL_DIR" --socket="$MYSQL_SOCK" --skip-networking \
  --pid-file="$LAB_STATE/run/mariadbd.own.pid" --log-error="$LAB_STATE/log/mariadb.log" \
  --innodb-buffer-pool-size=64M --performance-schema=OFF --max-connections=500
sql() { mariadb --no-defaults -S "$MYSQL_SOCK" -u root -e "$1"; }
for i in $(seq 1 120); do
  sql 'SELECT 1' >/dev/null 2>&1 && break
  pid_alive mariadb || die "mariadbd exited during start-up (see $LAB_STATE/log/mariadb.log)"
  sleep 0.5
done
sql 'SELECT 1' >/dev/null || die "mariadb did not answer on $MYSQL_SOCK within 60 s"
for db in cinder keystone; do
  sql "CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8mb4;
       CREATE USER IF NOT EXISTS '$db'@'localhost' IDENTIFIED BY 'lab';
       GRANT ALL PRIVILEGES ON $db.* TO '$db'@'localhost';"
done
export LAB_DB_URL_CINDER="mysql+pymysql://cinder:lab@localhost/cinder?unix_socket=$MYSQL_SOCK&charset=utf8mb4"
export LAB_DB_URL_KEYSTONE="mysql+pymysql://keystone:lab@localhost/keystone?unix_socket=$MYSQL_SOCK&charset=utf8mb4"

# ---------------------------------------------------------------- tgtd
# Userspace iSCSI target, portal on loopback only. Cinder's tgt helper runs
# `tgt-admin --update <iqn>`, which reads /etc/tgt/targets.conf; so the lab
# adds one include line for its own target dir (removed by down.sh).
echo "include $LAB_STATE/tgt/*" > /etc/tgt/conf.d/standalone-cinder-lab.conf
require_port_free tgtd 3260
start_bg tgtd "$LAB_STATE/log/tgtd.log" /usr/sbin/tgtd -f --iscsi portal=127.0.0.1:3260
wait_port tgtd 3260 30

# ---------------------------------------------------------------- keystone
if [ "$MODE" = keystone ]; then
  "$LAB_DIR/keystone.sh" start
fi

# ---------------------------------------------------------------- ceph (optional)
# LAB_CEPH=1 adds a single-node Ceph and Cinder's RBD driver as a second
# backend "lab-rbd". A Ceph failure is reported loudly but does not stop the
# iSCSI lab; the env file then has CINDER_RBD_AVAILABLE=0 and the reason.
# Two iSCSI backends in two availability zones (topology tests): "lab" in nova
# (Cinder's default AZ, where creates without one go) and "lab-z2" in
# lab-zone-2; both answer to volume_backend_name "lab", so the lab-iscsi type
# reaches either and the AZ picks the backend.
BACKENDS=lab,lab-z2
# LAB_REPLICATION=1 adds "lab-rep": the lab driver replicating to a secondary
# site (same files, another IQN prefix, portal 127.0.0.2:3260, new CHAP pairs),
# for failover-host tests. Off by default: nothing changes for other tests.
if [ "${LAB_REPLICATION:-0}" = 1 ]; then BACKENDS=lab,lab-z2,lab-rep; fi
RBD_AVAILABLE=0
RBD_REASON="not requested (set LAB_CEPH=1)"
if [ "${LAB_CEPH:-0}" = 1 ]; then
  if "$LAB_DIR/ceph.sh" up >>"$LAB_STATE/log/ceph-up.log" 2>&1; then
    BACKENDS="$BACKENDS,lab-rbd"; RBD_AVAILABLE=1; RBD_REASON=ok
  else
    RBD_REASON="ceph.sh up failed: $(grep ERROR "$LAB_STATE/log/ceph-up.log" | tail -n 1)"
    log "WARNING: Ceph/RBD unavailable, continuing with iSCSI only: $RBD_REASON (log: $LAB_STATE/log/ceph-up.log)"
  fi
else
  "$LAB_DIR/ceph.sh" down   # a Ceph left from an earlier LAB_CEPH=1 run is not needed
fi

# ---------------------------------------------------------------- cinder
CONF="$LAB_STATE/etc/cinder.conf"
cp /etc/cinder/api-paste.ini "$LAB_STATE/etc/api-paste.ini"
{
cat <<EOF
# Generated by test-e2e/lab/up.sh ($MODE) -- do not edit, rerun up.sh
[DEFAULT]
auth_strategy = $MODE
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
api_paste_config = $LAB_STATE/etc/api-paste.ini
transport_url = rabbit://lab:lab@127.0.0.1:$RABBIT_PORT/
state_path = $LAB_STATE/cinder
log_dir = $LAB_STATE/log
debug = ${LAB_DEBUG:-True}
my_ip = 127.0.0.1
host = lab
enabled_backends = $BACKENDS
rootwrap_config = /etc/cinder/rootwrap.conf
# the lab keeps everything on one host; no Glance, no Nova, no backup
glance_api_servers = http://127.0.0.1:9
report_interval = 5
periodic_interval = 10
service_down_time = 30
scheduler_driver_init_wait_time = 1
# e2e tests create many volumes in one project: no quota limits in the lab
quota_volumes = -1
quota_snapshots = -1
quota_gigabytes = -1
quota_backups = -1
quota_backup_gigabytes = -1
quota_groups = -1

[database]
connection = $LAB_DB_URL_CINDER

[oslo_concurrency]
lock_path = $LAB_STATE/lock

[coordination]
backend_url = file://$LAB_STATE/lock

[lab]
volume_driver = standalone_cinder_lab.LabFileISCSIDriver
volume_backend_name = lab
lab_volumes_dir = $LAB_STATE/volumes
target_helper = tgtadm
target_protocol = iscsi
target_ip_address = 127.0.0.1
target_port = 3260
volumes_dir = $LAB_STATE/tgt
use_chap_auth = True

[lab-z2]
volume_driver = standalone_cinder_lab.LabFileISCSIDriver
volume_backend_name = lab
backend_availability_zone = lab-zone-2
lab_volumes_dir = $LAB_STATE/volumes-z2
target_helper = tgtadm
target_protocol = iscsi
target_ip_address = 127.0.0.1
target_port = 3260
volumes_dir = $LAB_STATE/tgt
use_chap_auth = True
EOF
if [ "${LAB_REPLICATION:-0}" = 1 ]; then
cat <<EOF

[lab-rep]
volume_driver = standalone_cinder_lab.LabReplicatedISCSIDriver
volume_backend_name = lab-rep
lab_volumes_dir = $LAB_STATE/volumes-rep
target_helper = tgtadm
target_protocol = iscsi
target_ip_address = 127.0.0.1
target_port = 3260
volumes_dir = $LAB_STATE/tgt
use_chap_auth = True
replication_device = backend_id:secondary,portal_ip:127.0.0.2
EOF
fi
if [ "$MODE" = keystone ]; then "$LAB_DIR/keystone.sh" authtoken-section; fi
if [ "$RBD_AVAILABLE" = 1 ]; then cat "$LAB_STATE/ceph/cinder-backend.conf"; fi
} > "$CONF"
if [ "${LAB_BACKUP:-0}" = 1 ]; then
  # LAB_BACKUP=1: cinder-backup with the posix driver, backups as files under $LAB_STATE/backups
  mkdir -p "$LAB_STATE/backups"
  sed -i "/^\[DEFAULT\]/a backup_driver = cinder.backup.drivers.posix.PosixBackupDriver\nbackup_posix_path = $LAB_STATE/backups" "$CONF"
fi
# Restart cinder-volume if the backend set changed (e.g. LAB_CEPH toggled).
if [ "$(cat "$LAB_STATE/run/backends" 2>/dev/null)" != "$BACKENDS" ]; then
  stop_pids cinder-volume cinder-scheduler
fi
echo "$BACKENDS" > "$LAB_STATE/run/backends"

# Our driver module goes on the python path of cinder-volume only.
DRIVER_DIR="$LAB_STATE/pylib"
mkdir -p "$DRIVER_DIR"
if ! cmp -s "$LAB_DIR/lab_driver/standalone_cinder_lab.py" "$DRIVER_DIR/standalone_cinder_lab.py"; then
  stop_pids cinder-volume   # a running one still has the old driver loaded
fi
cp "$LAB_DIR/lab_driver/standalone_cinder_lab.py" "$DRIVER_DIR/"

t=$(now)
cinder-manage --config-file "$CONF" db sync >"$LAB_STATE/log/db-sync.log" 2>&1 \
  || die "cinder-manage db sync failed (see $LAB_STATE/log/db-sync.log)"
log "cinder db sync took $(since "$t") s"

# The Cinder services talk to RabbitMQ at start, so wait for it first.
wait_port rabbitmq "$RABBIT_PORT" 90
require_port_free cinder-api "$CINDER_PORT"
CINDER_SERVICES="api scheduler volume"
if [ "${LAB_BACKUP:-0}" = 1 ]; then
  CINDER_SERVICES="$CINDER_SERVICES backup"
elif pid_alive cinder-backup; then
  # left from a LAB_BACKUP=1 run: stop it and drop its service record, so that Cinder has no backup service at
  # once (not only after service_down_time); the scheduler too, which keeps the backup hosts it heard of and would
  # send a backup to the stopped one (it would stay "creating")
  stop_pids cinder-backup cinder-scheduler
  cinder-manage --config-file "$CONF" service remove cinder-backup lab >/dev/null 2>&1 \
    || log "WARNING: could not remove the cinder-backup service record"
fi
for s in $CINDER_SERVICES; do
  start_bg "cinder-$s" "$LAB_STATE/log/cinder-$s.out" \
    env PYTHONPATH="$DRIVER_DIR" "/usr/bin/cinder-$s" --config-file "$CONF"
done
# Keystone mode also serves the same Cinder without Keystone on a second port, so one provisioner can use the
# lab's noauth API and its Keystone API as two clouds at once.
if [ "$MODE" = keystone ]; then
  sed -e "s/^auth_strategy = .*/auth_strategy = noauth/" \
      -e "s/^osapi_volume_listen_port = .*/osapi_volume_listen_port = $CINDER_NOAUTH_PORT/" \
      "$CONF" > "$LAB_STATE/etc/cinder-noauth.conf"
  require_port_free cinder-api-noauth "$CINDER_NOAUTH_PORT"
  start_bg cinder-api-noauth "$LAB_STATE/log/cinder-api-noauth.out" \
    env PYTHONPATH="$DRIVER_DIR" /usr/bin/cinder-api --config-file "$LAB_STATE/etc/cinder-noauth.conf"
fi
echo "$MODE" > "$LAB_STATE/run/mode"

# ---------------------------------------------------------------- wait + setup
wait_port cinder-api "$CINDER_PORT" 120
wait_for "cinder-api healthcheck" 60 curl -sf -o /dev/null "http://$LAB_HOST:$CINDER_PORT/healthcheck"
if [ "$MODE" = keystone ]; then
  wait_port cinder-api-noauth "$CINDER_NOAUTH_PORT" 120
  wait_for "cinder-api-noauth healthcheck" 60 curl -sf -o /dev/null \
    "http://$LAB_HOST:$CINDER_NOAUTH_PORT/healthcheck"
fi

if [ "$MODE" = keystone ]; then
  # shellcheck disable=SC1091
  . "$LAB_STATE/keystone.env"
  TOKEN_CMD=("$LAB_DIR/keystone.sh" token)
  PROJECT_ID="$KS_PROJECT_ID"
else
  TOKEN_CMD=(echo "admin:$LAB_PROJECT_ID")
  PROJECT_ID="$LAB_PROJECT_ID"
fi
TOKEN="$("${TOKEN_CMD[@]}")"
API="http://$LAB_HOST:$CINDER_PORT/v3"
api() {  # api METHOD PATH [JSON] -> body on stdout; fails on HTTP >= 400
  local m="$1" p="$2" d="${3:-}"
  curl -sS -f -X "$m" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    -H 'OpenStack-API-Version: volume 3.0' ${d:+--data "$d"} "$API$p"
}
volume_up() {
  api GET /os-services?binary=cinder-volume | $PY -c '
import json,sys
s=json.load(sys.stdin)["services"]
sys.exit(0 if any(x["state"]=="up" and x["status"]=="enabled" and x["host"].startswith("lab@lab") for x in s) else 1)'
}
wait_for "cinder-volume lab@lab to report up" 120 volume_up
if [ "$RBD_AVAILABLE" = 1 ]; then
  rbd_up() {
    api GET /os-services?binary=cinder-volume | $PY -c '
import json,sys
s=json.load(sys.stdin)["services"]
sys.exit(0 if any(x["state"]=="up" and x["host"].startswith("lab@lab-rbd") for x in s) else 1)'
  }
  wait_for "cinder-volume lab@lab-rbd to report up" 120 rbd_up
fi
if [ "${LAB_REPLICATION:-0}" = 1 ]; then
  rep_up() {
    api GET /os-services?binary=cinder-volume | $PY -c '
import json,sys
s=json.load(sys.stdin)["services"]
sys.exit(0 if any(x["state"]=="up" and x["host"]=="lab@lab-rep" for x in s) else 1)'
  }
  wait_for "cinder-volume lab@lab-rep to report up" 120 rep_up
fi
# The scheduler needs one stats report from cinder-volume before it can place
# a volume; wait for it (get-pools lists the backend once it has reported).
pools_ready() {
  api GET /scheduler-stats/get_pools | $PY -c '
import json,sys; sys.exit(0 if len(json.load(sys.stdin)["pools"]) >= int(sys.argv[1]) else 1)' "$(tr ',' '\n' <<<"$BACKENDS" | wc -l)"
}
wait_for "scheduler to receive backend stats" 90 pools_ready
BACKUP_AVAILABLE=0
if [ "${LAB_BACKUP:-0}" = 1 ]; then
  backup_up() {
    api GET /os-services?binary=cinder-backup | $PY -c '
import json,sys; sys.exit(0 if any(s["state"]=="up" for s in json.load(sys.stdin)["services"]) else 1)'
  }
  wait_for "cinder-backup to report up" 120 backup_up
  BACKUP_AVAILABLE=1
fi

ensure_type() {  # ensure_type NAME JSON-extra-specs
  local name="$1" specs="$2" id
  id="$(api GET /types | $PY -c 'import json,sys; n=sys.argv[1]
print(next((t["id"] for t in json.load(sys.stdin)["volume_types"] if t["name"]==n), ""))' "$name")"
  if [ -z "$id" ]; then
    id="$(api POST /types "{\"volume_type\": {\"name\": \"$name\", \"os-volume-type-access:is_public\": true}}" \
      | $PY -c 'import json,sys; print(json.load(sys.stdin)["volume_type"]["id"])')"
    log "created volume type $name ($id)"
  fi
  api POST "/types/$id/extra_specs" "{\"extra_specs\": $specs}" >/dev/null
  echo "$id"
}
TYPE_ID=$(ensure_type lab-iscsi '{"volume_backend_name": "lab"}')
MA_TYPE_ID=$(ensure_type lab-iscsi-multiattach '{"volume_backend_name": "lab", "multiattach": "<is> True"}')
# A second type on the same backends: retypes (VolumeAttributesClass) between the two.
GOLD_TYPE_ID=$(ensure_type lab-iscsi-gold '{"volume_backend_name": "lab"}')
# The DB migration seeds the "default" quota class (10 volumes, 10 snapshots,
# 1000 GiB), which wins over the quota_* options above: lift it too.
api PUT /os-quota-class-sets/default '{"quota_class_set": {"volumes": -1, "snapshots": -1, "gigabytes": -1, "backups": -1, "backup_gigabytes": -1, "groups": -1, "per_volume_gigabytes": -1}}' >/dev/null
REP_TYPE_ID=""
if [ "${LAB_REPLICATION:-0}" = 1 ]; then
  REP_TYPE_ID=$(ensure_type lab-iscsi-replicated '{"volume_backend_name": "lab-rep", "replication_enabled": "<is> True"}')
fi
RBD_TYPE_ID=""
if [ "$RBD_AVAILABLE" = 1 ]; then
  RBD_TYPE_ID=$(ensure_type lab-rbd '{"volume_backend_name": "lab-rbd"}')
else
  # no RBD backend now: drop a lab-rbd type left from a LAB_CEPH=1 run, so a
  # create with it fails fast (404) instead of ending in status "error"
  old=$(api GET /types | $PY -c 'import json,sys
print(next((t["id"] for t in json.load(sys.stdin)["volume_types"] if t["name"]=="lab-rbd"), ""))')
  if [ -n "$old" ]; then api DELETE "/types/$old" >/dev/null 2>&1 || log "WARNING: could not delete stale volume type lab-rbd"; fi
fi
T_START=$(since "$t_start")

# ---------------------------------------------------------------- env file
ENVF="$LAB_STATE/lab.env"
{
  echo "# standalone-cinder lab ($MODE), written by up.sh at $(date -Is)"
  echo "LAB_MODE=$MODE"
  echo "LAB_STATE=$LAB_STATE"
  echo "CINDER_ENDPOINT=http://$LAB_HOST:$CINDER_PORT/v3"
  echo "CINDER_ENDPOINT_WITH_PROJECT=http://$LAB_HOST:$CINDER_PORT/v3/$PROJECT_ID"
  echo "CINDER_PROJECT_ID=$PROJECT_ID"
  echo "CINDER_VOLUME_TYPE=lab-iscsi"
  echo "CINDER_VOLUME_TYPE_ID=$TYPE_ID"
  echo "CINDER_MULTIATTACH_VOLUME_TYPE=lab-iscsi-multiattach"
  echo "CINDER_MULTIATTACH_VOLUME_TYPE_ID=$MA_TYPE_ID"
  echo "CINDER_VOLUME_TYPE_2=lab-iscsi-gold"
  echo "CINDER_VOLUME_TYPE_2_ID=$GOLD_TYPE_ID"
  echo "LAB_INSTALL_SECONDS=$T_INSTALL"
  echo "LAB_START_SECONDS=$T_START"
  echo "CINDER_AVAILABILITY_ZONE=nova"
  echo "CINDER_AVAILABILITY_ZONE_2=lab-zone-2"
  echo "CINDER_MAX_MICROVERSION=3.70"
  echo "ISCSI_PORTAL=127.0.0.1:3260"
  if [ -n "$REP_TYPE_ID" ]; then
    echo "CINDER_REPLICATED_VOLUME_TYPE=lab-iscsi-replicated"
    echo "CINDER_REPLICATION_HOST=lab@lab-rep"
    echo "CINDER_REPLICATION_TARGET=secondary"
    echo "ISCSI_SECONDARY_PORTAL=127.0.0.2:3260"
  fi
  echo "CINDER_RBD_AVAILABLE=$RBD_AVAILABLE"
  echo "# cinder-backup (posix driver) runs only with LAB_BACKUP=1"
  echo "CINDER_BACKUP_AVAILABLE=$BACKUP_AVAILABLE"
  echo "# RBD: $RBD_REASON"
  if [ "$RBD_AVAILABLE" = 1 ]; then
    echo "CINDER_RBD_VOLUME_TYPE=lab-rbd"
    echo "CINDER_RBD_VOLUME_TYPE_ID=$RBD_TYPE_ID"
    echo "CEPH_CONF=$LAB_STATE/ceph/ceph.conf"
    echo "CEPH_KEYRING=$LAB_STATE/ceph/admin.keyring"
  fi
  if [ "$MODE" = noauth ]; then
    echo "# noauth: send X-Auth-Token: <user>:<project>"
    echo "CINDER_NOAUTH_TOKEN=admin:$PROJECT_ID"
  else
    cat "$LAB_STATE/keystone.env"
    echo "# the same Cinder without Keystone (a second cinder-api): send X-Auth-Token: <user>:<project>"
    echo "CINDER_NOAUTH_SECOND_ENDPOINT=http://$LAB_HOST:$CINDER_NOAUTH_PORT/v3"
    echo "CINDER_NOAUTH_SECOND_TOKEN=admin:$PROJECT_ID"
  fi
} > "$ENVF.tmp"
mv "$ENVF.tmp" "$ENVF"

# ---------------------------------------------------------------- loopback check
"$LAB_DIR/check-loopback.sh"

trap - EXIT
log "lab is UP ($MODE): install ${T_INSTALL}s, start ${T_START}s, total $(since "$T_ALL")s"
log "env file: $ENVF   logs: $LAB_STATE/log   tear down: $LAB_DIR/down.sh"
cat "$ENVF"
