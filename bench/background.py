"""What rqdash's background work costs Redis with nobody looking: 200 queues and 500 workers written
by real RQ (the seeding of bench/scale.py), rqdash running with no viewer, Redis commands per
second counted from INFO commandstats.

    .venv/rq-2.12.0/bin/python bench/background.py [--queues 200] [--workers 500] [--seconds 60]

Runs on the same data, each after a 20 s warm-up (the first round of rules reads more, and the
history's first round reads the newest entries of every registry):
- "snapshot, history in memory": `--alert-interval 3600 --history memory`: the shared snapshot
  every poll interval, the history counted in the process (the workers' counters come with the
  snapshot; registries are re-read once a minute for the statistics);
- "snapshot, history in Redis": the same with the default `--history redis`: the lease, the
  bookkeeping read and the round's script every 5 s, and the mirror's reads;
- "with the health rules": the default `--alert-interval 15`;
- "rules and a webhook": the same with `--alert-webhook` to a local receiver (adds the alert
  lease and the open-alert set).
No job runs during the measurement: what finishing jobs add is one HMGET per job entering a
finished or failed registry (at most 2,000 a round). Not part of the tests.
"""

import argparse
import http.server
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no bench/__pycache__ left behind
from bench import free_port, log  # noqa: E402
import scale  # noqa: E402

ROOT = os.path.dirname(HERE)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 200 to every POST (the alert webhook)."""

    def do_POST(self):  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def run(redis, binary, extra, seconds, warmup):
    """rqdash with `extra` flags, no viewer: Redis commands/s and dashboard CPU over `seconds`."""
    import subprocess

    port = free_port()
    proc = subprocess.Popen([binary, '-u', redis.url, '-p', str(port), *extra],
                            env={**os.environ, 'RUST_LOG': 'warn'},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warmup)
        c0, cpu0, t0 = redis.calls(), scale.cpu_seconds(proc.pid), time.time()
        time.sleep(seconds)
        dt = time.time() - t0
        return {'redis_cmds_per_s': round((redis.calls() - c0) / dt, 1),
                'dashboard_cpu_pct': round((scale.cpu_seconds(proc.pid) - cpu0) / dt * 100, 2)}
    finally:
        scale.stop_process(proc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--queues', type=int, default=200)
    p.add_argument('--workers', type=int, default=500)
    p.add_argument('--seconds', type=int, default=60)
    p.add_argument('--warmup', type=int, default=20)
    p.add_argument('--binary', default=os.path.join(ROOT, 'target', 'release', 'rqdash'))
    args = p.parse_args()

    redis = scale.Redis()
    workers = None
    hook = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        plan = scale.seed(redis.url, args.queues)
        names = [q['name'] for q in plan]
        workers = scale.Workers(redis.url, args.workers, names, {q['name']: q['queued'] for q in plan})
        log(f'seeded {args.queues} queues and {args.workers} workers')
        hook_url = f'http://127.0.0.1:{hook.server_address[1]}/hook'
        out = {'queues': args.queues, 'workers': args.workers, 'seconds': args.seconds}
        for label, extra in (('snapshot, history in memory', ['--alert-interval', '3600', '--history', 'memory']),
                             ('snapshot, history in Redis', ['--alert-interval', '3600']),
                             ('with the health rules', []),
                             ('rules and a webhook', ['--alert-webhook', hook_url])):
            out[label] = run(redis, args.binary, extra, args.seconds, args.warmup)
            log(f'{label}: {out[label]}')
        print(json.dumps(out, indent=2))
    finally:
        if workers:
            workers.close()
        hook.shutdown()
        redis.stop()


if __name__ == '__main__':
    main()
