#!/usr/bin/env bash
# The longest Redis script of each bulk action on a queue of 1,000,000 jobs (SLOWLOG, LATENCY).
#   bench/scripts.sh        # seeds with real RQ 2.12 (a few minutes), prints the table, writes bench/scripts.md
# Not part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v redis-server >/dev/null 2>&1 || scripts/apt-install.sh redis-server
RQDASH_RQ_VERSIONS="2.12.0" scripts/setup-rq-venvs.sh >/dev/null
cargo build --release --locked --quiet
exec .venv/rq-2.12.0/bin/python bench/scripts.py "$@"
