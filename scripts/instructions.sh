#!/usr/bin/env bash
# Instructions per call of verify_token, its HMAC floor and
# jsonwebtoken::decode, counted by callgrind: a figure that other work on a
# shared machine cannot move. Each case runs with 1 and with 101 calls; the
# difference over 100 is the work of one call, setup cancelled out.
#
#   scripts/instructions.sh          # every case (about a minute)
#   scripts/instructions.sh --quick  # one case, to check the script runs
#
# HOOK_BENCH_FEATURES adds features to the build, e.g. `metrics` to see
# what recording costs with no recorder installed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v valgrind >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

features="test-util${HOOK_BENCH_FEATURES:+,$HOOK_BENCH_FEATURES}"
build_log=$(cargo bench -p hook-layer --features "$features" --bench instructions --no-run 2>&1)
bin=$(printf '%s\n' "$build_log" | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[ -x "$bin" ] || { printf '%s\n' "$build_log"; echo "no bench binary found" >&2; exit 1; }

# Instructions executed by `case` run `calls` times.
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_call() {
  local one many
  one=$(count "$1" 1)
  many=$(count "$1" 101)
  echo $(( (many - one) / 100 ))
}

if [ "${1:-}" = "--quick" ]; then
  echo "layer-small: $(per_call layer-small) instructions per call"
  exit 0
fi

# "repeated URL": every call names the same redirectUrl, as a tenant's
# sessions would if they share one callback address; "new URL": every call
# names another, so the remembered parse of the last one never applies.
echo "| claims | HMAC floor | jsonwebtoken decode | layer, repeated URL | beyond the floor | layer, new URL | beyond the floor |"
echo "|---|---|---|---|---|---|---|"
for size in small typical large; do
  floor=$(per_call "floor-$size")
  decode=$(per_call "decode-$size")
  layer=$(per_call "layer-$size")
  fresh=$(per_call "newurl-$size")
  label=$(case $size in small) echo "200 B";; typical) echo "1 KB";; large) echo "2.65 KB";; esac)
  echo "| $label | $floor | $decode | $layer | $((layer - floor)) | $fresh | $((fresh - floor)) |"
done
echo
echo "refused forgery (typical token): $(per_call refuse-forged) instructions per call"
bare=$(per_call router-bare)
routed=$(per_call router-layer)
echo "in an axum router (small token): bare $bare, with the layer $routed, added by the layer $((routed - bare)) instructions per request"
