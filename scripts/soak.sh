#!/usr/bin/env bash
# Soak run: one Redis on loopback with persistence on (appendonly yes,
# every write fsynced, noeviction) and two example-server replicas sharing
# it; journeys with wrong and right codes alternate between the replicas
# for a few minutes while Redis is killed and started again twice. The
# driver is example-server's `soak` example (example-server/examples/soak/).
#
# Reports journeys run, sessions that got more code checks than the limit
# (must be 0), 5xx or failed requests outside the outage windows (must be
# 0), how long each replica took to be ready after each restart, and each
# replica's RSS at the start and the end. Exits 1 if a must-be-0 figure is
# not. Everything it starts listens on loopback and is stopped at the end,
# on Ctrl-C, or when the run overstays its time.
#
#   scripts/soak.sh                          # 3 minutes, release build
#   SOAK_DURATION=60 scripts/soak.sh         # 1 minute
#   SOAK_PROFILE=debug SOAK_DURATION=30 scripts/soak.sh   # as CI runs it
#
# Also: SOAK_WORKERS (journeys in flight, default 8), SOAK_RESTARTS
# (default 2), SOAK_DOWN (seconds Redis stays down, default 2), and
# SOAK_PERSISTENCE=no, a control run on a Redis without persistence, whose
# restarts forget the counts: it should fail.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${SOAK_DURATION:-180}
workers=${SOAK_WORKERS:-8}
restarts=${SOAK_RESTARTS:-2}
down=${SOAK_DOWN:-2}
profile=${SOAK_PROFILE:-release}
control=()
case "${SOAK_PERSISTENCE:-yes}" in
  yes) ;;
  no) control=(--no-persistence) ;;
  *) echo "SOAK_PERSISTENCE: yes or no, not $SOAK_PERSISTENCE" >&2; exit 2 ;;
esac

case "$profile" in
  release) build=(--release); dir=release ;;
  debug) build=(); dir=debug ;;
  *) echo "SOAK_PROFILE: release or debug, not $profile" >&2; exit 2 ;;
esac
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ]; then
  echo "SOAK_DURATION: whole seconds, at least 1, not $duration" >&2; exit 2
fi

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server from Debian's packages"
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

cargo build "${build[@]}" -q -p example-server --bin example-server --example soak
bin=${CARGO_TARGET_DIR:-target}/$dir

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $profile build; $(redis-server --version | cut -d' ' -f1-3)"
# The driver stops everything it started on SIGTERM or Ctrl-C; `timeout`
# sends SIGTERM if the run overstays by five minutes, SIGKILL ten seconds
# later.
exec timeout --foreground --kill-after=10 "$((duration + 300))" \
  "$bin/examples/soak" --server "$bin/example-server" --redis-server "$(command -v redis-server)" \
  --duration "$duration" --workers "$workers" --restarts "$restarts" --down "$down" "${control[@]}"
