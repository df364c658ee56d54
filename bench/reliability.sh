#!/usr/bin/env bash
# Reliability runs (not part of the test suite): bench/reliability.sh load|soak|both [--minutes N] [--seconds N]
# Writes bench/reliability.md and prints it; exits non-zero if a run found errors, growth or lost jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v wrk >/dev/null 2>&1 || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"; $sudo apt-get update -qq; $sudo apt-get install -y -qq wrk >/dev/null; }
RQDASH_RQ_VERSIONS="2.12.0" scripts/setup-rq-venvs.sh >/dev/null
cargo build --release --locked --quiet
mkdir -p bench/data
exec .venv/rq-2.12.0/bin/python bench/reliability.py "$@"
