#!/usr/bin/env bash
# The scale benchmark of issue 12: 10,000 queues and 10,000 workers written by real RQ, rqdash's
# overview and workers page and rq-dashboard's overview in headless Chromium, plus wrk.
#   bench/scale.sh                              # 10,000 queues, 10,000 workers
#   bench/scale.sh --queues 1000 --workers 1000 --live-seconds 10
# Installs what is missing (redis-server, wrk, chromium, chromium-driver), creates the RQ 2.12.0
# and rq-dashboard virtualenvs, builds the release binary, then runs bench/scale.py (its
# docstring says what is measured). Writes bench/scale-results.md (and .json) and prints the
# table. Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
scripts/apt-install.sh "${missing[@]}"
RQDASH_RQ_VERSIONS="2.12.0" scripts/setup-rq-venvs.sh >/dev/null
if ! .venv/rq-dashboard/bin/python -c "import rq_dashboard.web" 2>/dev/null; then
  python3 -m venv .venv/rq-dashboard
  # rq-dashboard 0.9 targets RQ 2.x, and imports six without declaring it.
  .venv/rq-dashboard/bin/pip install --quiet --disable-pip-version-check "rq-dashboard==0.9.0" "rq==2.12.0" six
fi
cargo build --release --locked --quiet
exec .venv/rq-2.12.0/bin/python bench/scale.py "$@"
