#!/usr/bin/env bash
# Creates one Python virtualenv per RQ version that the tests use as an oracle.
# Idempotent: a venv that already has the right RQ version is left alone.
#
#   scripts/setup-rq-venvs.sh            # into ./.venv (the default the tests look in)
#   RQDASH_VENV_DIR=/somewhere scripts/setup-rq-venvs.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${RQDASH_VENV_DIR:-$here/.venv}
python=${PYTHON:-python3}
versions=${RQDASH_RQ_VERSIONS:-"1.16.2 2.12.0 3.0.0"}

# Extra packages some venvs carry: the separate rq-scheduler library (it needs RQ 2+), whose keys
# the cron page lists.
extras_for() {
  case "$1" in
    2.12.0) echo "rq-scheduler==0.14.0" ;;
    *) echo "" ;;
  esac
}

mkdir -p "$dir"
for v in $versions; do
  venv="$dir/rq-$v"
  extras=$(extras_for "$v")
  check="import rq, sys; sys.exit(rq.__version__ != '$v')"
  [ -n "$extras" ] && check="import rq_scheduler; $check"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "rq $v: ready in $venv"
    continue
  fi
  echo "rq $v: creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2086 # extras: zero or more package specs
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "rq==$v" $extras
  "$venv/bin/python" -c "import rq; print('rq', rq.__version__, 'installed')"
done
