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

mkdir -p "$dir"
for v in $versions; do
  venv="$dir/rq-$v"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import rq, sys; sys.exit(rq.__version__ != '$v')" 2>/dev/null; then
    echo "rq $v: ready in $venv"
    continue
  fi
  echo "rq $v: creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "rq==$v"
  "$venv/bin/python" -c "import rq; print('rq', rq.__version__, 'installed')"
done
