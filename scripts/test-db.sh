#!/usr/bin/env bash
# Prints a DATABASE_URL for the tests: $DATABASE_URL if set; else the local server on
# 127.0.0.1:5432 when it answers as `postgres`; else a throwaway cluster started here (its
# directory is printed on stderr and removed by `scripts/test-db.sh stop DIR`).
set -euo pipefail

if [ "${1:-}" = "stop" ]; then
  dir=$2
  pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1)
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  else "$pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  exit 0
fi

if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; exit 0; fi
default=postgres://postgres@127.0.0.1:5432/postgres
if command -v psql >/dev/null && psql "$default" -Atqc 'select 1' >/dev/null 2>&1; then
  echo "$default"; exit 0
fi

bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)")
[ -x "$bindir/initdb" ] || { echo "no PostgreSQL server binaries; run scripts/ensure-postgres.sh" >&2; exit 1; }
dir=$(mktemp -d /tmp/berth-test-pg.XXXXXX)
chmod 755 "$dir"
port=55432
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" start >/dev/null
echo "started a throwaway PostgreSQL in $dir" >&2
echo "$dir" > "${BERTH_TEST_DB_DIR_FILE:-/dev/null}"
echo "postgres://postgres@127.0.0.1:$port/postgres"
