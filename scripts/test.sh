#!/usr/bin/env bash
# The whole test suite: installs what it needs when missing, runs every test, then checks that the
# run left nothing behind.
# Unit tests need nothing; integration tests start their own redis-server per test, use real RQ
# (1.16.2, 2.12.0, 3.0.0) from ./.venv, nginx, and a headless Chromium.
#
# Leftovers: the tests run with TMPDIR set to a fresh folder, rqdash-test-run.XXXXXXXX in the temp
# folder, and in a process group of their own. Every temp dir a test makes is in that folder, so
# every process a test starts carries the folder's name (in its environment, or on its command
# line; see tests/api/support/process.rs). Afterwards scripts/leftovers.py lists every process
# that still carries it or is still in the group, and anything left in the folder; it ends and
# removes them, and the run fails.
#
# Exit status: cargo test's; 3 if the tests passed but left something behind; 130 when
# interrupted (the check still runs).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/install-test-deps.sh
# Build first, outside the run's folder: only the tests' own files belong in it.
cargo test --locked --no-run "$@"

run=$(mktemp -d "${TMPDIR:-/tmp}/rqdash-test-run.XXXXXXXX")
set -m # a background job gets a process group of its own
TMPDIR="$run" RQDASH_TEST_RUN="${run##*/}" cargo test --locked "$@" &
cargo_pid=$!
set +m
interrupted=0
trap 'interrupted=1; kill -INT -- "-$cargo_pid" 2>/dev/null || true' INT TERM
pgid=$(ps -o pgid= -p "$cargo_pid" | tr -d ' ' || true) # empty if it has already exited
if [ -n "$pgid" ] && [ "$pgid" != "$cargo_pid" ]; then
  echo "scripts/test.sh: cargo test did not get a process group of its own" >&2
  kill -- "$cargo_pid" 2>/dev/null || true
  exit 1
fi
status=0
while :; do
  if wait "$cargo_pid"; then status=0; else status=$?; fi
  kill -0 "$cargo_pid" 2>/dev/null || break # else a signal interrupted the wait
done
trap - INT TERM

if ! python3 scripts/leftovers.py "$run" --group "$cargo_pid"; then
  echo "scripts/test.sh: the tests left the processes or files listed above behind (now ended and removed)" >&2
  [ "$status" -ne 0 ] || status=3
fi
[ "$interrupted" -eq 0 ] || status=130
exit "$status"
