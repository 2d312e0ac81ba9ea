#!/usr/bin/env bash
# Known advisories (RustSec) for every lock file in the repository, checked
# offline against the snapshot of the advisory database kept beside it, and
# two controls that show the check can fail.
#
#   scripts/advisories.sh
#
# The machines that build this project cannot fetch the database, so it is
# read from ../shared/advisory-db/advisory-db.bundle, relative to the
# repository's root (ADVISORY_DB_BUNDLE names another). What fails, and how
# old the snapshot may be, is deny.toml's [advisories].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fail() {
  echo "advisories: $*" >&2
  exit 1
}

bundle=${ADVISORY_DB_BUNDLE:-$root/../shared/advisory-db/advisory-db.bundle}
[ -f "$bundle" ] || fail "no snapshot of the RustSec advisory database at $bundle
  It is kept beside the repository, in ../shared/advisory-db/ (set ADVISORY_DB_BUNDLE to use another)."
command -v cargo-deny >/dev/null || fail "cargo-deny is not installed: cargo install cargo-deny --locked"
grep -qx '\[advisories\]' deny.toml || fail "deny.toml has no [advisories] table"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# cargo-deny keeps each database in a folder named after its URL; this is the
# folder of the default one, https://github.com/rustsec/advisory-db.
db=$work/advisory-dbs/advisory-db-3157b0e258782691
git -c init.defaultBranch=main -c advice.detachedHead=false clone -q "$bundle" "$db"
# Offline, cargo-deny dates the database by .git/HEAD's modification time
# when that is newer than the commit, and a fresh clone's is now: dated so,
# maximum-db-staleness would never fail. The commit's date is the snapshot's.
touch -d "$(git -C "$db" log -1 --format=%cI)" "$db/.git/HEAD"
age=$((($(date +%s) - $(git -C "$db" log -1 --format=%ct)) / 86400))
printf 'snapshot: %s, %d days old\n' "$(git -C "$db" log -1 --format=%s)" "$age"

# deny.toml names no database path, which is a machine's; a copy of it made
# here points at the clone.
config=$work/deny.toml
sed "/^\[advisories\]\$/a db-path = \"$work/advisory-dbs\"" deny.toml >"$config"

# From the manifest's directory, so that cargo reads the .cargo/config.toml
# beside it, as a build there would (the control below depends on it).
# --locked: the committed lock file is what is checked, not one cargo
# resolves afresh.
check() {
  local dir=$1 config=$2
  (cd "$dir" && cargo deny --offline --locked --all-features --config "$config" check advisories)
}

# The workspace and the two crates outside it (each with its own lock file).
# `cargo metadata` needs every platform's crates, not only this one's, so
# they are fetched from the registry first; the database stays offline.
for dir in . fuzz compare/jwt-authorizer; do
  echo "== $dir/Cargo.lock"
  cargo fetch --locked --quiet --manifest-path "$dir/Cargo.toml"
  check "$dir" "$config"
done

# Control: a lock file naming smallvec 1.6.0 (RUSTSEC-2021-0003, a heap
# buffer overflow) must be refused. The smallvec in it is an empty stub,
# served through a directory source that replaces crates.io, so that cargo
# needs no network; cargo still records it as from crates.io, which is what
# advisories are matched against.
control=$work/control
mkdir -p "$control/src" "$control/.cargo" "$control/vendor/smallvec/src"
cat >"$control/Cargo.toml" <<'EOF'
[package]
name = "advisory-control"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
smallvec = "=1.6.0"

[workspace]
EOF
cat >"$control/.cargo/config.toml" <<'EOF'
[source.crates-io]
replace-with = "stub"

[source.stub]
directory = "vendor"
EOF
cat >"$control/vendor/smallvec/Cargo.toml" <<'EOF'
[package]
name = "smallvec"
version = "1.6.0"
edition = "2021"
EOF
echo '{"files":{}}' >"$control/vendor/smallvec/.cargo-checksum.json"
: >"$control/src/lib.rs"
: >"$control/vendor/smallvec/src/lib.rs"
(cd "$control" && cargo generate-lockfile --offline --quiet)

# Refused, and for that advisory: a failure of any other kind (a lock file
# cargo cannot read, a database that does not load) would prove nothing.
expect_refusal() {
  local what=$1 reason=$2 config=$3 output
  if output=$(check "$control" "$config" 2>&1); then
    printf '%s\n' "$output" >&2
    fail "control: the check accepted $what"
  fi
  grep -qF "$reason" <<<"$output" || {
    printf '%s\n' "$output" >&2
    fail "control: $what was refused, but not for '$reason'"
  }
  echo "control: $what refused ($reason), as it should be"
}

echo "== controls"
expect_refusal "a lock file with smallvec 1.6.0" "RUSTSEC-2021-0003" "$config"

# Control: a snapshot older than deny.toml allows is refused. With a bound of
# one day this shows the age is the commit's: the clone is seconds old. A
# snapshot taken today cannot show it.
sed 's/^maximum-db-staleness = .*/maximum-db-staleness = "P1D"/' "$config" >"$work/deny-1d.toml"
grep -qx 'maximum-db-staleness = "P1D"' "$work/deny-1d.toml" || fail "deny.toml sets no maximum-db-staleness"
if [ "$age" -ge 1 ]; then
  expect_refusal "a snapshot more than a day old" "repository is stale" "$work/deny-1d.toml"
else
  echo "control: SKIPPED the snapshot's age, as it is less than a day old"
fi
