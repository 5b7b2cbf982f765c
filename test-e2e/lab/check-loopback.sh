#!/bin/bash
# Fail if any lab process (or epmd) listens on anything but loopback
# (127.0.0.0/8, or ::1 which epmd adds by itself).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pids=()
for f in "$LAB_STATE"/run/*.pid; do
  [ -s "$f" ] || continue
  sid="$(cat "$f")"
  kill -0 "$sid" 2>/dev/null || continue
  # every process of the lab service's session (workers, privsep helpers...)
  while read -r p; do pids+=("$p"); done < <(ps -o pid= -s "$sid" 2>/dev/null | tr -d ' ')
done
while read -r p; do pids+=("$p"); done < <(pgrep -x epmd || true)
bad=0
listing="$(ss -ltnupH 2>/dev/null || true)"
for p in "${pids[@]}"; do
  while read -r line; do
    [ -n "$line" ] || continue
    addr="$(awk '{print $5}' <<<"$line")"
    case "$addr" in
      127.*:*|'[::1]:'*) ;;   # 127.0.0.0/8 (LAB_REPLICATION's second portal 127.0.0.2); epmd adds ::1
      *) echo "NOT LOOPBACK (pid $p): $line" >&2; bad=1 ;;
    esac
  done < <(grep -E "pid=$p," <<<"$listing" || true)
done
if [ "$bad" -ne 0 ]; then die "a lab service listens beyond 127.0.0.1 (see above)"; fi
log "loopback check ok: all lab listeners are on 127.0.0.1 / ::1"
grep -E "$(printf 'pid=%s,|' "${pids[@]}" | sed 's/|$//')" <<<"$listing" | awk '{print "  " $1, $5, $7}' >&2 || true
