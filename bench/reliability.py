"""Reliability runs for rqdash (run through bench/reliability.sh).

  load  64 connections for several minutes over pages and JSON of the large data set while bulk
        actions run: counts errors and records the server's RSS in the first and last minute.
  soak  real RQ workers process, fail and retry jobs while the dashboard requeues, cancels,
        deletes and empties at random, and Redis (append-only) is restarted once; at the end
        every job created is accounted for exactly once.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'py'))
import bench  # noqa: E402


def call(base, path, method='GET'):
    req = urllib.request.Request(base + path, method=method, data=b'' if method == 'POST' else None)
    if method == 'POST':
        req.add_header('Origin', base.rstrip('/'))  # as the dashboard's own page sends it
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_task(base, body):
    v = json.loads(body)
    if 'task' not in v:
        return v
    while True:
        _, b = call(base, f'/0/data/tasks/{v["task"]}.json')
        t = json.loads(b)
        if t['state'] != 'running':
            return t
        time.sleep(0.2)


WRK_LUA = '''
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, paths[(counter %% #paths) + 1])
end
'''


def load(args):
    redis = bench.Redis('large')
    server = bench.Server('rqdash', redis.url)
    base = server.base
    last = -(-redis.conn.zcard('rq:failed:q000') // 8)
    paths = ['/0/view/queues', '/0/data/queues.json', '/0/data/workers.json', '/0/view/workers',
             '/0/fragments/overview', '/metrics', '/0/view/jobs/q000/failed/8/asc/1',
             f'/0/view/jobs/q000/failed/8/asc/{last}', '/0/data/jobs/q001/queued/50/dsc/1.json',
             '/0/view/job/bench-detail', '/0/data/job/bench-detail.json', '/0/view/failures/q002']
    lua = os.path.join(redis.dir, 'paths.lua')
    with open(lua, 'w') as f:
        f.write(WRK_LUA % ', '.join(f'"{p}"' for p in paths))
    seconds = int(args.minutes * 60)
    rss = []
    stop = threading.Event()

    def sample():
        t0 = time.time()
        while not stop.is_set():
            rss.append((time.time() - t0, server.rss_mb()['VmRSS']))
            time.sleep(5)

    actions = []

    def act():
        # Bulk actions on queues q010..: requeue all failed, purge finished, empty, clean, compact.
        i = 10
        while not stop.is_set():
            q = f'q{i:03d}'
            for path in (f'/requeue/{q}', f'/0/queue/{q}/finished/empty', f'/0/queue/{q}/queued/empty',
                         f'/0/queue/{q}/clean', f'/0/queue/{q}/compact'):
                if stop.is_set():
                    break
                t = time.time()
                status, body = call(base, path, 'POST')
                result = wait_task(base, body) if status in (200, 202) else {}
                actions.append(dict(path=path, status=status, seconds=time.time() - t,
                                    done=result.get('done', result.get('count'))))
            i += 1
            time.sleep(2)

    threads = [threading.Thread(target=sample), threading.Thread(target=act)]
    for t in threads:
        t.start()
    out = subprocess.run(['wrk', '-t2', '-c64', f'-d{seconds}s', '--latency', '--timeout', '30s', '-s', lua, base],
                         capture_output=True, text=True).stdout
    stop.set()
    for t in threads:
        t.join()
    server.stop()
    redis.stop()
    import re
    total = int(re.search(r'(\d+) requests in', out).group(1))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    sockerr = re.search(r'Socket errors: (.*)', out)
    first = max(r for t, r in rss if t < 60)
    lastm = max(r for t, r in rss if t >= seconds - 60)
    failed_actions = [a for a in actions if a['status'] not in (200, 202)]
    lines = [
        f'### Load: 64 connections for {args.minutes:g} min on the large data set, bulk actions running',
        '',
        '| measure | value |', '|---|---|',
        f'| requests | {total:,} ({total / seconds:,.0f}/s) |',
        f'| non-2xx answers | {int(non2xx.group(1)) if non2xx else 0} |',
        f'| socket errors | {sockerr.group(1).strip() if sockerr else "none"} |',
        f'| bulk actions run meanwhile | {len(actions)} ({len(failed_actions)} failed) |',
        f'| RSS, first minute (max) | {first:.1f} MB |',
        f'| RSS, last minute (max) | {lastm:.1f} MB |',
        '',
    ]
    return '\n'.join(lines), not non2xx and not sockerr and not failed_actions and lastm <= first * 1.5


def soak(args):
    """The nothing-lost soak."""
    from redis import Redis as PyRedis
    from rq import Queue, Retry
    from rq.job import Job

    import rqdash_jobs as jobs

    work = os.path.join(HERE, 'data', 'soak')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    port = bench.free_port()
    redis_cmd = ['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--dir', work,
                 '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
                 '--logfile', os.path.join(work, 'redis.log')]

    def start_redis():
        p = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = PyRedis(port=port)
        for _ in range(200):
            try:
                c.ping()
                break
            except Exception:
                time.sleep(0.05)
        while c.info('persistence').get('loading'):
            time.sleep(0.05)
        return p

    redis_proc = start_redis()
    url = f'redis://127.0.0.1:{port}/0'
    conn = PyRedis(port=port)
    server = bench.Server('rqdash', url)
    base = server.base
    python = os.path.join(ROOT, '.venv', 'rq-2.12.0', 'bin', 'python')
    fixture = os.path.join(ROOT, 'tests', 'py', 'rqfixture.py')
    workers = {}

    def ensure_workers():
        for name, q in (('soak-w1', 'soak-a'), ('soak-w2', 'soak-a'), ('soak-w3', 'soak-b')):
            p = workers.get(name)
            if p is None or p.poll() is not None:
                # A new name each start: a crashed worker's hash may linger until its TTL.
                n = f'{name}-{int(time.time() * 1000) % 100000}'
                workers[name] = subprocess.Popen([python, fixture, 'idle-worker', '--url', url, '--queue', q, '--name', n],
                                                 cwd=os.path.join(ROOT, 'tests', 'py'), start_new_session=True,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    created = []
    deleted = set()
    stats = dict(enqueued=0, requeued=0, canceled=0, deleted=0, emptied=0, requeue_all=0, refused=0, redis_restarts=0)
    ensure_workers()
    t_end = time.time() + args.seconds
    restarted = False
    rng = random.Random(args.seed)
    while time.time() < t_end:
        ensure_workers()
        if not restarted and time.time() > t_end - args.seconds / 2:
            # Restart Redis once, cleanly (SHUTDOWN writes the append-only file), mid-soak.
            try:
                conn.shutdown()
            except Exception:
                pass
            redis_proc.wait()
            time.sleep(1)
            redis_proc = start_redis()
            conn = PyRedis(port=port)
            restarted = True
            stats['redis_restarts'] += 1
            continue
        try:
            r = rng.random()
            qa, qb = Queue('soak-a', connection=conn), Queue('soak-b', connection=conn)
            if r < 0.35:
                q = rng.choice([qa, qb])
                kind = rng.random()
                if kind < 0.5:
                    j = q.enqueue(jobs.add, 1, 2, result_ttl=3600)
                elif kind < 0.8:
                    j = q.enqueue(jobs.fail, 'soak failure', failure_ttl=3600)
                else:
                    j = q.enqueue(jobs.fail, 'retried failure', retry=Retry(max=2), failure_ttl=3600)
                created.append(j.id)
                stats['enqueued'] += 1
            elif r < 0.45:
                park = Queue('soak-park', connection=conn)
                ids = [park.enqueue(jobs.add, 1, 2).id for _ in range(rng.randint(1, 20))]
                created.extend(ids)
                stats['enqueued'] += len(ids)
                if rng.random() < 0.5:
                    parked = conn.lrange('rq:queue:soak-park', 0, -1)
                    status, body = call(base, '/0/queue/soak-park/queued/empty', 'POST')
                    if status in (200, 202):
                        t = wait_task(base, body)
                        # Nobody consumes soak-park: exactly the parked jobs are deleted.
                        assert t['done'] == len(parked), (t, len(parked))
                        deleted.update(i.decode() for i in parked)
                        stats['emptied'] += len(parked)
            elif r < 0.65:
                ids = conn.zrange(f'rq:failed:{rng.choice(["soak-a", "soak-b"])}', 0, 20)
                if ids:
                    status, _ = call(base, f'/0/job/{rng.choice(ids).decode()}/requeue', 'POST')
                    stats['requeued' if status == 200 else 'refused'] += 1
            elif r < 0.75:
                ids = conn.lrange(f'rq:queue:{rng.choice(["soak-a", "soak-b"])}', 0, 20)
                if ids:
                    status, _ = call(base, f'/0/job/{rng.choice(ids).decode()}/cancel', 'POST')
                    stats['canceled' if status == 200 else 'refused'] += 1
            elif r < 0.9:
                reg = rng.choice(['finished', 'failed', 'canceled'])
                ids = conn.zrange(f'rq:{reg}:{rng.choice(["soak-a", "soak-b"])}', 0, 20)
                if ids:
                    jid = rng.choice(ids).decode()
                    status, _ = call(base, f'/0/job/{jid}/delete', 'POST')
                    if status == 200:
                        deleted.add(jid)
                        stats['deleted'] += 1
                    else:
                        stats['refused'] += 1
            else:
                status, body = call(base, '/requeue/soak-b', 'POST')
                if status in (200, 202):
                    wait_task(base, body)
                    stats['requeue_all'] += 1
        except Exception as e:  # noqa: BLE001 - Redis restarting: try again
            print(f'  (retrying after {type(e).__name__}: {e})', file=sys.stderr)
            time.sleep(0.2)
            conn = PyRedis(port=port)
        time.sleep(rng.uniform(0.01, 0.05))

    # Let the workers finish what is queued, then stop them.
    deadline = time.time() + 120
    while time.time() < deadline:
        ensure_workers()
        busy = sum(conn.llen(f'rq:queue:{q}') + conn.zcard(f'rq:wip:{q}') + conn.zcard(f'rq:scheduled:{q}')
                   for q in ('soak-a', 'soak-b'))
        if busy == 0:
            break
        time.sleep(0.5)
    for p in workers.values():
        p.send_signal(signal.SIGTERM)
    for p in workers.values():
        p.wait()

    # Account for every job created.
    places = {}

    def add(place, ids):
        for i in ids:
            places.setdefault(i.decode() if isinstance(i, bytes) else i, []).append(place)

    for q in ('soak-a', 'soak-b', 'soak-park'):
        add(f'{q} queue', conn.lrange(f'rq:queue:{q}', 0, -1))
        add(f'{q} intermediate', [i for i in conn.lrange(f'rq:queue:{q}:intermediate', 0, -1)
                                  if not any(m.startswith(i + b':') for m in conn.zrange(f'rq:wip:{q}', 0, -1))])
        for reg in ('finished', 'failed', 'canceled', 'scheduled', 'deferred'):
            add(f'{q} {reg}', conn.zrange(f'rq:{reg}:{q}', 0, -1))
        add(f'{q} started', [m.split(b':')[0] for m in conn.zrange(f'rq:wip:{q}', 0, -1)])
    lost, doubled, wrongly_deleted = [], [], []
    outcome = {}
    for jid in created:
        p = places.get(jid, [])
        exists = conn.exists(f'rq:job:{jid}')
        if jid in deleted:
            if p or exists:
                wrongly_deleted.append((jid, p))
            outcome['deleted on request'] = outcome.get('deleted on request', 0) + 1
        elif len(p) == 1 and exists:
            where = p[0].split(' ', 1)[1]
            outcome[where] = outcome.get(where, 0) + 1
        elif not p:
            lost.append(jid)
        else:
            doubled.append((jid, p))
    server.stop()
    try:
        conn.shutdown(nosave=True)
    except Exception:
        pass
    redis_proc.wait()
    lines = [
        f'### Soak: {args.seconds} s, 3 real RQ 2.12 workers, Redis (append-only) restarted {stats["redis_restarts"]}×',
        '',
        '| measure | value |', '|---|---|',
        f'| jobs created | {len(created):,} |',
        f'| dashboard actions | {stats["requeued"]} requeues, {stats["canceled"]} cancels, {stats["deleted"]} deletes, '
        f'{stats["emptied"]} jobs emptied, {stats["requeue_all"]} requeue-alls ({stats["refused"]} refused: job moved on) |',
        f'| where the jobs ended | {", ".join(f"{k}: {v:,}" for k, v in sorted(outcome.items()))} |',
        f'| lost | {len(lost)} |',
        f'| in two places | {len(doubled)} |',
        f'| deleted but still there | {len(wrongly_deleted)} |',
        '',
    ]
    if lost or doubled or wrongly_deleted:
        lines.append(f'lost: {lost[:10]} doubled: {doubled[:10]} wrongly deleted: {wrongly_deleted[:10]}')
    return '\n'.join(lines), not (lost or doubled or wrongly_deleted)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('what', choices=['load', 'soak', 'both'])
    p.add_argument('--minutes', type=float, default=3)
    p.add_argument('--seconds', type=int, default=120, help='soak duration')
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--out', default=os.path.join(HERE, 'reliability.md'))
    args = p.parse_args()
    texts, ok = [], True
    if args.what in ('load', 'both'):
        t, good = load(args)
        texts.append(t)
        ok &= good
    if args.what in ('soak', 'both'):
        t, good = soak(args)
        texts.append(t)
        ok &= good
    text = '\n'.join(texts)
    with open(args.out, 'w') as f:
        f.write(text + '\n')
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
