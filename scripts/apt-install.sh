#!/usr/bin/env bash
# Installs the given Debian/Ubuntu packages with apt (as root, or through sudo); does nothing when
# given none. Used by install-test-deps.sh and demo.sh for whatever they found missing.
#
#   scripts/apt-install.sh redis-server python3-venv
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "installing: $*"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install $* yourself" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
