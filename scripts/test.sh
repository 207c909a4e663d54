#!/usr/bin/env bash
# The whole test suite (`make test`): set-up, lints, dashboard checks, then every Rust test.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/test-db-env.sh
source scripts/test-db-env.sh

step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL server binaries (embedded database tests)"
scripts/ensure-postgres.sh

step "OpenSSH server binary (SSH repository tests run their own sshd)"
scripts/ensure-sshd.sh

step "Chromium (the dashboard's real-browser tests)"
scripts/ensure-chromium.sh

step "Test database"
use_test_db
echo "DATABASE_URL=${DATABASE_URL}"

step "Dashboard: npm packages, types, lint, component tests, build"
make -s web-deps
(cd web && npm run -s check)

step "Rust: formatting and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust: unit, API and end-to-end tests"
cargo test --workspace --no-fail-fast
