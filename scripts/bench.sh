#!/usr/bin/env bash
# The benchmark suite (`make bench`): release build, a PostgreSQL to run against, then every
# benchmark several times through `bench-suite`, which prints one Markdown table and writes
# bench/results.json and bench/RESULTS.md. Under 20 minutes on 2 quiet cores; all traffic on 127.0.0.1.
# Extra arguments go to bench-suite (e.g. `scripts/bench.sh --only webhook,fleet --runs 1`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/test-db-env.sh
source scripts/test-db-env.sh

step() { printf '\n== %s\n' "$*" >&2; }

step "PostgreSQL server binaries"
scripts/ensure-postgres.sh

step "Database server"
use_test_db
echo "DATABASE_URL=${DATABASE_URL}" >&2

command -v kubectl >/dev/null || echo "kubectl is not installed: the apply benchmark will have no peer figure" >&2

step "Release build"
cargo build --release -p berth -p berth-tests --bins

step "Benchmarks"
"${CARGO_TARGET_DIR:-target}/release/bench-suite" --out bench "$@"
