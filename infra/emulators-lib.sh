# Shared by emulators-up.sh and emulators-down.sh (sourced, not run): where things live,
# which ports they use, and how a pid file is trusted.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMU="$ROOT/.emulators"
BIN="$EMU/bin"
LOGS="$EMU/logs"
RUN="$EMU/run"
ENV_FILE="$EMU/env"

PROJECT="${GOOGLE_CLOUD_PROJECT:-vigil-local}"
# BigQuery projects <PROJECT>-t00 … for the suites on the BigQuery emulator, one each
# (infra/bigquery-suites.ts): a request there reads only its own project's catalog.
TEST_PROJECTS=32
PUBSUB_PORT="${VIGIL_PUBSUB_PORT:-8085}"
BIGTABLE_PORT="${VIGIL_BIGTABLE_PORT:-8086}"
GCS_PORT="${VIGIL_GCS_PORT:-4443}"
BIGQUERY_PORT="${VIGIL_BIGQUERY_PORT:-9050}"
BIGQUERY_GRPC_PORT="${VIGIL_BIGQUERY_GRPC_PORT:-9060}"
KAFKA_PORT="${VIGIL_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${VIGIL_KAFKA_CONTROLLER_PORT:-9093}"

# Start order matters only for bigquery, which loads from the storage fake.
EMULATORS=(pubsub bigtable gcs bigquery kafka)

# The process name each pid file must still point at, so a recycled pid is never trusted or killed.
expected_command() {
  case "$1" in
    pubsub) echo "$BIN/pubsub-emulator" ;;
    bigtable) echo "$BIN/cbtemulator" ;;
    gcs) echo "$BIN/fake-gcs-server" ;;
    bigquery) echo "$BIN/bigquery-emulator" ;;
    kafka) echo "kafka.Kafka" ;;
  esac
}

# Prints the pid when the pid file names a live process that is still this emulator.
running_pid() {
  local name="$1" pidfile="$RUN/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(expected_command "$name")" || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
