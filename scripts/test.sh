#!/usr/bin/env bash
# The whole test suite: installs what it needs when missing, then runs every test.
# Unit tests need nothing; integration tests start their own redis-server per test, use real RQ
# (1.16.2, 2.12.0, 3.0.0) from ./.venv and drive a headless Chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/install-test-deps.sh
exec cargo test --locked "$@"
