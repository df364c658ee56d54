#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: redis-server, Debian's Chromium and
# ChromeDriver, a CJK font (so the Chinese pages' screenshots show glyphs, not boxes), one
# Python venv per RQ version used as a test oracle, and Node with the npm packages of the test
# OpenID provider (tests/oidc) and axe-core for the accessibility checks (tests/a11y). Idempotent.
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
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
"$here/scripts/apt-install.sh" ${missing[@]+"${missing[@]}"}
"$here/scripts/setup-rq-venvs.sh"
# The OpenID provider the login tests run (tests/oidc/provider.mjs), at the versions of its lock.
if [ ! -d "$here/tests/oidc/node_modules/oidc-provider" ]; then
  (cd "$here/tests/oidc" && npm ci --no-audit --no-fund)
fi
# axe-core, which the accessibility tests inject into each page (tests/a11y), at its locked version.
if [ ! -d "$here/tests/a11y/node_modules/axe-core" ]; then
  (cd "$here/tests/a11y" && npm ci --no-audit --no-fund)
fi
