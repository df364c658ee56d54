#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: redis-server, Debian's Chromium and
# ChromeDriver, a CJK font (so the Chinese pages' screenshots show glyphs, not boxes), and one
# Python venv per RQ version used as a test oracle. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ] || missing+=(chromium-driver)
if command -v fc-list >/dev/null 2>&1; then
  [ -n "$(fc-list :lang=zh-cn family 2>/dev/null)" ] || missing+=(fonts-noto-cjk)
else
  [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/*CJK* >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
fi
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
"$here/scripts/apt-install.sh" ${missing[@]+"${missing[@]}"}
"$here/scripts/setup-rq-venvs.sh"
