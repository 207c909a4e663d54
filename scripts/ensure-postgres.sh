#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, postgres) exist, installing Debian/Ubuntu's
# `postgresql` package when they are missing and we can. Berth's embedded database runs them.
set -euo pipefail

have_binaries() {
  local dir
  for dir in $(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent)")") \
             /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
  done
  return 1
}

if have_binaries; then
  exit 0
fi

echo "PostgreSQL server binaries (initdb, postgres) are missing; installing them." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "Not root and no sudo: install the 'postgresql' package yourself, or set BERTH_DATABASE_URL." >&2
    exit 1
  fi
fi
if command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
elif command -v dnf >/dev/null; then
  $sudo dnf install -y postgresql-server
else
  echo "Unknown package manager: install PostgreSQL server binaries, or set BERTH_DATABASE_URL." >&2
  exit 1
fi
have_binaries || { echo "PostgreSQL installed but initdb/postgres still not found." >&2; exit 1; }
