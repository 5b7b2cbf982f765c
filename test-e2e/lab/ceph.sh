#!/bin/bash
# OPTIONAL single-node Ceph (mon + mgr + one bluestore OSD on a sparse file,
# no LVM, no ceph-volume) for Cinder's RBD driver. Experimental: up.sh only
# calls it with LAB_CEPH=1, and a failure here never touches the iSCSI lab.
#   ceph.sh up     bootstrap (once) and start; pool "volumes"; writes
#                  $LAB_STATE/ceph/cinder-backend.conf for up.sh
#   ceph.sh down   stop the daemons
set -euo pipefail
. "$(dirname "$0")/lib.sh"
C="$LAB_STATE/ceph"
CONF="$C/ceph.conf"
CEPH=(ceph -c "$CONF" -k "$C/admin.keyring" --connect-timeout 20)

up() {
  mkdir -p "$C"/{mon,mgr,osd,run,log}
  if [ ! -f "$CONF" ]; then
    local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
    cat > "$CONF" <<EOF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public_network = 127.0.0.0/8
cluster_network = 127.0.0.0/8
ms_bind_ipv6 = false
ms_bind_ipv4 = true
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
mon_data_avail_warn = 2
osd_crush_chooseleaf_type = 0
run_dir = $C/run
admin_socket = $C/run/\$cluster-\$name.asok
log_file = $LAB_STATE/log/ceph-\$name.log
keyring = $C/\$name.keyring
[mon]
mon_data = $C/mon/\$cluster-\$id
[mgr]
mgr_data = $C/mgr/\$cluster-\$id
[osd]
osd_data = $C/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_path = $C/osd/\$cluster-\$id.block
bluestore_block_create = true
bluestore_block_size = 10737418240
osd_memory_target = 939524096
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
EOF
    ceph-authtool --create-keyring "$C/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool --create-keyring "$C/admin.keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
    ceph-authtool "$C/mon.keyring" --import-keyring "$C/admin.keyring" >/dev/null
    cp "$C/admin.keyring" "$C/client.admin.keyring"
    monmaptool --create --addv lab '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' --fsid "$fsid" "$C/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i lab --monmap "$C/monmap" --keyring "$C/mon.keyring" \
      || die "ceph-mon --mkfs failed"
  fi
  pid_alive ceph-mon || { setsid ceph-mon -c "$CONF" -i lab -f >>"$LAB_STATE/log/ceph-mon.out" 2>&1 </dev/null & echo $! > "$LAB_STATE/run/ceph-mon.pid"; }
  local i
  for i in $(seq 1 60); do "${CEPH[@]}" -s >/dev/null 2>&1 && break; sleep 1; done
  "${CEPH[@]}" -s >/dev/null || die "ceph-mon does not answer (see $LAB_STATE/log/ceph-mon.log)"
  log "ceph-mon up"

  if [ ! -f "$C/mgr/ceph-lab/keyring" ]; then
    mkdir -p "$C/mgr/ceph-lab"
    "${CEPH[@]}" auth get-or-create mgr.lab mon 'allow profile mgr' osd 'allow *' mds 'allow *' > "$C/mgr/ceph-lab/keyring"
    cp "$C/mgr/ceph-lab/keyring" "$C/mgr.lab.keyring"
  fi
  pid_alive ceph-mgr || { setsid ceph-mgr -c "$CONF" -i lab -f >>"$LAB_STATE/log/ceph-mgr.out" 2>&1 </dev/null & echo $! > "$LAB_STATE/run/ceph-mgr.pid"; }

  if [ ! -f "$C/osd/ceph-0/mkfs_done" ]; then
    "${CEPH[@]}" osd purge 0 --yes-i-really-mean-it >/dev/null 2>&1 || true
    "${CEPH[@]}" auth del osd.0 >/dev/null 2>&1 || true
    rm -rf "$C/osd/ceph-0" "$C/osd/ceph-0.block"
    local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
    local id; id=$("${CEPH[@]}" osd new "$uuid")
    [ "$id" = 0 ] || die "expected osd id 0, got '$id'"
    mkdir -p "$C/osd/ceph-0"
    "${CEPH[@]}" auth get-or-create osd.0 mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' > "$C/osd/ceph-0/keyring"
    cp "$C/osd/ceph-0/keyring" "$C/osd.0.keyring"
    local t; t=$(now)
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >>"$LAB_STATE/log/ceph-osd-mkfs.log" 2>&1 \
      || { tail -n 30 "$LAB_STATE/log/ceph-osd-mkfs.log" >&2; die "ceph-osd --mkfs (bluestore on a file) failed"; }
    log "ceph-osd --mkfs took $(since "$t") s"
  fi
  pid_alive ceph-osd || { setsid ceph-osd -c "$CONF" -i 0 -f >>"$LAB_STATE/log/ceph-osd.out" 2>&1 </dev/null & echo $! > "$LAB_STATE/run/ceph-osd.pid"; }
  for i in $(seq 1 90); do
    "${CEPH[@]}" osd stat 2>/dev/null | grep -q '1 up' && break
    pid_alive ceph-osd || die "ceph-osd exited (see $LAB_STATE/log/ceph-osd.0.log)"
    sleep 1
  done
  "${CEPH[@]}" osd stat | grep -q '1 up' || die "osd.0 not up after 90 s"
  log "ceph-osd up"
  if ! "${CEPH[@]}" osd pool ls | grep -qx volumes; then
    "${CEPH[@]}" osd pool create volumes 8 8 >/dev/null 2>&1
    "${CEPH[@]}" osd pool set volumes size 1 --yes-i-really-mean-it >/dev/null 2>&1 || true
    "${CEPH[@]}" osd pool application enable volumes rbd >/dev/null 2>&1
  fi
  rbd -c "$CONF" -k "$C/admin.keyring" ls volumes >/dev/null || die "rbd ls volumes failed"
  log "ceph pool volumes ready: $("${CEPH[@]}" -s | grep -E 'health|osd:' | tr -s ' ' | tr '\n' ';')"
  cat > "$C/cinder-backend.conf" <<EOF

[lab-rbd]
volume_driver = cinder.volume.drivers.rbd.RBDDriver
volume_backend_name = lab-rbd
rbd_pool = volumes
rbd_ceph_conf = $CONF
rbd_user = admin
rbd_keyring_conf = $C/admin.keyring
rbd_secret_uuid = 5ca1ab1e-0000-4000-8000-00000000cef1
rbd_flatten_volume_from_snapshot = false
report_discard_supported = true
EOF
}

down() {
  stop_pids ceph-osd ceph-mgr ceph-mon
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: ceph.sh up|down" ;;
esac
