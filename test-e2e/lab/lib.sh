# Shared helpers for the standalone-cinder lab scripts (sourced, not run).
# shellcheck shell=bash
# A caller's open descriptors beyond stdio (such as the lock fd of `flock LOCK up.sh`) are closed here, so the
# daemons the scripts start never inherit them: a daemon holding the caller's lock would hold it for good.
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_STATE="${LAB_STATE:-/var/tmp/standalone-cinder-lab}"
LAB_HOST=127.0.0.1
CINDER_PORT="${LAB_CINDER_PORT:-8776}"
# Keystone mode only: the second, noauth cinder-api.
CINDER_NOAUTH_PORT="${LAB_CINDER_NOAUTH_PORT:-8786}"
KEYSTONE_PORT="${LAB_KEYSTONE_PORT:-5000}"
RABBIT_PORT="${LAB_RABBIT_PORT:-5672}"
RABBIT_DIST_PORT="${LAB_RABBIT_DIST_PORT:-25672}"
EPMD_PORT="${LAB_EPMD_PORT:-4369}"
# Cinder routes only match hex project ids ([0-9a-f-]+), so use a fixed hex one.
LAB_PROJECT_ID="${LAB_PROJECT_ID:-5ca1ab1e000000000000000000000001}"   # noauth mode only

log()  { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[lab %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
now()  { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# pid file helpers: pid files live in $LAB_STATE/run/<name>.pid
pid_alive() { local f="$LAB_STATE/run/$1.pid"; [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
# stop_pids NAME...: SIGTERM all of them at once, wait up to 15 s, then SIGKILL.
stop_pids() {
  local name f pid i pids=()
  for name in "$@"; do
    f="$LAB_STATE/run/$name.pid"
    [ -s "$f" ] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping $name (pid $pid)"; kill "$pid" 2>/dev/null || true; pids+=("$pid")
    fi
    rm -f "$f"
  done
  for i in $(seq 1 75); do
    local alive=0
    for pid in "${pids[@]}"; do
      # a killed daemon may linger as a zombie if nobody reaps it: that is stopped
      if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; then alive=1; fi
    done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && { log "pid $pid did not stop, SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
  done
  return 0
}
stop_pid() { stop_pids "$1"; }

# Print the tail of every lab log, used on failure.
dump_logs() {
  log "logs are in $LAB_STATE/log"
  local f
  for f in "$LAB_STATE"/log/*.log; do
    [ -f "$f" ] || continue
    printf '\n===== tail -n 40 %s =====\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}
