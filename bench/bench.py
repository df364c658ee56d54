"""rqdash vs rq-dashboard on the same Redis: throughput, latency, memory, Redis cost, polling
browsers, bulk requeue. Run through bench/run.sh, which prepares everything it needs.

Both servers read the same private redis-server, filled by real RQ (bench/seed.py). Each
endpoint is loaded with wrk (16 connections) first on rq-dashboard, then on rqdash. Redis
commands per request come from INFO commandstats; memory is the server's peak RSS (VmHWM).
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import seed as seeder  # noqa: E402

SEED_VERSION = '3'  # bump when seed.py changes, to rebuild cached data sets


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_results(path, text, results):
    """Writes the markdown `text` to `path` and `results` as JSON beside it, and prints `text`."""
    with open(path, 'w') as f:
        f.write(text + '\n')
    with open(os.path.splitext(path)[0] + '.json', 'w') as f:
        json.dump(results, f, indent=1, default=str)
    print(text)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Redis:
    """A private redis-server holding one data set (cached as an RDB file between runs)."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(HERE, 'data', f'work-{name}')
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        cache = os.path.join(HERE, 'data', f'{name}-v{SEED_VERSION}.rdb')
        if os.path.exists(cache):
            shutil.copy(cache, os.path.join(self.dir, 'dump.rdb'))
        self.port = free_port()
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.dir,
             '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no',
             '--logfile', os.path.join(self.dir, 'redis.log')],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        self.conn = redis.Redis(port=self.port)
        for _ in range(600):  # loading a large RDB takes a few seconds
            try:
                if self.conn.ping():
                    break
            except Exception:
                pass
            time.sleep(0.1)
        while self.conn.info('persistence').get('loading'):
            time.sleep(0.1)
        self.url = f'redis://127.0.0.1:{self.port}/0'
        if not os.path.exists(cache):
            log(f'seeding the {name} data set with real RQ (cached afterwards in {cache})…')
            t = time.time()
            seeder.seed(self.url, name)
            log(f'  seeded in {time.time() - t:.0f} s')
            self.conn.save()
            shutil.copy(os.path.join(self.dir, 'dump.rdb'), cache)
        spec = seeder.SETS[name]
        queues = [f'q{i:03d}' for i in range(spec['queues'])]
        seeder.register_workers(self.url, spec['workers'], queues)
        self.conn.config_set('latency-monitor-threshold', 5)

    def calls(self):
        info = self.conn.info('commandstats')
        return sum(v['calls'] for k, v in info.items() if k not in ('cmdstat_info', 'cmdstat_config', 'cmdstat_latency'))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def get(url, timeout=120, method='GET'):
    req = urllib.request.Request(url, method=method, data=b'' if method == 'POST' else None)
    if method == 'POST':
        # As the dashboard's own page sends it; a POST with neither Origin nor a form token is
        # refused.
        parts = urllib.parse.urlsplit(url)
        req.add_header('Origin', f'{parts.scheme}://{parts.netloc}')
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def wait_http(url, proc, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f'server exited early: {proc.returncode}')
        try:
            s, _ = get(url, timeout=2)
            if s == 200:
                return time.time() - t0
        except Exception:
            pass
        time.sleep(0.005)
    raise SystemExit(f'{url} did not answer within {timeout} s')


class Server:
    def __init__(self, kind, redis_url):
        self.kind = kind
        self.port = free_port()
        self.base = f'http://127.0.0.1:{self.port}'
        env = dict(os.environ)
        if kind == 'rqdash':
            cmd = [os.path.join(os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target')), 'release', 'rqdash'), '-u', redis_url, '-p', str(self.port)]
            env['RUST_LOG'] = 'warn'
        else:
            cmd = [os.path.join(ROOT, '.venv', 'rq-dashboard', 'bin', 'rq-dashboard'), '-u', redis_url,
                   '-b', '127.0.0.1', '-p', str(self.port)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.startup = wait_http(self.base + ('/healthz' if kind == 'rqdash' else '/0/data/queues.json'), self.proc)

    def rss_mb(self):
        with open(f'/proc/{self.proc.pid}/status') as f:
            text = f.read()
        return {k: int(re.search(rf'{k}:\s+(\d+)', text).group(1)) / 1024 for k in ('VmRSS', 'VmHWM')}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1000.0}


def wrk(url, seconds, connections=16):
    out = subprocess.run(
        ['wrk', '-t2', f'-c{connections}', f'-d{seconds}s', '--latency', '--timeout', '30s', url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    total = int(re.search(r'(\d+) requests in', out).group(1))
    lat = {}
    for pct in ('50', '99'):
        m = re.search(rf'\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\b', out)
        lat[pct] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    timeouts = re.search(r'timeout (\d+)', out)
    return dict(rps=rps, total=total, p50=lat['50'], p99=lat['99'],
                errors=int(errors.group(1)) if errors else 0,
                timeouts=int(timeouts.group(1)) if timeouts else 0)


def endpoints(kind, big_queue, n_failed_big):
    last = max(1, -(-n_failed_big // 8))
    common = {
        'queues.json': '/0/data/queues.json',
        'workers.json': '/0/data/workers.json',
        'failed page 1 (JSON)': f'/0/data/jobs/{big_queue}/failed/8/asc/1.json',
        'failed last page (JSON)': f'/0/data/jobs/{big_queue}/failed/8/asc/{last}.json',
        'job detail (JSON)': '/0/data/job/bench-detail.json',
    }
    if kind == 'rqdash':
        return {
            'overview page': '/0/view/queues',
            **common,
            'failed page 1 (HTML)': f'/0/view/jobs/{big_queue}/failed/8/asc/1',
            'failed last page (HTML)': f'/0/view/jobs/{big_queue}/failed/8/asc/{last}',
            'job detail (HTML)': '/0/view/job/bench-detail',
        }
    # rq-dashboard's pages are shells that load the JSON above; its overview is '/'.
    return {'overview page': '/', **common}


def measure_reads(server, redis, seconds, eps):
    rows = {}
    for name, path in eps.items():
        get(server.base + path)  # warm up
        before = redis.calls()
        r = wrk(server.base + path, seconds)
        r['redis_per_req'] = (redis.calls() - before) / max(1, r['total'])
        r.update(server.rss_mb())
        rows[name] = r
        log(f'  {server.kind:12} {name:26} {r["rps"]:10.1f} req/s  p50 {fmt_ms(r["p50"])}  p99 {fmt_ms(r["p99"])}  '
            f'redis/req {r["redis_per_req"]:.1f}  rss {r["VmHWM"]:.1f} MB')
    return rows


def polling(server, redis, path, browsers, seconds, interval=2.5):
    """`browsers` clients each GET `path` every `interval` s (random phase): Redis commands/s."""
    stop = time.time() + seconds
    errors = []

    def client():
        time.sleep(random.random() * interval)
        while time.time() < stop:
            t = time.time()
            try:
                get(server.base + path, timeout=30)
            except Exception as e:  # noqa: BLE001
                errors.append(e)
            time.sleep(max(0, interval - (time.time() - t)))

    time.sleep(interval)  # let earlier traffic drain
    before = redis.calls()
    t0 = time.time()
    threads = [threading.Thread(target=client) for _ in range(browsers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (redis.calls() - before) / (time.time() - t0), len(errors)


PROBE = r'''
import sys, time, redis
r = redis.Redis(port=int(sys.argv[1]))
worst = 0.0; over10 = over25 = n = 0
end = time.time() + float(sys.argv[2])
stop_file = sys.argv[3]
import os
while time.time() < end and not os.path.exists(stop_file):
    t = time.perf_counter(); r.ping(); d = (time.perf_counter() - t) * 1000
    worst = max(worst, d); n += 1; over10 += d > 10; over25 += d > 25
    time.sleep(0.001)
print(f"{worst:.2f} {over10} {over25} {n}")
'''


class StallProbe:
    """PINGs Redis every millisecond from its own process and reports the worst round trip."""

    def __init__(self, redis, limit=900):
        self.stop_file = os.path.join(redis.dir, 'probe.stop')
        self.proc = subprocess.Popen([sys.executable, '-c', PROBE, str(redis.port), str(limit), self.stop_file],
                                     stdout=subprocess.PIPE, text=True)
        self.redis = redis
        redis.conn.execute_command('LATENCY', 'RESET')

    def finish(self):
        open(self.stop_file, 'w').close()
        out = self.proc.communicate()[0].split()
        os.remove(self.stop_file)
        latest = self.redis.conn.execute_command('LATENCY', 'LATEST')
        server_max = max((int(e[3]) for e in latest), default=0)
        return dict(worst_ms=float(out[0]), over10=int(out[1]), over25=int(out[2]), pings=int(out[3]),
                    server_max_ms=server_max)


def fmt_ms(v):
    if v is None:
        return '—'
    return f'{v:.2f} ms' if v < 100 else f'{v:.0f} ms'


def ratio(a, b):
    if not a or not b:
        return '—'
    return f'{b / a:,.0f}×' if b / a >= 10 else f'{b / a:.1f}×'


def run(args):
    results = {'when': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), 'sets': {}}
    for set_name in args.sets:
        spec = seeder.SETS[set_name]
        redis = Redis(set_name)
        n_failed_big = redis.conn.zcard('rq:failed:q000')
        res = {'reads': {}, 'spec': spec}
        results['sets'][set_name] = res
        log(f'== {set_name}: {spec}')
        for kind in ('rq-dashboard', 'rqdash'):
            server = Server(kind, redis.url)
            log(f'  {kind} answered {server.startup * 1000:.0f} ms after start')
            res['reads'][kind] = measure_reads(server, redis, args.seconds, endpoints(kind, 'q000', n_failed_big))
            res['reads'][kind]['_startup_ms'] = server.startup * 1000
            if set_name == 'large':
                path = '/0/fragments/overview' if kind == 'rqdash' else '/0/data/queues.json'
                for browsers in (1, 50):
                    cps, errs = polling(server, redis, path, browsers, args.poll_seconds)
                    res.setdefault('polling', {}).setdefault(kind, {})[browsers] = dict(cmds_per_s=cps, errors=errs)
                    log(f'  {kind} {browsers:2} polling browsers: {cps:9.1f} Redis commands/s ({errs} errors)')
                res['reads'][kind]['_rss_after_polling'] = server.rss_mb()
            if set_name == 'large' and not args.skip_bulk:
                if kind == 'rq-dashboard':
                    n = redis.conn.zcard('rq:failed:rqd50k')
                    probe = StallProbe(redis)
                    t = time.time()
                    status, _ = get(server.base + '/requeue/rqd50k', timeout=3600, method='POST')
                    took = time.time() - t
                    p = probe.finish()
                    res['bulk_rqd'] = dict(jobs=n, seconds=took, status=status, **p)
                    log(f'  rq-dashboard requeue-all of {n}: {took:.1f} s, worst Redis stall {p["worst_ms"]:.1f} ms')
                else:
                    n = sum(redis.conn.zcard(f'rq:failed:q{i:03d}') for i in range(spec['queues']))
                    probe = StallProbe(redis)
                    t = time.time()
                    _, body = get(server.base + '/0/requeue-all', method='POST')
                    task = json.loads(body)['task']
                    while True:
                        _, b = get(server.base + f'/0/data/tasks/{task}.json')
                        state = json.loads(b)
                        if state['state'] != 'running':
                            break
                        time.sleep(0.05)
                    took = time.time() - t
                    p = probe.finish()
                    res['bulk_rqdash'] = dict(jobs=n, seconds=took, done=state['done'], state=state['state'], **p)
                    log(f'  rqdash requeue-all of {n}: {took:.1f} s ({state["state"]}, {state["done"]} done), '
                        f'worst Redis stall {p["worst_ms"]:.1f} ms (server-side {p["server_max_ms"]} ms)')
            server.stop()
        redis.stop()
    return results


def table(results):
    lines = [f'Measured {results["when"]} on this machine (2 cores; Redis, the server and wrk share them). '
             'wrk: 16 connections, 2 threads. rq-dashboard\'s overview page is a shell that loads queues.json, '
             'so its overview row is one of each (throughput 1/(1/a + 1/b), latencies added); the shell alone '
             'is shown below it.', '']
    for set_name, res in results['sets'].items():
        spec = res['spec']
        lines.append(f'### {set_name} data set: {spec["queues"]} queues, {spec["queued"]:,} queued, '
                     f'{spec["failed"]:,} failed, {spec["finished"]:,} finished, {spec["workers"]} workers')
        lines.append('')
        lines.append('| endpoint | rq-dashboard req/s | p50 | p99 | rqdash req/s | p50 | p99 | rqdash / rq-dashboard | Redis cmds/req (rq-dashboard → rqdash) |')
        lines.append('|---|---:|---:|---:|---:|---:|---:|---:|---|')
        a_rows, b_rows = res['reads']['rq-dashboard'], res['reads']['rqdash']
        # rq-dashboard's overview page is a shell that then loads queues.json: a view of its
        # overview costs both requests, so its row combines them.
        shell, qj = a_rows['overview page'], a_rows['queues.json']
        a_rows = dict(a_rows)
        a_rows['overview page'] = dict(
            rps=1 / (1 / shell['rps'] + 1 / qj['rps']),
            p50=(shell['p50'] or 0) + (qj['p50'] or 0), p99=(shell['p99'] or 0) + (qj['p99'] or 0),
            redis_per_req=shell['redis_per_req'] + qj['redis_per_req'], VmHWM=max(shell['VmHWM'], qj['VmHWM']))
        for name, b in b_rows.items():
            if name.startswith('_'):
                continue
            a = a_rows.get(name)
            if a:
                lines.append(f'| {name} | {a["rps"]:,.1f} | {fmt_ms(a["p50"])} | {fmt_ms(a["p99"])} | {b["rps"]:,.0f} | '
                             f'{fmt_ms(b["p50"])} | {fmt_ms(b["p99"])} | {ratio(a["rps"], b["rps"])} | '
                             f'{a["redis_per_req"]:.1f} → {b["redis_per_req"]:.2f} |')
            else:
                lines.append(f'| {name} | — | — | — | {b["rps"]:,.0f} | {fmt_ms(b["p50"])} | {fmt_ms(b["p99"])} | — | '
                             f'— → {b["redis_per_req"]:.2f} |')
        rss_a = max(r['VmHWM'] for k, r in a_rows.items() if not k.startswith('_'))
        rss_b = max(r['VmHWM'] for k, r in b_rows.items() if not k.startswith('_'))
        lines.append(f'| *rq-dashboard shell page alone* | {shell["rps"]:,.1f} | {fmt_ms(shell["p50"])} | {fmt_ms(shell["p99"])} | | | | | |')
        lines.append(f'| peak RSS under load | {rss_a:.1f} MB | | | {rss_b:.1f} MB | | | | |')
        lines.append(f'| start-up to first answer | {a_rows["_startup_ms"]:.0f} ms | | | {b_rows["_startup_ms"]:.0f} ms | | | | |')
        lines.append('')
        if 'polling' in res:
            pa, pb = res['polling']['rq-dashboard'], res['polling']['rqdash']
            lines.append('| polling the overview every 2.5 s | rq-dashboard Redis cmds/s | rqdash Redis cmds/s |')
            lines.append('|---|---:|---:|')
            for n in (1, 50):
                lines.append(f'| {n} browser{"s" if n > 1 else ""} | {pa[n]["cmds_per_s"]:,.1f} | {pb[n]["cmds_per_s"]:,.1f} |')
            lines.append(f'| 50 ÷ 1 | {pa[50]["cmds_per_s"] / max(pa[1]["cmds_per_s"], 1e-9):.1f}× | '
                         f'{pb[50]["cmds_per_s"] / max(pb[1]["cmds_per_s"], 1e-9):.2f}× |')
            lines.append('')
        if 'bulk_rqd' in res or 'bulk_rqdash' in res:
            lines.append('| bulk requeue | jobs | time | worst Redis stall (PING probe) | longest Redis command |')
            lines.append('|---|---:|---:|---:|---:|')
            for label, key in (('rq-dashboard requeue-all (one HTTP request)', 'bulk_rqd'),
                               ('rqdash requeue-all (background task)', 'bulk_rqdash')):
                if key in res:
                    b = res[key]
                    lines.append(f'| {label} | {b["jobs"]:,} | {b["seconds"]:.1f} s | {b["worst_ms"]:.1f} ms | '
                                 f'{b["server_max_ms"] or "< 5"} ms |')
            lines.append('')
    return '\n'.join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sets', nargs='+', default=['small', 'large'], choices=list(seeder.SETS))
    p.add_argument('--seconds', type=int, default=10, help='wrk duration per endpoint')
    p.add_argument('--poll-seconds', type=int, default=20)
    p.add_argument('--skip-bulk', action='store_true')
    p.add_argument('--out', default=os.path.join(HERE, 'results.md'))
    args = p.parse_args()
    results = run(args)
    write_results(args.out, table(results), results)


if __name__ == '__main__':
    main()
