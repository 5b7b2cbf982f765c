#!/bin/bash
# Install the Debian packages the lab needs, without letting dpkg start any
# service (a policy-rc.d that answers 101 "action forbidden" for the duration).
# Usage: install.sh [noauth|keystone|ceph|backup]   (idempotent: skips what is present)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODE="${1:-noauth}"
PKGS=(cinder-api cinder-scheduler cinder-volume rabbitmq-server tgt libiscsi-bin qemu-utils qemu-block-extra curl mariadb-server python3-pymysql)
case "$MODE" in
  noauth) ;;
  keystone) PKGS+=(keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3) ;;
  ceph) PKGS+=(ceph-mon ceph-mgr ceph-osd ceph-common python3-rbd python3-rados) ;;
  backup) PKGS+=(cinder-backup) ;;
  *) die "unknown mode '$MODE' (noauth|keystone|ceph|backup)" ;;
esac
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then log "packages already installed ($MODE)"; exit 0; fi
log "installing: ${missing[*]}"
t0=$(now)
prc=/usr/sbin/policy-rc.d
backup=""
if [ -e "$prc" ]; then backup="$(mktemp)"; cp -p "$prc" "$backup"; fi
restore() { if [ -n "$backup" ]; then cp -p "$backup" "$prc"; rm -f "$backup"; else rm -f "$prc"; fi; }
trap restore EXIT
printf '#!/bin/sh\n# standalone-cinder lab: no service starts during package install\nexit 101\n' > "$prc"
chmod 755 "$prc"
export DEBIAN_FRONTEND=noninteractive
# apt lists may be missing on a fresh machine
if ! apt-cache show cinder-volume >/dev/null 2>&1; then apt-get update -q >&2; fi
ilog="${LAB_INSTALL_LOG:-/tmp/standalone-cinder-lab-install.log}"
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$ilog" 2>&1; then
  # stale package lists (404 on an old version) are the usual cause: refresh once
  log "apt-get install failed; running apt-get update and retrying"
  apt-get update -q >>"$ilog" 2>&1 || true
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$ilog" 2>&1 \
    || { tail -n 40 "$ilog" >&2; die "apt-get install failed (log: $ilog)"; }
fi
log "install ($MODE) took $(since "$t0") s"
