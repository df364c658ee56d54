"""The longest script rqdash's bulk actions run in Redis, on a queue of 1,000,000 jobs.

Every bulk action runs in chunks, one Lua script each; while a script runs, Redis serves nobody
else, so every worker waits. This measures each chunk's time with Redis's own SLOWLOG (every
EVALSHA slower than 100 µs is logged) and LATENCY monitor, per action, on data written by real
RQ 2.12:

- queue ``big``: 1,000,000 queued jobs (10,000 of them ghosts: ids whose hash is gone);
- ``big``'s failed registry: 100,000 failed jobs (their purge deletes jobs of a queue of 1M);
- queue ``other``: 100,000 failed jobs to requeue.

Actions, in order: compact ``big``; purge ``big``'s failed registry; requeue every failed job of
``other``; delete 100 selected rows at the end of ``big`` (the deepest LREMs there are); empty
``big``; clean ``big``. Run with bench/scripts.sh; prints a table and writes bench/scripts.md.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'py'))

QUEUED = 1_000_000
GHOSTS = 10_000
FAILED = 100_000


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def seed(url):
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry

    import rqdash_jobs as jobs

    conn = Redis.from_url(url)
    big = Queue('big', connection=conn)
    for start in range(0, QUEUED, 20_000):
        datas = [Queue.prepare_data(jobs.add, args=(1, 2), job_id=f'q-{i}') for i in range(start, start + 20_000)]
        big.enqueue_many(datas)
    # Ghosts, spread over the queue: their hashes are gone.
    step = QUEUED // GHOSTS
    with conn.pipeline(transaction=False) as p:
        for i in range(0, QUEUED, step):
            p.delete(f'rq:job:q-{i}')
        p.execute()
    for name, prefix in (('big', 'f-'), ('other', 'o-')):
        queue = Queue(name, connection=conn)
        registry = FailedJobRegistry(name, connection=conn)
        for start in range(0, FAILED, 5_000):
            with conn.pipeline() as pipe:
                for i in range(start, start + 5_000):
                    job = Job.create(jobs.add, args=(1, 2), connection=conn, origin=name, id=f'{prefix}{i}')
                    job.set_status(JobStatus.FAILED, pipeline=pipe)
                    job.save(pipeline=pipe)
                    registry.add(job, pipeline=pipe)
                pipe.sadd(queue.redis_queues_keys, queue.key)
                pipe.execute()
    return conn


def post(base, path, form=b''):
    req = urllib.request.Request(base + path, data=form, method='POST',
                                 headers={'Content-Type': 'application/x-www-form-urlencoded'})
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, json.loads(r.read())


def wait(base, answer):
    """The final state of a bulk action: its answer, or (202) its task's record once it ends."""
    status, answer = answer
    if status != 202:
        return answer
    task = answer['task']
    while True:
        with urllib.request.urlopen(f'{base}/0/data/tasks/{task}.json', timeout=60) as r:
            t = json.loads(r.read())
        if t['state'] != 'running':
            return t
        time.sleep(0.2)


def slow_scripts(conn):
    """(count, worst µs, total µs) of the script calls logged since the last reset."""
    entries = conn.execute_command('SLOWLOG', 'GET', '-1')
    durations = [e[2] for e in entries if e[3] and e[3][0].upper() in (b'EVALSHA', b'EVAL')]
    conn.execute_command('SLOWLOG', 'RESET')
    return len(durations), max(durations, default=0), sum(durations)


def main():
    port = free_port()
    tmp = tempfile.mkdtemp(prefix='rqdash-bench-scripts-')
    redis = subprocess.Popen(['redis-server', '--port', str(port), '--save', '', '--appendonly', 'no',
                              '--dir', tmp, '--slowlog-log-slower-than', '100', '--slowlog-max-len', '1000000',
                              '--latency-monitor-threshold', '1'], stdout=subprocess.DEVNULL)
    url = f'redis://127.0.0.1:{port}/0'
    time.sleep(0.5)
    dash = None
    try:
        t0 = time.time()
        conn = seed(url)
        print(f'seeded in {time.time() - t0:.0f} s', file=sys.stderr)
        web = free_port()
        dash = subprocess.Popen([os.path.join(ROOT, 'target', 'release', 'rqdash'), '-u', url, '-p', str(web),
                                 '--history', 'memory'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f'http://127.0.0.1:{web}'
        for _ in range(100):
            try:
                urllib.request.urlopen(base + '/healthz', timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        conn.execute_command('SLOWLOG', 'RESET')
        conn.execute_command('LATENCY', 'RESET')
        tail = [f'q-{i}' for i in range(QUEUED - 100, QUEUED)]
        steps = [
            ('compact big (1M, 10k ghosts)', '/0/queue/big/compact', b''),
            ('purge big failed (100k; queue of 1M)', '/0/queue/big/failed/empty', b''),
            ('requeue-all other (100k)', '/0/requeue/other', b''),
            ('delete 100 rows at the end of big', '/0/jobs/delete',
             '&'.join(f'ids={i}' for i in tail).encode() + b'&queue=big&registry=queued'),
            ('empty big (1M)', '/0/queue/big/queued/empty', b''),
            ('clean big', '/0/queue/big/clean', b''),
        ]
        rows = []
        for name, path, form in steps:
            t = time.time()
            result = wait(base, post(base, path, form))
            took = time.time() - t
            n, worst, total = slow_scripts(conn)
            latency = conn.execute_command('LATENCY', 'LATEST')
            conn.execute_command('LATENCY', 'RESET')
            worst_event = max((e[3] for e in latency), default=0)
            done = result.get('done', result.get('count'))
            rows.append((name, done, took, n, worst / 1000, total / 1000, worst_event))
            print(f'{name}: done {done} in {took:.1f} s; scripts over 0.1 ms: {n}, worst {worst / 1000:.2f} ms',
                  file=sys.stderr)
        lines = ['| action | jobs | took (s) | scripts > 0.1 ms | worst script (ms) | their total (ms) | '
                 'LATENCY max (ms) |', '|---|---:|---:|---:|---:|---:|---:|']
        for name, done, took, n, worst, total, lat in rows:
            lines.append(f'| {name} | {done} | {took:.1f} | {n} | {worst:.2f} | {total:.0f} | {lat} |')
        table = '\n'.join(lines)
        print(table)
        with open(os.path.join(HERE, 'scripts.md'), 'w') as f:
            f.write('# Longest Redis script per bulk action (bench/scripts.sh)\n\n' + table + '\n')
    finally:
        if dash:
            dash.terminate()
        redis.terminate()


if __name__ == '__main__':
    main()
