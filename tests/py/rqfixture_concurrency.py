"""rqfixture subcommands for the concurrency suite (tests/api/concurrency.rs): failed jobs that count
their runs, a producer that enqueues while the dashboard acts, and RQ's own registry maintenance run
on a signal.

Loaded by rqfixture.py (``register(sub, common, fixture_module)``), like rqfixture_search.py. Every job
is made through RQ's own API (``Job.create``, ``FailedJobRegistry.add``, ``Queue.enqueue``), so the
hashes and registry scores are exactly what the RQ version under test writes.
"""

import os
import time

fx = None  # the rqfixture module, set by register()


def cmd_counted_failed(args):
    """COUNT jobs of ``count_then_fail`` (or ``count_then_sleep``), recorded as RQ records a failure with
    the job's ``failure_ttl``: status failed, in the FailedJobRegistry scored now + ttl (the ttl itself
    when negative). ``--default-one`` adds ``<prefix>default`` with RQ's default failure ttl (a year).
    ``--ghosts N`` adds N failed entries scored now + 1 whose job hashes are gone at once (RQ's
    maintenance removes such entries once expired). Prints ids and counts."""
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    queue = Queue(args.queue, connection=conn)
    registry = FailedJobRegistry(args.queue, connection=conn)
    func, fargs = (jobs.count_then_sleep, (args.sleep,)) if args.sleep is not None else (jobs.count_then_fail, ())
    ids = [f'{args.prefix}{i}' for i in range(args.count)]

    def make(pipe, job_id, ttl, **extra):
        job = Job.create(func, args=fargs, connection=conn, origin=queue.name, id=job_id,
                         failure_ttl=ttl, **extra)
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        job.save(pipeline=pipe)
        registry.add(job, ttl=ttl, pipeline=pipe)
        return job

    for start in range(0, args.count, 2000):
        with conn.pipeline() as pipe:
            for job_id in ids[start:start + 2000]:
                make(pipe, job_id, args.failure_ttl)
            pipe.sadd(queue.redis_queues_keys, queue.key)
            pipe.execute()
    if args.default_one:
        with conn.pipeline() as pipe:
            job = make(pipe, f'{args.prefix}default', None)
            pipe.execute()
        ids.append(job.id)
    ghosts = []
    for i in range(args.ghosts):
        with conn.pipeline() as pipe:
            job = make(pipe, f'{args.prefix}ghost-{i}', 1)
            pipe.execute()
        conn.delete(job.key)
        ghosts.append(job.id)
    fx.emit({'ids': ids, 'ghosts': ghosts})


def cmd_produce(args):
    """Enqueue ``add(1, 2)`` jobs with ids PREFIX0, PREFIX1, ... on QUEUE, one every INTERVAL seconds,
    through ``Queue.enqueue``, until killed (prints its pid first, like a worker). After each, the key
    ``rqtest:produced`` holds how many were enqueued."""
    from rq import Queue

    import rqdash_jobs as jobs

    fx.emit({'pid': os.getpid()})
    conn = fx.connect(args.url)
    queue = Queue(args.queue, connection=conn)
    seq = 0
    while True:
        queue.enqueue(jobs.add, 1, 2, job_id=f'{args.prefix}{seq}')
        seq += 1
        conn.set('rqtest:produced', seq)
        time.sleep(args.interval)


def cmd_maintain_on_signal(args):
    """Wait until the key ``rqtest:maintain`` exists, then run RQ's own registry maintenance of QUEUE
    (``clean_registries``: expired entries leave the registries) every few milliseconds until killed
    (prints its pid first)."""
    from rq import Queue
    from rq.registry import clean_registries

    fx.emit({'pid': os.getpid()})
    conn = fx.connect(args.url)
    queue = Queue(args.queue, connection=conn)
    while not conn.exists('rqtest:maintain'):
        time.sleep(0.001)
    while True:
        clean_registries(queue)
        conn.incr('rqtest:maintained')
        time.sleep(0.005)


def cmd_rate_limited_failed(args):
    """RQ 3.0: rate-limited jobs on queue ``rl-flaky`` for the actions to compare with RQ's own.
    ``rl-flaky-1`` (limit ``flaky``, 1 slot) and ``rl-solo-1`` (limit ``solo``, 1 slot) fail in a real
    burst worker (which frees their slots); then ``rl-flaky-2`` takes flaky's slot (queued), and
    ``rl-sched-1`` (limit ``solo``) is scheduled an hour ahead. Prints the statuses."""
    from datetime import timedelta

    from rq import Queue
    from rq.job import Job
    from rq.rate_limit import RateLimit

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    queue = Queue('rl-flaky', connection=conn)
    flaky, solo = RateLimit('flaky', 1), RateLimit('solo', 1)
    queue.enqueue(jobs.fail, 'boom', job_id='rl-flaky-1', rate_limit=flaky)
    queue.enqueue(jobs.fail, 'boom', job_id='rl-solo-1', rate_limit=solo)
    worker = fx.make_worker_class()([queue], connection=conn, name='rl-burst')
    worker.work(burst=True)
    queue.enqueue(jobs.add, 1, 1, job_id='rl-flaky-2', rate_limit=flaky)
    queue.enqueue_in(timedelta(hours=1), jobs.add, 2, 2, job_id='rl-sched-1', rate_limit=solo)
    ids = ['rl-flaky-1', 'rl-solo-1', 'rl-flaky-2', 'rl-sched-1']
    fx.emit({i: fx.enum_value(Job.fetch(i, connection=conn).get_status()) for i in ids})


def cmd_hold_scheduler_lock(args):
    """Take RQ's scheduler lock of QUEUE the way RQ's scheduler does (``RQScheduler.acquire_locks``) and
    hold it without enqueuing anything, as a scheduler between its read of due jobs and its write does,
    until killed (prints its pid first, then ``{"locked": [...]}`` on stderr's log)."""
    import signal

    from rq.scheduler import RQScheduler

    fx.emit({'pid': os.getpid()})
    conn = fx.connect(args.url)
    scheduler = RQScheduler([args.queue], connection=conn)
    locked = scheduler.acquire_locks()
    fx.log.info('holding scheduler locks %r', locked)

    def release(signum, frame):
        scheduler.release_locks()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, release)
    while True:
        time.sleep(0.1)


def register(sub, common, fixture_module):
    global fx
    fx = fixture_module

    p = sub.add_parser('counted-failed', parents=[common], help='failed jobs that count their runs')
    p.add_argument('--queue', required=True)
    p.add_argument('--count', type=int, required=True)
    p.add_argument('--prefix', required=True)
    p.add_argument('--failure-ttl', type=int, default=3600)
    p.add_argument('--sleep', type=float, help='the jobs succeed after sleeping this long (else they fail)')
    p.add_argument('--default-one', action='store_true')
    p.add_argument('--ghosts', type=int, default=0)
    p.set_defaults(handler=cmd_counted_failed)

    p = sub.add_parser('produce', parents=[common], help='enqueue add(1, 2) jobs until killed')
    p.add_argument('--queue', required=True)
    p.add_argument('--prefix', required=True)
    p.add_argument('--interval', type=float, default=0.002)
    p.set_defaults(handler=cmd_produce)

    p = sub.add_parser('rate-limited-failed', parents=[common], help='RQ 3.0: failed and scheduled rate-limited jobs')
    p.set_defaults(handler=cmd_rate_limited_failed)

    p = sub.add_parser('hold-scheduler-lock', parents=[common], help="hold RQ's scheduler lock of a queue")
    p.add_argument('--queue', required=True)
    p.set_defaults(handler=cmd_hold_scheduler_lock)

    p = sub.add_parser('maintain-on-signal', parents=[common], help="RQ's registry maintenance, once signalled")
    p.add_argument('--queue', required=True)
    p.set_defaults(handler=cmd_maintain_on_signal)
