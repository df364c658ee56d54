"""Seeds a benchmark data set into Redis with real RQ (run with the python of .venv/rq-2.12.0).

Jobs are created through RQ's own API (Queue.enqueue_many for queued jobs; Job.create + save +
the registry's own `add` for failed and finished ones, as RQ records them, without running
800k jobs through workers); workers are registered with Worker.register_birth. Two processes
share the work. One real job of each kind is run by a real burst worker, for the job-detail rows.
"""

import multiprocessing
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'py'))

SETS = {
    # name: (queues, queued, failed, finished, workers, big queue share of queued/failed)
    'small': dict(queues=10, queued=1_000, failed=1_000, finished=1_000, workers=10, big_queued=0, big_failed=0),
    'large': dict(queues=200, queued=200_000, failed=500_000, finished=100_000, workers=500,
                  big_queued=20_000, big_failed=300_000),
}
RQD_REQUEUE = 50_000  # failed jobs in queue 'rqd50k', for rq-dashboard's requeue-all


def spread(total, big, n):
    """q000 gets `big`, the rest is spread evenly over the other queues."""
    if big == 0 or n == 1:
        base, extra = divmod(total, n)
        return [base + (1 if i < extra else 0) for i in range(n)]
    rest = total - big
    base, extra = divmod(rest, n - 1)
    return [big] + [base + (1 if i < extra else 0) for i in range(n - 1)]


def in_two_processes(target, url, items):
    """Runs `target(url, half)` for the two halves of `items` in two processes (the machine has
    two cores); daemons, so that an interrupted run does not wait for them."""
    procs = [multiprocessing.Process(target=target, args=(url, h), daemon=True)
             for h in (items[0::2], items[1::2])]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f'seeding failed ({p.exitcode})')


def make(url, plan):
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    import rqdash_jobs as jobs

    conn = Redis.from_url(url)
    for qname, queued, failed, finished in plan:
        q = Queue(qname, connection=conn)
        for start in range(0, queued, 2000):
            n = min(2000, queued - start)
            q.enqueue_many([Queue.prepare_data(jobs.add, args=(1, 2), job_id=f'{qname}-q{start + i}') for i in range(n)])
        for kind, count, registry, status in (
            ('f', failed, FailedJobRegistry(qname, connection=conn), JobStatus.FAILED),
            ('d', finished, FinishedJobRegistry(qname, connection=conn), JobStatus.FINISHED),
        ):
            for start in range(0, count, 2000):
                n = min(2000, count - start)
                with conn.pipeline() as pipe:
                    for i in range(n):
                        job = Job.create(jobs.add, args=(1, 2), connection=conn, origin=qname,
                                         id=f'{qname}-{kind}{start + i}',
                                         description=f'bench job {kind}{start + i} of {qname}')
                        job.set_status(status, pipeline=pipe)
                        job.save(pipeline=pipe)
                        if kind == 'd':
                            # Kept forever (ttl -1), so a cached data set stays valid.
                            registry.add(job, ttl=-1, pipeline=pipe)
                        else:
                            registry.add(job, pipeline=pipe)
                    pipe.sadd(q.redis_queues_keys, q.key)
                    pipe.execute()


def register_workers(url, n, queues):
    """Registers `n` idle workers (RQ's own register_birth); re-run before measuring, as worker
    hashes expire after RQ's worker TTL."""
    from redis import Redis
    from rq import Queue, Worker

    conn = Redis.from_url(url)
    for i in range(n):
        qs = [Queue(queues[(i + k) % len(queues)], connection=conn) for k in range(3)]
        w = Worker(qs, connection=conn, name=f'bench-worker-{i:03d}')
        w.register_birth()
        w.set_state('idle')
        w.heartbeat()


def seed(url, name):
    spec = SETS[name]
    names = [f'q{i:03d}' for i in range(spec['queues'])]
    queued = spread(spec['queued'], spec['big_queued'], len(names))
    failed = spread(spec['failed'], spec['big_failed'], len(names))
    finished = spread(spec['finished'], 0, len(names))
    plan = list(zip(names, queued, failed, finished))
    if name == 'large':
        plan.append(('rqd50k', 0, RQD_REQUEUE, 0))
    # Two interleaved halves for the two cores; the big queue's failed jobs are split by kind.
    in_two_processes(make, url, plan)
    # One real finished job and one real failed job (run by a real worker) for detail pages.
    from redis import Redis
    from rq import Queue, SimpleWorker

    import rqdash_jobs as jobs

    conn = Redis.from_url(url)
    q = Queue('detail', connection=conn)
    q.enqueue(jobs.echo, {'k': [1, 2.5, None, True], 'text': 'x' * 200}, job_id='bench-detail', result_ttl=-1)
    q.enqueue(jobs.fail, 'benchmark failure', job_id='bench-detail-failed')
    SimpleWorker([q], connection=conn, name='bench-seed-worker').work(burst=True)
    return names


if __name__ == '__main__':
    seed(sys.argv[1], sys.argv[2])
