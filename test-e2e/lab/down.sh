#!/bin/bash
# Stop every lab service started by up.sh. Safe when nothing runs.
# Usage: down.sh [--purge]   (--purge also deletes $LAB_STATE, logs included)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$LAB_STATE/run"
# Remove tgt targets first (while tgtd still runs) so no stale exports remain.
stop_pids cinder-backup cinder-volume cinder-scheduler cinder-api cinder-api-noauth keystone
if pid_alive tgtd; then
  tgt-admin --delete ALL --force >/dev/null 2>&1 || true
  # tgtd ignores SIGTERM while targets exist; ask it to go offline and exit
  tgtadm --lld iscsi --op update --mode sys --name State -v offline >/dev/null 2>&1 || true
  tgtadm --lld iscsi --op delete --mode system >/dev/null 2>&1 || true
fi
stop_pids tgtd mariadb
"$LAB_DIR/ceph.sh" down
# RabbitMQ: the pid file holds the rabbitmq-server shell wrapper; stop the
# whole session (beam.smp and its children) it created.
if pid_alive rabbitmq; then
  sid="$(cat "$LAB_STATE/run/rabbitmq.pid")"
  log "stopping rabbitmq (session $sid)"
  pkill -TERM -s "$sid" 2>/dev/null || true
  for i in $(seq 1 50); do pgrep -s "$sid" >/dev/null || break; sleep 0.2; done
  pkill -KILL -s "$sid" 2>/dev/null || true
  rm -f "$LAB_STATE/run/rabbitmq.pid"
fi
# epmd is started by the Erlang VM with ERL_EPMD_ADDRESS=127.0.0.1; stop it
# only if it is ours (bound to loopback on the lab's epmd port) and idle.
if pid="$(pgrep -x epmd)" && ss -ltnpH "sport = :$EPMD_PORT" | grep -q "127.0.0.1:$EPMD_PORT.*pid=$pid,"; then
  epmd -port "$EPMD_PORT" -names 2>/dev/null | grep -q '^name ' || { log "stopping lab epmd (pid $pid)"; kill "$pid" 2>/dev/null || true; }
fi
# Leftover privsep helpers of cinder-volume run in its session; they exit with it.
rm -f /etc/tgt/conf.d/standalone-cinder-lab.conf "$LAB_STATE/run/mode"
if [ "${1:-}" = "--purge" ]; then
  log "purging $LAB_STATE"; rm -rf "$LAB_STATE"
fi
if [ "${1:-}" = "--purge" ]; then log "lab is down, state purged"; else log "lab is down (state and logs kept in $LAB_STATE; --purge deletes them)"; fi
