#!/usr/bin/env bash
# Makes sure OpenSSH's server binary (sshd) exists, installing Debian/Ubuntu's `openssh-server`
# package when it is missing and we can. The SSH end-to-end tests run their own sshd (own config,
# own host key, a free port on 127.0.0.1); nothing here starts or configures a system service.
set -euo pipefail

have_sshd() {
  command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ]
}

if have_sshd; then
  exit 0
fi

echo "sshd is missing; installing openssh-server (the SSH tests run their own sshd)." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "Not root and no sudo: install 'openssh-server' yourself, or the SSH tests are skipped." >&2
    exit 0
  fi
fi
if command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    openssh-server >/dev/null
else
  echo "Unknown package manager: install OpenSSH's sshd, or the SSH tests are skipped." >&2
  exit 0
fi
have_sshd || { echo "openssh-server installed but sshd still not found." >&2; exit 1; }
