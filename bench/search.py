"""Search at scale: one failed registry of 1,000,000 jobs of a few kinds, written through RQ's own
API, searched by exception text through rqdash, then every match of one kind requeued.

    .venv/rq-2.12.0/bin/python bench/search.py [--jobs 1000000] [--binary target/release/rqdash]
        [--rqdash-arg=--redact-pattern=cust-[0-9]+ ...]

Measures: time to the first results and to the exact total, the dashboard's memory (VmRSS before,
VmHWM after), and the longest Redis stall seen by a PING probe every 5 ms meanwhile; then the
requeue of all matches of the rare kind (time per 100,000 jobs, stall). Not part of the tests.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from bench import free_port, log  # bench/bench.py, beside this file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'py'))

# (function, exception, message, share): the rare kind is the one requeued.
KINDS = [
    ('rqdash_jobs.charge', 'TimeoutError', 'partner API timed out charging cust-{i} {i}', 0.40),
    ('rqdash_jobs.notify', 'LookupError', 'no address for user-{i} on email', 0.30),
    ('rqdash_jobs.fail', 'ValueError', 'disk full on /dev/sd{i}', 0.24),
    ('rqdash_jobs.fail', 'KeyError', "'partner-key-{i}'", 0.06),
]


def seed(url, total):
    """1M failed jobs as RQ records a failure: the job hash, the failed registry, and a FAILED
    entry in the results stream with the traceback (Result.create_failure)."""
    import rqdash_jobs as jobs
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry
    from rq.results import Result

    conn = Redis.from_url(url)
    queue = Queue('big', connection=conn)
    registry = FailedJobRegistry('big', connection=conn)
    made = 0
    for func, exc, message, share in KINDS:
        n = int(total * share)
        f = getattr(jobs, func.split('.')[1])
        i = 0
        while i < n:
            with conn.pipeline() as pipe:
                for _ in range(min(2000, n - i)):
                    job = Job.create(f, args=(f'x-{i}',), connection=conn, origin='big',
                                     id=f'{exc}-{i}')
                    job.set_status(JobStatus.FAILED, pipeline=pipe)
                    job.save(pipeline=pipe)
                    tb = f'Traceback (most recent call last):\n  File "job.py", line 1\n{exc}: {message.format(i=i)}\n'
                    Result.create_failure(job, ttl=None, exc_string=tb, pipeline=pipe)
                    registry.add(job, pipeline=pipe)
                    i += 1
                pipe.sadd(queue.redis_queues_keys, queue.key)
                pipe.execute()
        made += n
        log(f'  {exc}: {n} jobs')
    return made


class Probe(threading.Thread):
    """PING every 5 ms on its own connection; keeps the longest round trip."""

    def __init__(self, url):
        super().__init__(daemon=True)
        from redis import Redis

        self.conn = Redis.from_url(url)
        self.worst = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.perf_counter()
            self.conn.ping()
            self.worst = max(self.worst, time.perf_counter() - t)
            time.sleep(0.005)


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def post(url):
    req = urllib.request.Request(url, data=b'', method='POST')
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, json.loads(r.read())


def rss(pid, field):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--jobs', type=int, default=1_000_000)
    p.add_argument('--binary', default=os.path.join(ROOT, 'target', 'release', 'rqdash'))
    p.add_argument('--redis-url', help='a Redis this script seeded before (kept running), to compare '
                   'binaries on the same data; seeded only when its registry is empty')
    p.add_argument('--skip-requeue', action='store_true', help='only search (leaves the data as it is)')
    p.add_argument('--rqdash-arg', action='append', default=[], metavar='ARG',
                   help='one more argument for rqdash (repeat), e.g. --rqdash-arg=--redact-pattern=cust-[0-9]+ '
                   'to measure what redaction costs')
    args = p.parse_args()

    redis = None
    if args.redis_url:
        url = args.redis_url
    else:
        port = free_port()
        redis = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                                  '--appendonly', 'no'], stdout=subprocess.DEVNULL)
        url = f'redis://127.0.0.1:{port}/0'
        time.sleep(0.5)
    web = None
    try:
        from redis import Redis

        n = Redis.from_url(url).zcard('rq:failed:big')
        if n == 0:
            t = time.time()
            n = seed(url, args.jobs)
            log(f'seeded {n} failed jobs in {time.time() - t:.0f} s')
        web_port = free_port()
        web = subprocess.Popen([args.binary, '--redis-url', url, '--port', str(web_port), *args.rqdash_arg],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f'http://127.0.0.1:{web_port}'
        for _ in range(100):
            try:
                urllib.request.urlopen(base + '/healthz', timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        rss_before = rss(web.pid, 'VmRSS')
        out = {'jobs': n}
        for label, exc in (('common kind (TimeoutError, 40%)', 'TimeoutError: partner API'),
                           ('rare kind (KeyError, 6%)', 'KeyError')):
            probe = Probe(url)
            probe.start()
            q = urllib.parse.urlencode({'queue': 'big', 'exc': exc})
            t = time.perf_counter()
            first = None
            while True:
                v = get(f'{base}/0/data/search.json?{q}&per_page=25')
                if first is None and v['ids']:
                    first = time.perf_counter() - t
                if v['complete']:
                    break
                time.sleep(0.02)
            done = time.perf_counter() - t
            probe.stop.set()
            probe.join()
            out[label] = {'total': v['total'], 'truncated': v['truncated'], 'first_results_s': round(first or done, 3),
                          'complete_s': round(done, 3), 'worst_ping_ms': round(probe.worst * 1000, 2)}
            log(f'{label}: {out[label]}')
        # A page of 100 failed jobs (their calls and exceptions decoded, and redacted when asked).
        times = []
        for _ in range(21):
            t = time.perf_counter()
            urllib.request.urlopen(f'{base}/0/view/jobs/big/failed/100/asc/1').read()
            times.append(time.perf_counter() - t)
        out['list_page_100_ms'] = round(statistics.median(times) * 1000, 2)
        log(f"a page of 100 failed jobs: {out['list_page_100_ms']} ms (median of 21)")
        out['rss_before_mb'] = rss_before
        out['rss_peak_mb'] = rss(web.pid, 'VmHWM')
        if args.skip_requeue:
            print(json.dumps(out, indent=2))
            return

        probe = Probe(url)
        probe.start()
        q = urllib.parse.urlencode({'queue': 'big', 'exc': 'KeyError'})
        t = time.perf_counter()
        status, v = post(f'{base}/0/search/requeue?{q}')
        if status == 202:
            while True:
                task = get(f'{base}/0/data/tasks/{v["task"]}.json')
                if task['state'] != 'running':
                    v = task
                    break
                time.sleep(0.05)
        took = time.perf_counter() - t
        probe.stop.set()
        probe.join()
        count = v.get('done', v.get('count'))
        out['requeue'] = {'count': count, 'kept': v.get('kept'), 'seconds': round(took, 2),
                          's_per_100k': round(took / max(count or 1, 1) * 100_000, 2),
                          'worst_ping_ms': round(probe.worst * 1000, 2)}
        log(f'requeue: {out["requeue"]}')
        out['rss_peak_mb'] = rss(web.pid, 'VmHWM')
        print(json.dumps(out, indent=2))
    finally:
        if web:
            web.terminate()
        if redis:
            redis.terminate()


if __name__ == '__main__':
    main()
