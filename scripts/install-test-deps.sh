#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: redis-server, Debian's Chromium and
# ChromeDriver, and one Python venv per RQ version used as a test oracle. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ] || missing+=(chromium-driver)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
"$here/scripts/apt-install.sh" ${missing[@]+"${missing[@]}"}
"$here/scripts/setup-rq-venvs.sh"
