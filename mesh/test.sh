#!/usr/bin/env bash
# Runs every check and test of TrainerTribe on this machine: installs what is missing,
# lints the contracts, starts the Kafka-compatible broker for the run, then runs the
# Rust test suite (integration tests use real PostgreSQL, Redis, the broker and Envoy).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="${TRIBE_TOOLS_DIR:-$ROOT/.tools}"
export PATH="$TOOLS/npm/node_modules/.bin:$TOOLS/venv/bin:$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

step "setup"
bash mesh/setup.sh all

step "buf lint + build (proto/)"
buf lint
buf build -o /dev/null
buf format --diff --exit-code

step "rustfmt + clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "broker"
# shellcheck source=mesh/broker.sh
source mesh/broker.sh
broker_start_for_tests
trap broker_stop EXIT

step "cargo nextest (workspace)"
export TRIBE_ENVOY_BIN="$TOOLS/venv/bin/envoy"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
