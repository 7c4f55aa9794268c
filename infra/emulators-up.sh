#!/usr/bin/env bash
# npm run emulators:up — installs (first run, cached under .emulators/), starts and waits for the
# Pub/Sub, Bigtable, Cloud Storage and BigQuery emulators and a single-node Kafka broker, then writes
# .emulators/env. Idempotent: what already runs is left alone and reported. See infra/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/emulators-lib.sh"

# Pinned versions; the Go modules in infra/*/go.mod and infra/kafka/pom.xml pin the rest.
BIGTABLE_EMULATOR_MODULE="cloud.google.com/go/bigtable/cmd/emulator@v1.58.0"
FAKE_GCS_SERVER_MODULE="github.com/fsouza/fake-gcs-server@v1.56.1"
READY_TIMEOUT_MS="${VIGIL_EMULATORS_TIMEOUT_MS:-180000}"
# Soft heap ceilings: these run beside several test suites on a 2-core, 24 GiB machine.
GO_MEMORY_LIMIT="${VIGIL_EMULATORS_GOMEMLIMIT:-512MiB}"
KAFKA_HEAP="${VIGIL_KAFKA_HEAP:-512m}"

# -buildvcs=false: the launcher modules live in this git checkout; stamping them would need git and a clean tree.
export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"
export CGO_ENABLED=0
NODE="$ROOT/node_modules/.bin/node"
STAMPS="$EMU/stamps"
started_at=$SECONDS
declare -A STATUS

mkdir -p "$BIN" "$LOGS" "$RUN" "$STAMPS"

log() { printf '%s\n' "$*"; }
fail() { printf 'emulators:up: %s\n' "$*" >&2; exit 1; }

# Runs one install step quietly: a progress line, the output in its own log, the tail on failure.
install_step() {
  local name="$1" stamp="$2"; shift 2
  local logfile="$LOGS/install-$name.log" begin=$SECONDS
  # Whole lines only: the Kafka fetch runs beside the Go builds and prints between them.
  printf '  %-9s installing...\n' "$name"
  if "$@" >"$logfile" 2>&1; then
    printf '%s\n' "$stamp" >"$STAMPS/$name"
    printf '  %-9s installed in %ss\n' "$name" "$((SECONDS - begin))"
  else
    printf '  %-9s FAILED after %ss (log: %s)\n' "$name" "$((SECONDS - begin))" "${logfile#"$ROOT/"}"
    tail -n 30 "$logfile" | sed 's/^/    | /' >&2
    exit 1
  fi
}

installed() { # name stamp [file that must exist]
  [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]] && [[ -z "${3:-}" || -e "$3" ]]
}

files_digest() { cat "$@" | sha256sum | cut -c1-16; }

go_install_as() { # binary-name module@version: go install, then rename (cbtemulator installs as "emulator")
  local target="$1" module="$2" tmp="$EMU/gobin-tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOBIN="$tmp" go install -trimpath -ldflags='-s -w' "$module"
  mv "$tmp"/* "$BIN/$target" && rmdir "$tmp"
}

build_pubsub() { go build -C "$ROOT/infra/pubsub-emulator" -trimpath -ldflags='-s -w' -o "$BIN/pubsub-emulator" .; }
# A tool module rather than `go install ...@v0.8.1`: the proxy refuses this module's version list,
# which `go install pkg@version` asks for to look up deprecations.
build_bigquery() {
  go build -C "$ROOT/infra/bigquery-emulator" -trimpath -ldflags='-s -w' -o "$BIN/bigquery-emulator" \
    github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
}
fetch_kafka() {
  rm -rf "$EMU/kafka/libs"
  mvn -B -q -ntp -Dstyle.color=never -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies
}
install_kcat() {
  local sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq kcat
}

install_all() {
  local pubsub_pin bigquery_pin kafka_pin
  pubsub_pin="$(files_digest "$ROOT"/infra/pubsub-emulator/{go.mod,go.sum,main.go})"
  bigquery_pin="$(files_digest "$ROOT"/infra/bigquery-emulator/{go.mod,go.sum})"
  kafka_pin="$(files_digest "$ROOT/infra/kafka/pom.xml")"
  command -v go >/dev/null || fail "go is not on PATH (needed to build the Google emulators)"
  command -v java >/dev/null || fail "java is not on PATH (needed for the Kafka broker)"
  [[ -x "$NODE" ]] || fail "node_modules/.bin/node is missing: run npm ci first"

  log "install (cached under .emulators/; first run builds from source)"
  # Maven only downloads: let it run beside the CPU-bound Go builds.
  local kafka_job=""
  if ! installed kafka "$kafka_pin" "$EMU/kafka/libs/kafka_2.13-3.9.2.jar"; then
    command -v mvn >/dev/null || fail "mvn is not on PATH (needed to fetch the Kafka jars)"
    (install_step kafka "$kafka_pin" fetch_kafka) & kafka_job=$!
  fi
  installed pubsub "$pubsub_pin" "$BIN/pubsub-emulator" || install_step pubsub "$pubsub_pin" build_pubsub
  installed bigtable "$BIGTABLE_EMULATOR_MODULE" "$BIN/cbtemulator" ||
    install_step bigtable "$BIGTABLE_EMULATOR_MODULE" go_install_as cbtemulator "$BIGTABLE_EMULATOR_MODULE"
  installed gcs "$FAKE_GCS_SERVER_MODULE" "$BIN/fake-gcs-server" ||
    install_step gcs "$FAKE_GCS_SERVER_MODULE" go_install_as fake-gcs-server "$FAKE_GCS_SERVER_MODULE"
  if ! installed bigquery "$bigquery_pin" "$BIN/bigquery-emulator"; then
    log "  (the BigQuery emulator's first build compiles GoogleSQL in pure Go: 10-25 minutes, ~6.5 GB of memory)"
    install_step bigquery "$bigquery_pin" build_bigquery
  fi
  if [[ -n "$kafka_job" ]]; then wait "$kafka_job" || exit 1; fi
  if ! command -v kcat >/dev/null; then
    (install_step kcat apt install_kcat) || true
  fi
}

kafka_properties() {
  cat <<EOF
# Written by infra/emulators-up.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$EMU/kafka/data
# Topics come from \`vigil provision\`; a typo must not create one silently.
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
# 50 offset partitions (the default) make the first consumer group wait seconds on one node.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF
}

# Each start is on an empty store, like the in-memory Google emulators: `down` loses all state.
start_kafka() {
  local dir="$EMU/kafka" cluster_id
  kafka_properties >"$dir/server.properties"
  rm -rf "$dir/data"
  # A cluster id is 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints).
  # Passed as --cluster-id=<id>: one id in 64 starts with "-", which as a separate argument reads as an option.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -cp "$dir/libs/*" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$dir/server.properties" >"$LOGS/kafka.log" 2>&1
  launch kafka java -Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -cp "$dir/libs/*" kafka.Kafka "$dir/server.properties"
}

# Starts a process in its own session (so Ctrl-C on npm does not reach it), logs appended, pid recorded.
launch() {
  local name="$1"; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

start_one() {
  local name="$1" port
  case "$name" in
    pubsub) port=$PUBSUB_PORT ;; bigtable) port=$BIGTABLE_PORT ;; gcs) port=$GCS_PORT ;;
    bigquery) port=$BIGQUERY_PORT ;; kafka) port=$KAFKA_PORT ;;
  esac
  if running_pid "$name" >/dev/null; then
    STATUS[$name]="already running"
    return
  fi
  if port_in_use "$port"; then
    fail "$name: port $port is taken by a process this checkout did not start (set VIGIL_${name^^}_PORT)"
  fi
  if [[ "$name" == kafka ]] && port_in_use "$KAFKA_CONTROLLER_PORT"; then
    fail "kafka: controller port $KAFKA_CONTROLLER_PORT is taken (set VIGIL_KAFKA_CONTROLLER_PORT)"
  fi
  : >"$LOGS/$name.log"
  case "$name" in
    pubsub) GOMEMLIMIT="$GO_MEMORY_LIMIT" launch pubsub "$BIN/pubsub-emulator" -addr "127.0.0.1:$PUBSUB_PORT" ;;
    bigtable) GOMEMLIMIT="$GO_MEMORY_LIMIT" launch bigtable "$BIN/cbtemulator" -host 127.0.0.1 -port "$BIGTABLE_PORT" ;;
    gcs)
      GOMEMLIMIT="$GO_MEMORY_LIMIT" launch gcs "$BIN/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
        -external-url "http://127.0.0.1:$GCS_PORT" -backend memory -log-level warn
      ;;
    bigquery)
      # goccy's loader appends /storage/v1/ to STORAGE_EMULATOR_HOST itself, so it gets the bare origin.
      bigquery_projects >"$EMU/bigquery-projects.yaml"
      STORAGE_EMULATOR_HOST="http://127.0.0.1:$GCS_PORT" GOMEMLIMIT="$GO_MEMORY_LIMIT" launch bigquery \
        "$BIN/bigquery-emulator" --project "$PROJECT" --host 127.0.0.1 --port "$BIGQUERY_PORT" \
        --grpc-port "$BIGQUERY_GRPC_PORT" --data-from-yaml "$EMU/bigquery-projects.yaml" --log-level warn
      ;;
    kafka) start_kafka ;;
  esac
  STATUS[$name]="started"
}

# The emulator's projects: PROJECT and the test projects (it has no API to create one).
bigquery_projects() {
  local i
  echo "projects:"
  echo "- id: $PROJECT"
  echo "  datasets: []"
  for ((i = 0; i < TEST_PROJECTS; i++)); do
    printf -- '- id: %s-t%02d\n  datasets: []\n' "$PROJECT" "$i"
  done
}

# The values the Node clients expect (infra/README.md says why storage carries a path).
emulator_env() {
  cat <<EOF
export GOOGLE_CLOUD_PROJECT='$PROJECT'
export PUBSUB_EMULATOR_HOST='127.0.0.1:$PUBSUB_PORT'
export BIGTABLE_EMULATOR_HOST='127.0.0.1:$BIGTABLE_PORT'
export STORAGE_EMULATOR_HOST='http://127.0.0.1:$GCS_PORT/storage/v1'
export BIGQUERY_EMULATOR_HOST='http://127.0.0.1:$BIGQUERY_PORT'
export BIGQUERY_STORAGE_EMULATOR_HOST='127.0.0.1:$BIGQUERY_GRPC_PORT'
export KAFKA_BROKERS='127.0.0.1:$KAFKA_PORT'
export VIGIL_EMULATOR_TEST_PROJECTS='$TEST_PROJECTS'
EOF
}

address_of() {
  case "$1" in
    pubsub) echo "127.0.0.1:$PUBSUB_PORT" ;; bigtable) echo "127.0.0.1:$BIGTABLE_PORT" ;;
    gcs) echo "http://127.0.0.1:$GCS_PORT" ;; bigquery) echo "http://127.0.0.1:$BIGQUERY_PORT (gRPC :$BIGQUERY_GRPC_PORT)" ;;
    kafka) echo "127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)" ;;
  esac
}

install_all

log "start"
for name in "${EMULATORS[@]}"; do start_one "$name"; done

log "wait until each answers (timeout ${READY_TIMEOUT_MS} ms)"
eval "$(emulator_env)"
targets=()
for name in "${EMULATORS[@]}"; do targets+=("$name:$(cat "$RUN/$name.pid")"); done
set +e
ready_output="$(cd "$ROOT" && "$NODE" infra/wait-ready.ts --timeout-ms "$READY_TIMEOUT_MS" "${targets[@]}" 2>&1)"
set -e
failed=()
for name in "${EMULATORS[@]}"; do
  line="$(grep -E "^(ready|failed) $name " <<<"$ready_output" || true)"
  if [[ "$line" == ready* ]]; then
    STATUS[$name]="ready, ${STATUS[$name]} (${line##* })"
  else
    STATUS[$name]="FAILED: ${line#failed "$name" }"
    failed+=("$name")
  fi
done

printf '\n  %-10s %-48s %s\n' name address status
for name in "${EMULATORS[@]}"; do printf '  %-10s %-48s %s\n' "$name" "$(address_of "$name")" "${STATUS[$name]}"; done
if command -v kcat >/dev/null; then kcat_status="installed"; else kcat_status="NOT installed"; fi
printf '  %-10s %-48s %s\n' kcat "$(command -v kcat || echo -)" "$kcat_status"

if ((${#failed[@]} > 0)); then
  [[ -n "$(grep -vE '^(ready|failed) ' <<<"$ready_output")" ]] && printf '\n%s\n' "$ready_output" >&2
  for name in "${failed[@]}"; do
    printf '\n--- last lines of .emulators/logs/%s.log ---\n' "$name" >&2
    tail -n 30 "$LOGS/$name.log" >&2 || true
    # A process that never became ready is stopped, so the next `up` starts it afresh.
    if pid="$(running_pid "$name")"; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$RUN/$name.pid"
  done
  rm -f "$ENV_FILE"
  fail "not ready: ${failed[*]} (npm run emulators:down stops the rest)"
fi
[[ "$kcat_status" == installed || "${CI:-}" != true ]] || fail "kcat could not be installed (log: .emulators/logs/install-kcat.log)"

emulator_env >"$ENV_FILE"
log ""
log "ready in $((SECONDS - started_at))s; wrote .emulators/env (load it with: . .emulators/env)"
