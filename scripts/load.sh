#!/usr/bin/env bash
# Load run: the example server in release mode on loopback, driven by wrk.
#
#   hook         the hook's first page with a valid session token: through the
#                layer and the answered-session guard (one store lookup)
#   layer-only   the same page behind the layer, without the guard
#   no-layer     the same page, same size, from a route with neither
#   forged       the hook's first page with forged tokens (refused by the layer)
#
# The four alternate over several rounds, so that a noisy neighbour slows
# all of them alike; each route's round with the median throughput is
# reported. Prints requests per second, latency percentiles, error counts
# and the server's peak memory, and stops everything it started.
#
#   scripts/load.sh                               # 3 rounds of 5 s per route, 32 connections
#   LOAD_ROUNDS=5 LOAD_DURATION=10s scripts/load.sh
#   LOAD_METRICS=1 scripts/load.sh                # with the Prometheus recorder on (HOOK_METRICS_BIND)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${LOAD_DURATION:-5s}
rounds=${LOAD_ROUNDS:-3}
connections=${LOAD_CONNECTIONS:-32}
threads=${LOAD_THREADS:-1}
metrics=${LOAD_METRICS:-0}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian's packages"
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release -q -p example-server --bin example-server
cargo build --release -q -p hook-layer --features cli --bin mattr-hook
release=${CARGO_TARGET_DIR:-target}/release

workdir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

secret=$(head -c 32 /dev/urandom | base64)
other_secret=$(head -c 32 /dev/urandom | base64)

metrics_bind=()
if [ "$metrics" = 1 ]; then metrics_bind=(--metrics-bind 127.0.0.1:0); fi

# Production mode behind an imagined proxy: the hook's public URL is the
# audience; the server itself listens on a free loopback port.
HOOK_SECRET=$secret \
HOOK_ISSUER=https://tenant.vii.au01.mattr.global \
HOOK_URL=https://hook.example.com/interaction \
HOOK_BIND=127.0.0.1:0 \
RUST_LOG=warn,example_server=info \
  "$release/example-server" --load-test-routes "${metrics_bind[@]}" >"$workdir/server.log" 2>&1 &
server_pid=$!

address=""
for _ in $(seq 1 100); do
  address=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$workdir/server.log" | head -n1 | cut -d' ' -f3 || true)
  [ -n "$address" ] && break
  sleep 0.1
done
if [ -z "$address" ]; then
  echo "the server did not start:"; cat "$workdir/server.log"; exit 1
fi

# Tokens live 20 minutes: far longer than any sensible run.
mint() { HOOK_SECRET=$1 "$release/mattr-hook" mint --claim given_name=Ada --claim email=ada@example.com; }
token=$(mint "$secret")
forged=$(mint "$other_secret")

hook_url="http://$address/interaction?session_token=$token"
plain_url="http://$address/load-test/welcome?session_token=$token"
layer_url="http://$address/load-test/layer-only?session_token=$token"
forged_url="http://$address/interaction?session_token=$forged"

# Both pages must be the same page, byte for byte, for the comparison to mean anything.
hook_size=$(curl -s -o "$workdir/hook.html" -w '%{size_download} %{http_code}' "$hook_url")
plain_size=$(curl -s -o "$workdir/plain.html" -w '%{size_download} %{http_code}' "$plain_url")
layer_size=$(curl -s -o "$workdir/layer.html" -w '%{size_download} %{http_code}' "$layer_url")
forged_status=$(curl -s -o /dev/null -w '%{http_code}' "$forged_url")
if ! cmp -s "$workdir/hook.html" "$workdir/plain.html" || ! cmp -s "$workdir/hook.html" "$workdir/layer.html" \
  || [ "${hook_size#* }" != 200 ]; then
  echo "the hook page ($hook_size), the layer-only page ($layer_size) and the layer-free page ($plain_size) differ"; exit 1
fi
if [ "$forged_status" != 401 ]; then
  echo "forged tokens got $forged_status, not 401"; exit 1
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "page: ${hook_size% *} bytes; wrk: $threads thread(s), $connections connections; $rounds rounds of $duration per route"
if [ "$metrics" = 1 ]; then
  metrics_url=$(grep -o 'metrics at http://[0-9.:]*/metrics' "$workdir/server.log" | head -n1 | cut -d' ' -f3)
  echo "Prometheus recorder on: $metrics_url"
fi
echo

# One wrk run; appends "rps p50 p90 p99 non-2xx socket-errors" to $name.runs.
run() {
  local name=$1 url=$2 out="$workdir/$1.txt"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url" >"$out"
  awk '
    /^Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
    /Non-2xx or 3xx responses/ { non2xx = $5 }
    /Socket errors/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %d %d\n", rps, p50, p90, p99, non2xx, errors }
  ' "$out" >>"$workdir/$name.runs"
}

for round in $(seq 1 "$rounds"); do
  run no-layer "$plain_url"
  run layer-only "$layer_url"
  run hook "$hook_url"
  run forged "$forged_url"
  printf 'round %s: no-layer %s, layer-only %s, hook %s, forged %s req/s\n' "$round" \
    "$(tail -n1 "$workdir/no-layer.runs" | cut -d' ' -f1)" \
    "$(tail -n1 "$workdir/layer-only.runs" | cut -d' ' -f1)" \
    "$(tail -n1 "$workdir/hook.runs" | cut -d' ' -f1)" \
    "$(tail -n1 "$workdir/forged.runs" | cut -d' ' -f1)"
done
echo

median_run() { sort -n -k1,1 "$workdir/$1.runs" | sed -n "$(( (rounds + 1) / 2 ))p"; }
for name in no-layer layer-only hook forged; do
  read -r rps p50 p90 p99 non2xx errors <<<"$(median_run "$name")"
  printf '%-10s %10s req/s   p50 %-8s p90 %-8s p99 %-8s non-2xx %-8s socket errors %s\n' \
    "$name" "$rps" "$p50" "$p90" "$p99" "$non2xx" "$errors"
done

# Every valid request must have been served as a page, not refused.
for name in no-layer layer-only hook; do
  if awk '$5 > 0 || $6 > 0 { bad = 1 } END { exit !bad }' "$workdir/$name.runs"; then
    echo "$name had non-2xx responses or socket errors"; exit 1
  fi
done

echo
awk -v hook="$(median_run hook | cut -d' ' -f1)" -v plain="$(median_run no-layer | cut -d' ' -f1)" \
  -v layer="$(median_run layer-only | cut -d' ' -f1)" 'BEGIN {
    printf "hook / no-layer throughput (medians): %.1f%%\n", 100 * hook / plain
    printf "hook / layer-only throughput (medians): %.1f%% (the answered-session guard)\n", 100 * hook / layer
    printf "layer-only / no-layer throughput (medians): %.1f%% (the layer)\n", 100 * layer / plain
  }'
echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' "/proc/$server_pid/status")"
if [ "$metrics" = 1 ]; then
  # The recorder counted the run: accepted tokens and refusals.
  curl -s "$metrics_url" | grep -E '^hook_layer_tokens_(accepted|refused)_total'
fi
