#!/usr/bin/env bash
# The groups page and groups.json at 1,500 and 10,001 groups made by RQ's Group API
# (tests/py/rqfixture.py many-groups: one job each): the median of 15 requests each, with curl.
#   bench/groups.sh                  # builds the release binary first
#   bench/groups.sh path/to/rqdash   # a binary already built
# Starts its own redis-server and dashboard on free ports (never 6379) and stops both. Not part
# of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v redis-server >/dev/null 2>&1 || scripts/apt-install.sh redis-server
RQDASH_RQ_VERSIONS="2.12.0" scripts/setup-rq-venvs.sh >/dev/null
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet
  bin=target/release/rqdash
fi
py="$here/.venv/rq-2.12.0/bin/python"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
dport=$(free_port)
dash=
redis-server --port "$port" --save '' --appendonly no --daemonize yes >/dev/null
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; [ -z "$dash" ] || kill "$dash" 2>/dev/null || true' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
make_groups() { (cd tests/py && "$py" rqfixture.py many-groups --url "redis://127.0.0.1:$port" --start "$1" --count "$2" >/dev/null); }
median() { # the median of 15 requests of $1, in ms
  for _ in $(seq 15); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$dport$1"; done |
    sort -n | sed -n 8p | awk '{printf "%.1f ms", $1 * 1000}'
}
make_groups 0 1500
"$bin" -u "redis://127.0.0.1:$port" -p "$dport" >/dev/null 2>&1 &
dash=$!
until curl -sf "http://127.0.0.1:$dport/healthz" >/dev/null; do sleep 0.1; done
echo "| groups | /0/view/groups | /0/view/groups?page=15 | groups.json (1,000 a page) | groups.json?per_page=100 |"
echo "|---|---|---|---|---|"
echo "| 1,500 | $(median /0/view/groups) | $(median '/0/view/groups?page=15') | $(median /0/data/groups.json) | $(median '/0/data/groups.json?per_page=100') |"
make_groups 1500 8501
echo "| 10,001 | $(median /0/view/groups) | $(median '/0/view/groups?page=15') | $(median /0/data/groups.json) | $(median '/0/data/groups.json?per_page=100') |"
