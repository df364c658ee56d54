#!/usr/bin/env bash
# Mirrors the Dockerfile: builds the release binary, starts it as the container does (bound to
# 0.0.0.0, no source tree beside it) against a private redis-server, and runs the HEALTHCHECK.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release --locked
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize yes --logfile "$work/redis.log"
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp "${CARGO_TARGET_DIR:-target}/release/rqdash" "$work/"
cleanup() { kill "${pid:-0}" 2>/dev/null && wait "$pid" 2>/dev/null; redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
(cd "$work" && RQ_DASHBOARD_REDIS_URL="redis://127.0.0.1:$port" RQ_DASHBOARD_BIND=0.0.0.0 RQ_DASHBOARD_PORT="$dport" exec ./rqdash >"$work/rqdash.log" 2>&1) &
pid=$!
for _ in $(seq 1 50); do
  if RQ_DASHBOARD_PORT="$dport" "$work/rqdash" --healthcheck; then
    echo "release binary healthy on port $dport"
    exit 0
  fi
  sleep 0.1
done
cat "$work/rqdash.log"
echo "release binary did not become healthy" >&2
exit 1
