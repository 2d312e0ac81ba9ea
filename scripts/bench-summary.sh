#!/usr/bin/env bash
# Medians of the last `cargo bench -p hook-layer` run, and the ratios that
# BENCHMARKS.md quotes, read from criterion's estimates under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/criterion

median() { # group, function -> nanoseconds
  grep -o '"median":{"confidence_interval":{[^}]*},"point_estimate":[0-9.e+-]*' \
    "$dir/$1/$2/new/estimates.json" | grep -o '[0-9.e+-]*$'
}

row() { # label, group, function, reference function
  local ours reference
  ours=$(median "$2" "$3")
  reference=$(median "$2" "$4")
  awk -v label="$1" -v a="$ours" -v b="$reference" -v ref="$4" \
    'BEGIN { printf "%-34s %9.0f ns   %9.0f ns (%s)   %.2fx\n", label, a, b, ref, a / b }'
}

printf '%-34s %12s   %-34s %s\n' "" "median" "reference" "ratio"
for size in small typical maximal; do
  row "verify/$size: layer" "verify_$size" layer jsonwebtoken_decode
  row "verify/$size: layer" "verify_$size" layer jsonwebtoken_decode_and_url
  row "verify/$size: jsonwebtoken::decode" "verify_$size" jsonwebtoken_decode hmac_sha256
done
row "complete: layer" complete layer jsonwebtoken_encode
for refusal in bad_signature malformed missing; do
  row "refuse/$refusal" refuse "$refusal" ../verify_typical/layer
done
