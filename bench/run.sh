#!/usr/bin/env bash
# The benchmark: rqdash beside rq-dashboard 0.9 on the same Redis, filled by real RQ.
#   bench/run.sh                      # small and large data sets (first run seeds and caches them)
#   bench/run.sh --sets small --seconds 5
# Writes bench/results.md (and .json) and prints the table. Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
RQDASH_RQ_VERSIONS="2.12.0" scripts/setup-rq-venvs.sh >/dev/null
if ! .venv/rq-dashboard/bin/python -c "import rq_dashboard.web" 2>/dev/null; then
  python3 -m venv .venv/rq-dashboard
  # rq-dashboard 0.9 targets RQ 2.x, and imports six without declaring it.
  .venv/rq-dashboard/bin/pip install --quiet --disable-pip-version-check "rq-dashboard==0.9.0" "rq==2.12.0" six
fi
cargo build --release --locked --quiet
mkdir -p bench/data
exec .venv/rq-2.12.0/bin/python bench/bench.py "$@"
