#!/usr/bin/env bash
# Runs every check and test of TrainerTribe on this machine: installs and starts what is
# missing (PostgreSQL, Redis, Envoy, buf, Kafka 4.4, Cassandra for the CQL stores), lints
# the contracts and the code, then runs the Rust test suite against those real engines.
# Extra arguments go to `cargo nextest run` (e.g. `./mesh/test.sh -p tribe-user`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="${TRIBE_TOOLS_DIR:-$ROOT/.tools}"
export PATH="$TOOLS/npm/node_modules/.bin:$TOOLS/venv/bin:$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }

# CI builds from a clean clone once: incremental caches would only cost time to write.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

step "setup"
bash mesh/setup.sh all
bash mesh/setup.sh nextest

# Both engines take 15-30 s to start: start them now and lint while they boot. An engine
# already listening on its port (a running `tribe up`, say) is used as it is.
STATE="${TRIBE_STATE_DIR:-$ROOT/.tribe}"
KAFKA_PORT="${TRIBE_KAFKA_PORT:-9092}"
CQL_PORT="${TRIBE_CQL_PORT:-9042}"
ENGINE_PIDS=()
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
stop_engines() {
  for pid in "${ENGINE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${ENGINE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_engines EXIT
# start_engine NAME PORT DIR RUN-ARGS...: a fresh state directory for each run.
start_engine() {
  local name="$1" port="$2" dir="$3"; shift 3
  if listening "$port"; then echo "    $name: already listening on 127.0.0.1:$port; using it"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  bash mesh/engines.sh "$@" >"$dir.log" 2>&1 &
  ENGINE_PIDS+=("$!")
  eval "${name}_PID=$!"
  echo "    $name: starting (state $dir, log $dir.log)"
}
wait_engine() {
  local name="$1" port="$2" dir="$3" pid_var="${1}_PID"
  bash mesh/engines.sh wait "$name" "127.0.0.1:$port" "$dir.log" 180 "${!pid_var:-}"
}
step "engines (Kafka $KAFKA_PORT, Cassandra $CQL_PORT)"
kafka_PID="" cql_PID=""
# C1-only JIT for Kafka: it (and each broker a test starts of its own) boots twice as
# fast. Cassandra keeps the full JIT: it serves the whole run.
export TRIBE_KAFKA_JVM_OPTS="${TRIBE_KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1}"
start_engine kafka "$KAFKA_PORT" "$STATE/test-kafka" kafka-run "$STATE/test-kafka" "$KAFKA_PORT" "${TRIBE_KAFKA_CONTROLLER_PORT:-9093}"
start_engine cql "$CQL_PORT" "$STATE/test-cql" cql-run "$STATE/test-cql" "$CQL_PORT" "${TRIBE_CQL_STORAGE_PORT:-7000}"

step "buf lint + build (proto/)"
buf lint
buf build -o /dev/null
buf format --diff --exit-code

step "rustfmt + clippy"
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all --check; else warn "rustfmt is not installed: formatting not checked"; fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --quiet -- -D warnings
else
  warn "clippy is not installed: lints not checked"
fi

step "waiting for the engines"
wait_engine kafka "$KAFKA_PORT" "$STATE/test-kafka"
wait_engine cql "$CQL_PORT" "$STATE/test-cql"
export TRIBE_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
# Every CQL test leg runs: the tests fail, not skip, without this.
export TRIBE_SCYLLA_NODES="127.0.0.1:$CQL_PORT"
export TRIBE_ENVOY_BIN="$TOOLS/venv/bin/envoy"

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  warn "cargo-nextest is not installed: running cargo test (slower, one test binary at a time)"
  cargo test --workspace --no-fail-fast "$@"
fi
