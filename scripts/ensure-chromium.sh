#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the dashboard's real-browser tests
# (tests/tests/dashboard.rs drives /usr/bin/chromium through playwright-core, which never
# downloads a browser). Installs the `chromium` package when it is missing and we can.
set -euo pipefail

browser=${BERTH_CHROMIUM:-/usr/bin/chromium}
if [ -x "$browser" ]; then
  exit 0
fi

echo "Chromium ($browser) is missing; installing Debian's chromium package." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "Not root and no sudo: install the 'chromium' package yourself, or set BERTH_CHROMIUM." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "No apt-get: install Chromium yourself and point BERTH_CHROMIUM at it." >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$browser" ] || { echo "chromium installed but $browser is still missing." >&2; exit 1; }
