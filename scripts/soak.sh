#!/usr/bin/env bash
# Soak run: one Redis on loopback with persistence on (appendonly yes,
# every write fsynced, noeviction) and two example-server replicas sharing
# it; journeys with wrong and right codes alternate between the replicas
# while Redis is, at random moments, killed and started again, or paused
# (CLIENT PAUSE of its writes, or of every command), each outage 0.2 s to
# SOAK_DOWN long, 1 to 5 s apart. The outages come from a seed, printed at
# the start (SOAK_SEED repeats them; the traffic around them differs). A
# holder told "try again" retries, waiting longer each time; after the
# traffic, every holder who reached the code page comes back once and
# submits the right code again. The driver is example-server's `soak`
# example (example-server/examples/soak/).
#
# Reports journeys run and how they ended, and these, each of which must
# be 0: sessions with two or more distinct response tokens seen by any
# client (in a redirect to MATTR VII, or offered on an answered page);
# sessions whose page read "already been completed" without a completing
# response given out (or "already ended" without a failing one); stranded
# sessions (the code page reached, no response by the end); sessions that
# got more code checks than the limit; sessions failed as "could not be
# checked" none of whose requests failed; 5xx or failed requests outside
# the outage windows. Also how long each replica took to be ready after
# each outage, and each replica's RSS at the start and the end. Exits 1 if
# a must-be-0 figure is not, or a page was unexpected. Everything it
# starts listens on loopback and is stopped at the end, on Ctrl-C, or
# when the run overstays its time.
#
#   scripts/soak.sh                          # 3 minutes, release build
#   SOAK_DURATION=60 scripts/soak.sh         # 1 minute
#   SOAK_PROFILE=debug SOAK_DURATION=30 scripts/soak.sh   # as CI runs it
#
# Also: SOAK_WORKERS (journeys in flight, default 8), SOAK_DOWN (the
# longest outage in seconds, default 4: pauses beyond the store's 2 s
# timeout lose replies), SOAK_SEED, SOAK_LOGS (a directory to keep the
# replicas' and Redis's logs in), and SOAK_PERSISTENCE=no, a control run
# on a Redis without persistence, whose restarts forget the counts and the
# answers: it should fail.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${SOAK_DURATION:-180}
workers=${SOAK_WORKERS:-8}
down=${SOAK_DOWN:-4}
profile=${SOAK_PROFILE:-release}
control=()
case "${SOAK_PERSISTENCE:-yes}" in
  yes) ;;
  no) control=(--no-persistence) ;;
  *) echo "SOAK_PERSISTENCE: yes or no, not $SOAK_PERSISTENCE" >&2; exit 2 ;;
esac
seed=()
if [ -n "${SOAK_SEED:-}" ]; then
  if ! [[ "$SOAK_SEED" =~ ^[0-9]+$ ]]; then
    echo "SOAK_SEED: a whole number, not $SOAK_SEED" >&2; exit 2
  fi
  seed=(--seed "$SOAK_SEED")
fi
logs=()
if [ -n "${SOAK_LOGS:-}" ]; then logs=(--keep-logs "$SOAK_LOGS"); fi

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
  --duration "$duration" --workers "$workers" --down "$down" "${seed[@]}" "${logs[@]}" "${control[@]}"
