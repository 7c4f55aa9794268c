#!/usr/bin/env bash
# npm run emulators:down — stops what emulators-up.sh started (by pid file) and removes .emulators/env.
# Safe when nothing runs; never touches a process whose pid file went stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/emulators-lib.sh"

stop_one() {
  local name="$1" pid
  if ! pid="$(running_pid "$name")"; then
    rm -f "$RUN/$name.pid"
    printf '  %-10s not running\n' "$name"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # Kafka flushes and closes its log on SIGTERM; give it time before forcing.
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    printf '  %-10s killed (pid %s did not stop within 10 s)\n' "$name" "$pid"
  else
    printf '  %-10s stopped\n' "$name"
  fi
  rm -f "$RUN/$name.pid"
}

rm -f "$ENV_FILE"
# Reverse start order: the BigQuery emulator may be mid-load from the storage fake.
for ((i = ${#EMULATORS[@]} - 1; i >= 0; i--)); do stop_one "${EMULATORS[$i]}"; done
