#!/usr/bin/env bash
# A live demo in one command: a private Redis with real RQ 2.12.0 workers, `rq cron` and a job
# generator keeping it busy, and the dashboard on it.
#
#   scripts/demo.sh                # http://127.0.0.1:9181
#   scripts/demo.sh --port 9300    # or RQDASH_DEMO_PORT=9300
#
# Installs redis-server, python3 and python3-venv with apt when missing (scripts/apt-install.sh),
# creates (or reuses) the venv .venv/rq-2.12.0 (scripts/setup-rq-venvs.sh; RQDASH_VENV_DIR puts it
# elsewhere), builds the dashboard (cargo build --release), then starts, each in a process group of
# its own and all carrying RQDASH_DEMO_RUN=<its temp dir> in their environment:
#   - redis-server on a free port (never 6379), bound to 127.0.0.1, no persistence;
#   - rq worker demo-1 --with-scheduler (high, default, emails), rq worker demo-2 (the same
#     queues), rq worker demo-reports (reports: slow jobs, one worker, so it backs up);
#   - rq cron with scripts/demo/demo_cron.py (an interval job and a cron-string job);
#   - scripts/demo/generator.py (successes, failures, retries, scheduled and deferred jobs,
#     groups, and jobs for 'archive', a queue no worker listens to);
#   - the dashboard, on 127.0.0.1:<port>.
# Ctrl-C (SIGINT) or SIGTERM stops them all (workers cold, so their work horses go too), then
# SIGKILLs anything still carrying the marker, removes the temp dir and exits 130 (143 for
# SIGTERM). If a part dies on its own, the demo prints its log, stops the rest and exits 1.
#
# RQDASH_DEMO_BIN=/path/to/rqdash skips the build and serves with that binary (the test does).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# Started in the background by a non-interactive shell (`scripts/demo.sh &` in a script), bash
# inherits SIGINT ignored and cannot trap it, so `kill -INT` would do nothing: start again with
# SIGINT restored.
if [ -z "${RQDASH_DEMO_SIGINT_RESET:-}" ] && command -v python3 >/dev/null 2>&1; then
  ignored=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null || true)
  if [ -n "$ignored" ] && [ $((0x$ignored & 2)) -ne 0 ]; then
    exec env RQDASH_DEMO_SIGINT_RESET=1 python3 -c \
      'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
      bash "$here/scripts/demo.sh" "$@"
  fi
fi
unset RQDASH_DEMO_SIGINT_RESET

port=${RQDASH_DEMO_PORT:-9181}
while [ $# -gt 0 ]; do
  case "$1" in
    -p | --port)
      [ $# -ge 2 ] || { echo "demo: $1 needs a port" >&2; exit 2; }
      port=$2
      shift 2
      ;;
    --port=*) port=${1#--port=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$port" in '' | *[!0-9]*) echo "demo: --port wants a number, not '$port'" >&2; exit 2 ;; esac

say() { echo "demo: $*"; }

# --- what it needs --------------------------------------------------------------------------------
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
scripts/apt-install.sh ${missing[@]+"${missing[@]}"}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_taken() {
  python3 -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null && return 1
  return 0
}
if port_taken "$port"; then
  echo "demo: port $port is taken: choose another with --port" >&2
  exit 1
fi

venv_dir=${RQDASH_VENV_DIR:-$here/.venv}
RQDASH_VENV_DIR="$venv_dir" RQDASH_RQ_VERSIONS=2.12.0 scripts/setup-rq-venvs.sh
venv="$venv_dir/rq-2.12.0"

if [ -n "${RQDASH_DEMO_BIN:-}" ]; then
  bin=$RQDASH_DEMO_BIN
else
  command -v cargo >/dev/null 2>&1 || {
    echo "demo: cargo not found: install Rust 1.88 or newer (e.g. from https://rustup.rs)" >&2
    exit 1
  }
  say "building the dashboard (cargo build --release; the first build takes a few minutes)"
  cargo build --release --locked
  target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target/release/rqdash"
fi
[ -x "$bin" ] || { echo "demo: no dashboard binary at $bin" >&2; exit 1; }

# --- start --------------------------------------------------------------------------------------
state=$(mktemp -d "${TMPDIR:-/tmp}/rqdash-demo.XXXXXXXX")
pids=()
names=()
stopping=0

# Every process the demo starts gets RQDASH_DEMO_RUN=$state in its environment (inherited by the
# work horses, the scheduler and anything else they fork); redis-server, which overwrites its
# environment with its process title, has $state on its command line instead. This shell itself
# does not carry the variable, so it can look for it with builtins only.
carriers() {
  local p entry
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" != "$$" ] || continue
    {
      while IFS= read -r -d '' entry; do
        if [ "$entry" = "RQDASH_DEMO_RUN=$state" ]; then echo "$p"; continue 2; fi
      done <"/proc/$p/environ"
      while IFS= read -r -d '' entry; do
        if [[ "$entry" == *"$state"* ]]; then echo "$p"; continue 2; fi
      done <"/proc/$p/cmdline"
    } 2>/dev/null || true
  done
}

alive() { # the pids of $@ that are still running
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null && echo "$p"; done
  return 0
}

signal_parts() { # signal_parts SIG name... : signals the process group of each named part
  local sig=$1 i n
  shift
  for n in "$@"; do
    for i in "${!names[@]}"; do
      [ "${names[$i]}" = "$n" ] && kill -s "$sig" -- "-${pids[$i]}" 2>/dev/null
    done
  done
  return 0
}

wait_parts() { # wait_parts SECONDS name... : until those parts have exited
  local deadline=$((SECONDS + $1)) i n left
  shift
  while :; do
    left=()
    for n in "$@"; do
      for i in "${!names[@]}"; do
        [ "${names[$i]}" = "$n" ] && kill -0 "${pids[$i]}" 2>/dev/null && left+=("$n")
      done
    done
    [ ${#left[@]} -gt 0 ] && [ $SECONDS -lt $deadline ] || break
    sleep 0.2
  done
  return 0
}

stop_all() {
  [ "$stopping" -eq 0 ] || return 0
  stopping=1
  trap '' INT TERM
  set +e
  say "stopping everything it started"
  workers=(worker-1 worker-2 worker-reports)
  signal_parts TERM generator cron dashboard "${workers[@]}"
  sleep 1.2 # RQ ignores a second signal within 1 s
  # A second signal is RQ's cold shutdown: a busy worker kills its work horse and exits.
  signal_parts TERM "${workers[@]}"
  wait_parts 8 generator cron dashboard "${workers[@]}"
  signal_parts TERM redis
  wait_parts 5 redis
  local left tries=0
  left=$(carriers)
  if [ -n "$left" ]; then
    say "still running after SIGTERM, now killed:"
    ps -o pid,pgid,args -p "$(echo $left | tr ' ' ,)" 2>/dev/null | sed 's/^/  /'
  fi
  while [ -n "$left" ] && [ $tries -lt 50 ]; do
    # shellcheck disable=SC2086 # a list of pids
    kill -s KILL $left 2>/dev/null
    sleep 0.1
    left=$(carriers)
    tries=$((tries + 1))
  done
  wait 2>/dev/null # reap
  rm -rf "$state"
  if [ -n "$left" ]; then
    say "could not end: $left"
    return 1
  fi
  say "stopped; nothing left running"
}

on_signal() {
  stop_all
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'stop_all' EXIT

start() { # start NAME COMMAND...: in the background, output to $state/NAME.log
  local name=$1
  shift
  # With job control on for this one command, it gets a process group of its own, so Ctrl-C in
  # the terminal reaches this shell only (which stops the parts in order). Off again at once:
  # foreground commands stay in this shell's group and the terminal stays with it.
  set -m
  RQDASH_DEMO_RUN="$state" PYTHONDONTWRITEBYTECODE=1 "$@" </dev/null >"$state/$name.log" 2>&1 &
  set +m
  pids+=($!)
  names+=("$name")
}

fail_part() { # fail_part NAME: a part died or never came up
  local i
  for i in "${!names[@]}"; do
    if [ "${names[$i]}" = "$1" ]; then
      echo "demo: $1 is not running; the end of its log ($state/$1.log):" >&2
      tail -n 25 "$state/$1.log" | sed 's/^/  /' >&2
    fi
  done
  exit 1
}

wait_until() { # wait_until SECONDS NAME COMMAND...: retries COMMAND while NAME is alive
  local deadline=$((SECONDS + $1)) name=$2 i
  shift 2
  until "$@" >/dev/null 2>&1; do
    for i in "${!names[@]}"; do
      [ "${names[$i]}" != "$name" ] || kill -0 "${pids[$i]}" 2>/dev/null || fail_part "$name"
    done
    [ $SECONDS -lt $deadline ] || { echo "demo: $name did not come up in $1 s" >&2; fail_part "$name"; }
    sleep 0.2
  done
}

redis_port=$(free_port)
[ "$redis_port" != 6379 ] || redis_port=$(free_port)
url="redis://127.0.0.1:$redis_port/0"
mkdir "$state/redis"
start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$state/redis" --proc-title-template "{title} {listen-addr} {server-mode} $state"
wait_until 10 redis "$venv/bin/python" -c 'import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()' "$url"

rq=("$venv/bin/rq")
path=(--url "$url" --path "$here/scripts/demo")
start worker-1 "${rq[@]}" worker "${path[@]}" --name demo-1 --with-scheduler high default emails
start worker-2 "${rq[@]}" worker "${path[@]}" --name demo-2 high default emails
start worker-reports "${rq[@]}" worker "${path[@]}" --name demo-reports reports
start cron "${rq[@]}" cron "${path[@]}" "$here/scripts/demo/demo_cron.py"
start generator "$venv/bin/python" "$here/scripts/demo/generator.py" --url "$url"
start dashboard "$bin" --redis-url "$url" --port "$port" --bind 127.0.0.1
wait_until 30 dashboard python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
  "http://127.0.0.1:$port/healthz"

cat <<EOF

  rqdash demo: http://127.0.0.1:$port

  Redis        $url (private, gone when the demo stops)
  RQ 2.12.0    workers demo-1 (with the scheduler) and demo-2 on high, default, emails;
               demo-reports alone on reports; rq cron; a generator enqueuing about 5 jobs a second
  Look at      the overview: counts moving by themselves; 'reports' backing up, 'archive' with no
               worker; Failed jobs (PaymentDeclined, TimeoutError, KeyError, ... with tracebacks);
               Scheduled (reminders, retries waiting for their interval); Deferred (reports'
               follow-ups); Groups (upload batches); Cron (cleanup-sessions every 15 s); Workers.
  Logs         $state/*.log (removed on exit)

  Ctrl-C stops everything.
EOF

# Sleep until a signal, or until a part exits by itself (then stop the rest and fail).
while :; do
  if wait -n "${pids[@]}"; then :; fi
  [ "$stopping" -eq 0 ] || break
  for i in "${!names[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || fail_part "${names[$i]}"
  done
done
