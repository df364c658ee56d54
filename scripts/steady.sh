#!/usr/bin/env bash
# Runs the whole suite N times in a row (default 5) on one fresh clone of this checkout's HEAD:
# the first run through .ci/run (as CI does, from an empty target and no venvs), the others
# through scripts/test.sh. Prints one line per run and exits 1 if any run failed.
#   scripts/steady.sh [N] [DIR]     # DIR: where the clone and logs go (default: a new temp dir)
set -u
n=${1:-5}
dir=${2:-$(mktemp -d "${TMPDIR:-/tmp}/rqdash-steady.XXXXXXXX")}
here=$(cd "$(dirname "$0")/.." && pwd)
git clone -q "$here" "$dir/rqdash" || exit 1
cd "$dir/rqdash" || exit 1
echo "commit $(git log --oneline -1); logs in $dir"
failed=0
for i in $(seq "$n"); do
  start=$(date +%s)
  if [ "$i" = 1 ]; then
    CI=true bash .ci/run >"$dir/run$i.log" 2>&1
  else
    bash scripts/test.sh >"$dir/run$i.log" 2>&1
  fi
  rc=$?
  [ "$rc" -eq 0 ] || failed=1
  echo "run $i: rc=$rc, $(($(date +%s) - start)) s; $(grep -E '^test result' "$dir/run$i.log" | grep -v ' 0 passed' | sed 's/; 0 ignored.*//' | tr '\n' ' ')"
  grep -E '^test .* FAILED$' "$dir/run$i.log" || true
done
exit "$failed"
