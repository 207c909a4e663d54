#!/usr/bin/env bash
# The whole test suite (`make test`): set-up, lints, dashboard checks, then every Rust test.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL server binaries (embedded database tests)"
scripts/ensure-postgres.sh

step "OpenSSH server binary (SSH repository tests run their own sshd)"
scripts/ensure-sshd.sh

step "Chromium (the dashboard's real-browser tests)"
scripts/ensure-chromium.sh

step "Test database"
dbdir_file=$(mktemp)
# Only test-db.sh reads it (not exported: Berth warns about BERTH_* names it does not know).
DATABASE_URL=$(BERTH_TEST_DB_DIR_FILE=$dbdir_file scripts/test-db.sh)
export DATABASE_URL
cleanup() {
  local dir
  dir=$(cat "$dbdir_file" 2>/dev/null || true)
  [ -n "$dir" ] && scripts/test-db.sh stop "$dir"
  rm -f "$dbdir_file"
}
trap cleanup EXIT
echo "DATABASE_URL=${DATABASE_URL}"

step "Dashboard: npm packages, types, lint, component tests, build"
make -s web-deps
(cd web && npm run -s check)

step "Rust: formatting and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust: unit, API and end-to-end tests"
cargo test --workspace --no-fail-fast
