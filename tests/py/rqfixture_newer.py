"""rqfixture subcommands for what RQ 2.x and 3.0 keep in Redis besides queues, jobs and workers.

Loaded by rqfixture.py, which passes itself in (``register(sub, common, fixture_module)``) so these
subcommands share its output contract: one JSON document on stdout, logs on stderr, exit 1 with
``rqfixture: error: ...`` on failure. Every write below goes through RQ's own code (real ``rq cron``,
real workers with ``--with-scheduler``, ``Group``, ``Retry``/``Repeat``, ``RateLimit``); the oracles
only read, through RQ's classes, and say where they avoid RQ's cleaning read paths.

Writers (one-shot):      stale-cron, groups, rate-limits, retries
Writers (long-running):  cron, scheduler-worker. They print ONE readiness JSON line and then close
                         stdout (EOF), like busy-worker; kill them with SIGTERM (clean stop) or SIGKILL
                         (crash: RQ's keys stay behind).
Oracles (read-only):     cron-oracle, scheduler-oracle, groups-oracle, rate-limits-oracle,
                         retries-oracle, executions

Feature availability (each subcommand refuses with a clear error where the feature is missing):
  cron*, stale-cron        RQ 2.4+ (rq.cron); run histories need 2.11+, the name registry 2.12+
  groups*, executions      RQ 2.0+
  rate-limits*             RQ 3.0+
  scheduler-worker/-oracle RQ 1.x too (the lock then holds a pid and there is no rq:scheduler:<name>)
  retries*                 Retry everywhere; Repeat 2.3+; a job *returning* Retry needs 2.x+

Key dumps of what these produce on RQ 2.12.0 and 3.0.0: RQ_NEWER_KEYS.md.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import types
import warnings
from datetime import datetime, timedelta, timezone

fx = None  # the rqfixture module (emit, connect, iso, FixtureError, ...), set by register()


def _fail(message):
    raise fx.FixtureError(message)


def _rq_version():
    import rq

    return rq.__version__


def require(check, feature):
    """Refuse (FixtureError) unless `check()` is true; an ImportError counts as false."""
    try:
        ok = check()
    except ImportError:
        ok = False
    if not ok:
        _fail(f'{feature}; this is RQ {_rq_version()}')


def has_attr(module_name, attr):
    import importlib

    return hasattr(importlib.import_module(module_name), attr)


def text(value):
    """bytes -> str (UTF-8, replacing bad bytes); anything else unchanged."""
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else value


def epoch_iso(score):
    """A float epoch (a ZSET score) -> RQ's timestamp format, or None."""
    if score is None:
        return None
    return fx.iso(datetime.fromtimestamp(float(score), tz=timezone.utc))


def zset_with_scores(conn, key, desc=False):
    """[[member, score], ...] of a ZSET (ZRANGE WITHSCORES), read-only."""
    return [[text(m), s] for m, s in conn.zrange(key, 0, -1, desc=desc, withscores=True)]


def job_status(job_id, conn, serializer=None):
    """RQ's status of a job (Job.fetch + get_status), or None when its hash is gone."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=conn, serializer=serializer)
    except NoSuchJobError:
        return None
    return fx.enum_value(job.get_status(refresh=False))


# ---------------------------------------------------------------------------------------------------------
# Readiness reporting for the long-running subcommands
# ---------------------------------------------------------------------------------------------------------


def fork_readiness_reporter(url, probe, timeout, what):
    """Fork a child that polls `probe(conn)` until it returns a dict, prints that dict as the one JSON
    line on the real stdout and exits. The parent closes its own copy of the real stdout, so the reader
    sees the line and then EOF once the child is done, while the parent goes on to be the long-running
    process (a worker, or `rq cron` via exec). This is the busy-worker contract ("read one line"),
    except that the line comes when the state is in place, not right at start.

    The child dies with its parent (PR_SET_PDEATHSIG, via rqfixture.die_with_parent_in_forks, which the
    caller installs first), so a parent that crashes early gives the reader EOF instead of a hang. On
    timeout the child writes an error to stderr and prints nothing: the reader gets EOF without a line.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            conn = fx.connect(url)  # never reuse the parent's sockets
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                doc = probe(conn)
                if doc is not None:
                    fx.emit(doc)
                    status = 0
                    break
                time.sleep(0.1)
            else:
                print(f'rqfixture: error: {what} not ready after {timeout} s', file=sys.stderr)
        except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
            traceback.print_exc(file=sys.stderr)
        finally:
            sys.stderr.flush()
            os._exit(status)
    os.close(fx._REAL_STDOUT_FD)
    fx._REAL_STDOUT_FD = None
    return pid


# ---------------------------------------------------------------------------------------------------------
# cron, stale-cron, cron-oracle
# ---------------------------------------------------------------------------------------------------------

CRON_CONFIG_NAME = 'rqdash_cron_config.py'


def require_cron():
    require(lambda: has_attr('rq.cron', 'CronScheduler'), 'cron schedulers need RQ 2.4+ (rq.cron)')


def write_cron_config(directory, queue, interval, interval_name, cron_string, cron_name):
    """Write the config file `rq cron` loads: two `rq.cron.register(...)` calls with explicit names.

    The interval job carries args, kwargs and job options so the scheduler's `cron_jobs` JSON shows them.
    """
    path = os.path.join(directory, CRON_CONFIG_NAME)
    source = f'''"""Written by rqfixture.py for `rq cron` (CronScheduler.load_config_from_file)."""
from rq import cron

import rqdash_jobs

cron.register(
    rqdash_jobs.add,
    queue_name={queue!r},
    args=(1,),
    kwargs={{'b': 2}},
    interval={interval!r},
    job_timeout=30,
    result_ttl=600,
    meta={{'source': 'rqdash-cron'}},
    name={interval_name!r},
)
cron.register(
    rqdash_jobs.echo,
    queue_name={queue!r},
    args=('cron-string',),
    cron={cron_string!r},
    name={cron_name!r},
)
'''
    with open(path, 'w', encoding='utf-8') as f:
        f.write(source)
    return path


def cron_job_runs(name, conn):
    """A cron job name's history `rq:cron_job:<name>:jobs`, newest first, through get_cron_job_ids (2.11+).

    Each run: the spawned job id, the history score (enqueue time), and the job's status and enqueued_at
    from Job.fetch (null when the job hash is gone, e.g. after its result_ttl). Cron jobs are always
    pickled: CronJob.enqueue builds `Queue(name, connection)` without a serializer.
    """
    import rq.cron
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not hasattr(rq.cron, 'get_cron_job_ids'):
        return None  # RQ < 2.11 keeps no history
    key = rq.cron.get_cron_job_history_key(name)
    runs = []
    for job_id in rq.cron.get_cron_job_ids(name, conn):
        try:
            job = Job.fetch(job_id, connection=conn)
            status, enqueued_at = fx.enum_value(job.get_status(refresh=False)), fx.iso(job.enqueued_at)
        except NoSuchJobError:
            status, enqueued_at = None, None
        runs.append(
            {'job_id': job_id, 'status': status, 'enqueued_at': enqueued_at, 'score': conn.zscore(key, job_id)}
        )
    return runs


def cron_job_report(cron_job, scheduler_name, conn):
    return {
        'name': cron_job.name,
        'func_name': cron_job.func_name,
        'queue_name': cron_job.queue_name,
        'args': fx.jsonable(cron_job.args),
        'kwargs': fx.jsonable(cron_job.kwargs),
        'cron': cron_job.cron,
        'interval': cron_job.interval,
        'next_enqueue_time': fx.iso(cron_job.next_enqueue_time),
        'latest_enqueue_time': fx.iso(cron_job.latest_enqueue_time),
        'job_options': fx.jsonable(cron_job.job_options),
        'scheduler': scheduler_name,
        'runs': cron_job_runs(cron_job.name, conn),
    }


def cron_alive(score, now_ts):
    """RQ's judgement: cron_scheduler_registry.cleanup() removes entries with score <= now - 120 s
    (DEFAULT_CRON_SCHEDULER_TTL); everything newer counts as alive."""
    from rq.defaults import DEFAULT_CRON_SCHEDULER_TTL

    return score is not None and float(score) > now_ts - DEFAULT_CRON_SCHEDULER_TTL


def cron_scheduler_report(scheduler, conn, now_ts):
    score = conn.zscore(_cron_registry_key(), scheduler.name)
    return {
        'name': scheduler.name,
        'hostname': scheduler.hostname,
        'pid': scheduler.pid,
        'config_file': scheduler.config_file,
        'created_at': fx.iso(scheduler.created_at),
        'last_heartbeat': fx.iso(scheduler.last_heartbeat),  # the rq:cron_schedulers score, as a datetime
        'alive': cron_alive(score, now_ts),
        'cron_jobs': [cron_job_report(j, scheduler.name, conn) for j in scheduler.get_jobs()],
    }


def _cron_registry_key():
    from rq import cron_scheduler_registry

    return cron_scheduler_registry.get_registry_key()


def cmd_cron(args):
    """Run a real `rq cron` on a config file written to a new temp dir; one readiness line, then EOF.

    The process execs the venv's `rq cron --url U --path tests/py CONFIG` (so the pid the caller holds
    is the scheduler's pid, and SIGTERM is RQ's own clean stop: StopRequested -> register_death). A
    forked reporter prints the readiness line once RQ shows this scheduler registered (hash with our
    pid and config file) and the interval job enqueued at least once.
    """
    require_cron()
    from rq.cron import CronScheduler, get_cron_job_ids
    from rq.exceptions import SchedulerNotFound

    if args.json_serializer:
        _fail('cron: rq cron always pickles (CronJob.enqueue builds Queue(name, connection) without a '
              'serializer); drop --json-serializer')
    fx.connect(args.url)  # fail early (exit 1) when Redis is not there
    config_dir = tempfile.mkdtemp(prefix='rqdash-cron-')
    config_file = write_cron_config(
        config_dir, args.queue, args.interval, args.interval_name, args.cron, args.cron_name
    )
    cron_pid = os.getpid()  # exec keeps it

    def probe(conn):
        from rq import cron_scheduler_registry

        for name in cron_scheduler_registry.get_keys(conn):
            try:
                scheduler = CronScheduler.fetch(name, conn)
            except SchedulerNotFound:
                continue
            if scheduler.pid != cron_pid or scheduler.config_file != config_file:
                continue
            jobs = {j.name: j for j in scheduler.get_jobs()}
            interval_job = jobs.get(args.interval_name)
            if interval_job is None or interval_job.latest_enqueue_time is None:
                return None
            run_ids = get_cron_job_ids(args.interval_name, conn)
            if not run_ids:
                return None
            return {
                'rq_version': _rq_version(),
                'pid': cron_pid,
                'name': scheduler.name,
                'hostname': scheduler.hostname,
                'config_file': config_file,
                'config_dir': config_dir,
                'queue': args.queue,
                'created_at': fx.iso(scheduler.created_at),
                'last_heartbeat': fx.iso(scheduler.last_heartbeat),
                'interval_job': {'name': args.interval_name, 'interval': args.interval, 'func_name': 'rqdash_jobs.add'},
                'cron_job': {'name': args.cron_name, 'cron': args.cron, 'func_name': 'rqdash_jobs.echo'},
                'interval_run_ids': run_ids,  # newest first
            }
        return None

    rq_bin = os.path.join(os.path.dirname(sys.executable), 'rq')
    if os.path.exists(rq_bin):
        argv = [rq_bin]
    else:
        argv = [sys.executable, '-m', 'rq.cli']
    argv += ['cron', '--url', args.url, '--path', fx.HERE, '--logging-level', 'INFO', config_file]
    fx.die_with_parent_in_forks()
    fork_readiness_reporter(args.url, probe, args.timeout, 'rq cron')
    os.environ['PYTHONDONTWRITEBYTECODE'] = '1'  # keep tests/py and the config dir free of __pycache__
    fx.log.info('exec %s', ' '.join(argv))
    sys.stderr.flush()
    os.execv(argv[0], argv)  # fd 1 already points at stderr, the real stdout is close-on-exec


@contextlib.contextmanager
def rq_cron_clock_behind(seconds, hash_ttl=None):
    """Run RQ's cron code as if on a host whose clock is `seconds` behind (and optionally with a shorter
    scheduler-hash TTL). Only module attributes of rq.cron / rq.cron_scheduler_registry are swapped:

      * `time` in both modules (heartbeat scores: `time.time()`; `time.sleep` stays real),
      * `rq.cron.now` (created_at, cron-string next_enqueue_time),
      * `rq.cron.DEFAULT_CRON_SCHEDULER_TTL` (EXPIRE of rq:cron_scheduler:<name>) when `hash_ttl` is given.

    Redis' own clock (EXPIRE) is not skewed, which is exactly what a real skewed host produces.
    """
    import rq.cron as rq_cron
    import rq.cron_scheduler_registry as rq_reg

    real_time, real_now = time.time, rq_cron.now
    skewed = types.SimpleNamespace(time=lambda: real_time() - seconds, sleep=time.sleep)
    saved = (rq_cron.time, rq_reg.time, rq_cron.now, rq_cron.DEFAULT_CRON_SCHEDULER_TTL)
    rq_cron.time = skewed
    rq_reg.time = skewed
    rq_cron.now = lambda: real_now() - timedelta(seconds=seconds)
    if hash_ttl is not None:
        rq_cron.DEFAULT_CRON_SCHEDULER_TTL = hash_ttl
    try:
        yield
    finally:
        rq_cron.time, rq_reg.time, rq_cron.now, rq_cron.DEFAULT_CRON_SCHEDULER_TTL = saved


def cmd_stale_cron(args):
    """Leave two cron schedulers whose last heartbeat is `--age` seconds old, written by RQ's own code.

    Method: in this process, RQ's CronScheduler loads a config file, registers its birth and sends one
    heartbeat while rq.cron's clock reads `age` seconds in the past (rq_cron_clock_behind), then the
    process exits without register_death, as a killed `rq cron` would. Two variants:

      * "skewed":  the hash rq:cron_scheduler:<name> is still there (Redis TTL ~120 s from now). This is
                   what a scheduler on a host with a slow clock looks like (the score is the host's
                   time.time(), the TTL is Redis' clock), and what a crashed one looks like for up to
                   120 s.
      * "crashed": the same, with RQ's hash TTL constant patched to 1 s, then waiting for Redis to
                   expire the hash: only the rq:cron_schedulers member with its old score remains, as
                   after a real crash more than 120 s ago. RQ's CronScheduler.all() skips it.

    Takes about 1.5 s. Nothing is enqueued (interval jobs show no enqueue times).
    """
    require_cron()
    from rq.cron import CronScheduler

    conn = fx.connect(args.url)
    config_dir = tempfile.mkdtemp(prefix='rqdash-stale-cron-')
    try:
        config_file = write_cron_config(
            config_dir, args.queue, 60, 'rqdash-stale-interval', '*/5 * * * *', 'rqdash-stale-cron'
        )
        out = {'rq_version': _rq_version(), 'age_seconds': args.age, 'config_file': config_file}
        for variant, hash_ttl in (('skewed', None), ('crashed', 1)):
            with rq_cron_clock_behind(args.age, hash_ttl=hash_ttl):
                scheduler = CronScheduler(connection=conn)
                scheduler.load_config_from_file(config_file)
                scheduler.register_birth()
                scheduler.heartbeat()
            out[variant] = {'name': scheduler.name, 'pid': scheduler.pid, 'key': scheduler.key}
        deadline = time.monotonic() + 5
        while conn.exists(out['crashed']['key']) and time.monotonic() < deadline:
            time.sleep(0.1)
        now_ts = time.time()
        for variant in ('skewed', 'crashed'):
            name, key = out[variant]['name'], out[variant]['key']
            score = conn.zscore(_cron_registry_key(), name)
            out[variant].update(
                {
                    'last_heartbeat': epoch_iso(score),
                    'heartbeat_age_seconds': round(now_ts - score, 3),
                    'alive': cron_alive(score, now_ts),
                    'hash_exists': bool(conn.exists(key)),
                    'hash_ttl': conn.ttl(key),
                }
            )
        if out['crashed']['hash_exists']:
            _fail('stale-cron: the crashed scheduler hash did not expire')
        if out['skewed']['alive'] or out['crashed']['alive']:
            _fail('stale-cron: RQ would still judge a stale scheduler alive (is --age > 120?)')
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)
    fx.emit(out)


def cmd_cron_oracle(args):
    """RQ's own read of cron state, without writing.

    CronScheduler.all(cleanup=True) (RQ's default) ZREMRANGEBYSCOREs stale schedulers; this uses
    CronScheduler.all(cleanup=False) (ZRANGE + HGETALL per name) and cron_job_registry.get_names(
    cleanup=False). `registry` lists every rq:cron_schedulers member, including those whose hash has
    expired (all() silently skips them). A scheduler stopped cleanly (register_death: ZREM only) keeps
    its hash for up to 120 s but is no longer in the registry, so RQ (and this oracle) cannot see it.
    """
    require_cron()
    from rq import cron_scheduler_registry
    from rq.cron import CronScheduler

    conn = fx.connect(args.url)
    now_ts = time.time()
    registry = []
    for name in cron_scheduler_registry.get_keys(conn):  # oldest heartbeat first
        score = conn.zscore(_cron_registry_key(), name)
        registry.append(
            {
                'name': name,
                'last_heartbeat': epoch_iso(score),
                'score': score,
                'alive': cron_alive(score, now_ts),
            }
        )
    schedulers = [cron_scheduler_report(s, conn, now_ts) for s in CronScheduler.all(conn, cleanup=False)]
    have_hash = {s['name'] for s in schedulers}
    for entry in registry:
        entry['has_hash'] = entry['name'] in have_hash
    names = None
    try:
        from rq import cron_job_registry
    except ImportError:  # RQ < 2.12
        cron_job_registry = None
    if cron_job_registry is not None:
        key = cron_job_registry.get_registry_key()
        names = [
            {'name': n, 'last_enqueue': epoch_iso(conn.zscore(key, n)), 'runs': cron_job_runs(n, conn)}
            for n in cron_job_registry.get_names(conn, cleanup=False)
        ]
    fx.emit(
        {
            'rq_version': _rq_version(),
            'registry': registry,
            'schedulers': schedulers,
            'cron_jobs': [job for s in schedulers for job in s['cron_jobs']],
            # rq:cron_jobs (2.12+), oldest last enqueue first, each with its runs: this outlives the
            # schedulers (a stopped scheduler leaves rq:cron_schedulers at once). null before 2.12.
            'cron_job_names': names,
        }
    )


# ---------------------------------------------------------------------------------------------------------
# scheduler-worker, scheduler-oracle
# ---------------------------------------------------------------------------------------------------------

SCHEDULED_IDS = {
    'in_1h': 'sched-in-1h',
    'in_10m': 'sched-in-10m',
    'overdue_served': 'sched-overdue-served',
    'overdue_orphan': 'sched-overdue-orphan',
}


def scheduler_queue_report(queue_name, conn, serializer):
    """RQ's view of one queue's scheduler: lock holder, scheduler hash (2.10+), scheduled jobs.

    Queue.scheduler_pid reads the lock (and in 2.10+ the rq:scheduler:<name> pid); RQScheduler.fetch
    reads the hash; ScheduledJobRegistry.get_job_ids(cleanup=False) lists the jobs (its cleanup is a
    no-op anyway) and get_scheduled_time() turns each score into a datetime.
    """
    from rq import Queue
    from rq.registry import ScheduledJobRegistry
    from rq.scheduler import RQScheduler

    queue = Queue(queue_name, connection=conn, serializer=serializer)
    lock_key = RQScheduler.get_locking_key(queue_name)
    holder = text(conn.get(lock_key))
    scheduler = None
    if holder is not None and hasattr(RQScheduler, 'fetch'):  # 2.10+: the lock holds the scheduler name
        from rq.exceptions import SchedulerNotFound

        try:
            s = RQScheduler.fetch(holder, conn)
            scheduler = {
                'name': s.name,
                'hostname': s.hostname,
                'pid': s.pid,
                'queues': sorted(s._queue_names),
                'created_at': fx.iso(s.created_at),
                'last_heartbeat': fx.iso(s.last_heartbeat),
            }
        except SchedulerNotFound:
            scheduler = None
    registry = ScheduledJobRegistry(queue_name, connection=conn, serializer=serializer)
    now_ts = time.time()
    scheduled = []
    for job_id in fx.registry_ids(registry):
        score = conn.zscore(registry.key, job_id)
        scheduled.append(
            {
                'id': job_id,
                'scheduled_for': fx.iso(registry.get_scheduled_time(job_id)),
                'score': score,
                'overdue': score is not None and score <= now_ts,
                'status': job_status(job_id, conn, serializer),
            }
        )
    return {
        'lock_key': lock_key,
        'lock_holder': holder,
        'lock_ttl': conn.ttl(lock_key),  # Redis TTL (-2: no lock); RQ sets interval + 60 = 61 s
        'scheduler_pid': queue.scheduler_pid,
        'scheduler': scheduler,
        'scheduled': scheduled,
    }


def cmd_scheduler_worker(args):
    """Put scheduled jobs in place, then run a worker `--with-scheduler` on QUEUES until killed.

    Before the worker starts (enqueue_in / enqueue_at through RQ's Queue API):
      * on the first queue: sched-in-1h (add(1, 1), in 1 hour), sched-in-10m (echo('later'), in 10 min),
        sched-overdue-served (echo('overdue'), due 30 s ago: the scheduler enqueues it at once and the
        worker runs it, so it ends finished);
      * on --orphan-queue (no worker, no scheduler): sched-overdue-orphan (add(2, 2), due 5 min ago); it
        stays overdue in rq:scheduled:<orphan> because nothing holds that queue's scheduler lock.

    The readiness line comes once RQ reports a scheduler for every queue (Queue.scheduler_pid) and
    sched-overdue-served is finished. SIGTERM stops the worker and its scheduler process cleanly (locks
    released, hash deleted); SIGKILL leaves the locks and the scheduler hash to expire (61 s).
    """
    from rq import Queue

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    queues = [Queue(name, connection=conn, serializer=serializer) for name in args.queues]
    if args.orphan_queue in args.queues:
        _fail('--orphan-queue must not be one of the worker queues')
    first = queues[0]
    now_utc = datetime.now(timezone.utc)
    first.enqueue_in(timedelta(hours=1), jobs.add, 1, 1, job_id=SCHEDULED_IDS['in_1h'])
    first.enqueue_in(timedelta(minutes=10), jobs.echo, 'later', job_id=SCHEDULED_IDS['in_10m'])
    first.enqueue_at(now_utc - timedelta(seconds=30), jobs.echo, 'overdue', job_id=SCHEDULED_IDS['overdue_served'])
    orphan = Queue(args.orphan_queue, connection=conn, serializer=serializer)
    orphan.enqueue_at(now_utc - timedelta(minutes=5), jobs.add, 2, 2, job_id=SCHEDULED_IDS['overdue_orphan'])
    worker_pid = os.getpid()

    def probe(c):
        reports = {q: scheduler_queue_report(q, c, serializer) for q in args.queues}
        if any(r['scheduler_pid'] is None for r in reports.values()):
            return None
        if job_status(SCHEDULED_IDS['overdue_served'], c, serializer) != 'finished':
            return None
        return {
            'rq_version': _rq_version(),
            'pid': worker_pid,
            'worker_name': args.name,
            'queues': args.queues,
            'orphan_queue': args.orphan_queue,
            'ids': SCHEDULED_IDS,
            'per_queue': reports,
            'orphan': scheduler_queue_report(args.orphan_queue, c, serializer),
        }

    fx.die_with_parent_in_forks()  # the horses, the scheduler process and the reporter die with us
    fork_readiness_reporter(args.url, probe, args.timeout, 'scheduler-worker')
    worker_class = fx.make_worker_class()
    worker = worker_class(queues, connection=conn, serializer=serializer, name=args.name)
    fx.log.info('worker %s (pid %d) with scheduler on %r', args.name, worker_pid, args.queues)
    worker.work(burst=False, with_scheduler=True)


def cmd_scheduler_oracle(args):
    """RQ's view of the scheduler of each of QUEUES (see scheduler_queue_report); read-only."""
    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    fx.emit(
        {
            'rq_version': _rq_version(),
            'queues': {q: scheduler_queue_report(q, conn, serializer) for q in args.queues},
        }
    )


# ---------------------------------------------------------------------------------------------------------
# groups, groups-oracle
# ---------------------------------------------------------------------------------------------------------


def require_groups():
    require(lambda: has_attr('rq.group', 'Group'), 'groups need RQ 2.0+ (rq.group.Group)')


def groups_report(conn, serializer):
    """RQ's view of every group, read-only.

    Group.all() SREMs names whose set is gone and Group.get_jobs() runs cleanup() (SREM of ids whose job
    hash expired), so this reads what they read without those writes: SMEMBERS rq:groups, Group.fetch
    (EXISTS) per name, SMEMBERS of Group.key, and Job.fetch_many (with our serializer; get_jobs() passes
    none). Ids whose hash is gone are listed with status null (get_jobs() would drop them).
    """
    from rq.group import Group
    from rq.exceptions import NoSuchGroupError
    from rq.job import Job

    out = {}
    for name in sorted(text(n) for n in conn.smembers(Group.REDIS_GROUP_KEY)):
        try:
            group = Group.fetch(name, connection=conn)
        except NoSuchGroupError:
            out[name] = None  # listed in rq:groups, but its set is gone
            continue
        ids = sorted(text(i) for i in conn.smembers(group.key))
        statuses = {}
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=conn, serializer=serializer)):
            statuses[job_id] = fx.enum_value(job.get_status(refresh=False)) if job is not None else None
        counts = {}
        for status in statuses.values():
            label = status if status is not None else 'missing'
            counts[label] = counts.get(label, 0) + 1
        out[name] = {'name': group.name, 'key': group.key, 'job_ids': ids, 'statuses': statuses, 'counts': counts}
    return out


def cmd_groups(args):
    """Create four groups with Group.create + Group.enqueue_many, run a burst worker on --queue only.

      group-all-ok   on --queue:         add(1,1), add(2,2), add(3,3), and echo('short') with result_ttl=1,
                                         whose hash expires after the run: its id stays in the group set
                                         (status null, counted as "missing")
      group-mixed    on --queue:         add(4,4), add(5,5), fail('group failure 1'), fail('group failure 2')
      group-pending  on --pending-queue: add(6,6), echo('waiting'), never worked: queued
      group-two-queues: one job on each queue (finished + queued)
    """
    require_groups()
    from rq import Queue
    from rq.group import Group

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    worked = Queue(args.queue, connection=conn, serializer=serializer)
    pending = Queue(args.pending_queue, connection=conn, serializer=serializer)
    prep = Queue.prepare_data

    def make(name, queue, datas):
        Group.create(connection=conn, name=name).enqueue_many(queue, datas)

    make('group-all-ok', worked, [
        prep(jobs.add, (1, 1), job_id='group-ok-1'),
        prep(jobs.add, (2, 2), job_id='group-ok-2'),
        prep(jobs.add, (3, 3), job_id='group-ok-3'),
        prep(jobs.echo, ('short',), job_id='group-ok-expiring', result_ttl=1),
    ])
    make('group-mixed', worked, [
        prep(jobs.add, (4, 4), job_id='group-mixed-ok-1'),
        prep(jobs.add, (5, 5), job_id='group-mixed-ok-2'),
        prep(jobs.fail, ('group failure 1',), job_id='group-mixed-fail-1'),
        prep(jobs.fail, ('group failure 2',), job_id='group-mixed-fail-2'),
    ])
    make('group-pending', pending, [
        prep(jobs.add, (6, 6), job_id='group-pending-1'),
        prep(jobs.echo, ('waiting',), job_id='group-pending-2'),
    ])
    group = Group.create(connection=conn, name='group-two-queues')
    group.enqueue_many(worked, [prep(jobs.add, (7, 7), job_id='group-two-worked')])
    group.enqueue_many(pending, [prep(jobs.add, (8, 8), job_id='group-two-pending')])

    worker_class = fx.make_worker_class()
    worker_class([worked], connection=conn, serializer=serializer, name=args.worker_name).work(burst=True)
    deadline = time.monotonic() + 5  # result_ttl=1: wait until Redis expires that hash
    while conn.exists('rq:job:group-ok-expiring') and time.monotonic() < deadline:
        time.sleep(0.1)

    report = groups_report(conn, serializer)
    want = {
        'group-all-ok': {'finished': 3, 'missing': 1},
        'group-mixed': {'finished': 2, 'failed': 2},
        'group-pending': {'queued': 2},
        'group-two-queues': {'finished': 1, 'queued': 1},
    }
    for name, counts in want.items():
        got = (report.get(name) or {}).get('counts')
        if got != counts:
            _fail(f'groups: {name}: RQ reports {got!r}, expected {counts!r}')
    fx.emit({'rq_version': _rq_version(), 'queues': [args.queue, args.pending_queue],
             'burst_worker': args.worker_name, 'groups': report})


def cmd_many_groups(args):
    """Create --count groups named many-<start>, many-<start+1>, ... (five digits) with Group.create +
    Group.enqueue_many, one add() job each on --queue, each created a little later than the one
    before. Emits {rq_version, count, groups: RQ's SCARD of its groups set}."""
    require_groups()
    from rq import Queue
    from rq.group import Group

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    queue = Queue(args.queue, connection=conn, serializer=fx.get_serializer(args.json_serializer))
    before = conn.scard(Group.REDIS_GROUP_KEY)
    for i in range(args.start, args.start + args.count):
        name = f'many-{i:05d}'
        Group.create(connection=conn, name=name).enqueue_many(
            queue, [Queue.prepare_data(jobs.add, (i, i), job_id=f'{name}-job')])
    count = conn.scard(Group.REDIS_GROUP_KEY)
    if count != before + args.count:
        _fail(f'many-groups: RQ lists {count} groups, expected {before + args.count}')
    fx.emit({'rq_version': _rq_version(), 'count': args.count, 'groups': count})


def cmd_groups_oracle(args):
    require_groups()
    conn = fx.connect(args.url)
    fx.emit({'rq_version': _rq_version(), 'groups': groups_report(conn, fx.get_serializer(args.json_serializer))})


# ---------------------------------------------------------------------------------------------------------
# rate-limits, rate-limits-oracle (RQ 3.0)
# ---------------------------------------------------------------------------------------------------------


def require_rate_limits():
    require(lambda: has_attr('rq.rate_limit', 'RateLimitRegistry'), 'rate limits need RQ 3.0+ (rq.rate_limit)')


def rate_limits_report(conn):
    """RQ's view of every rate-limit key, read-only.

    RateLimitRegistry.all (SMEMBERS rq:rl-keys), .concurrency (HGET rq:rl:<key> concurrency),
    get_allowed_job_ids / get_rate_limited_job_ids (ZRANGE). `leaked` applies the test of RQ's own
    maintenance (RateLimitRegistry._release_stale_allowed_jobs + RELEASE_STALE_AND_ENQUEUE_SCRIPT)
    without running it: a slot holder whose status is not queued/started (or whose hash is gone) and
    which has no live execution (no rq:executions:<id> score above now).
    """
    from rq.executions import ExecutionRegistry
    from rq.rate_limit import RateLimitRegistry

    now_ts = time.time()
    out = {}
    for registry in sorted(RateLimitRegistry.all(conn), key=lambda r: r.key):

        def entries(key, ids):
            rows = []
            for job_id in ids:
                status = text(conn.hget(f'rq:job:{job_id}', 'status'))
                rows.append({'id': job_id, 'status': status, 'queue': text(conn.hget(f'rq:job:{job_id}', 'origin')),
                             'score': conn.zscore(key, job_id)})
            return rows

        holders = entries(registry.allowed_key, registry.get_allowed_job_ids())
        waiters = entries(registry.rate_limited_key, registry.get_rate_limited_job_ids())
        leaked = []
        for h in holders:
            live = conn.zcount(ExecutionRegistry(h['id'], connection=conn).key, f'({now_ts}', '+inf')
            if h['status'] not in ('queued', 'started') and not live:
                leaked.append(h['id'])
        oldest = min((w['score'] for w in waiters), default=None)
        out[registry.key] = {
            'key': registry.key,
            'concurrency': registry.concurrency,
            'in_use': registry.get_allowed_job_count(),
            'holders': holders,
            'waiting': registry.get_rate_limited_job_count(),
            'waiters': waiters,
            'oldest_waiter_age_seconds': None if oldest is None else round(now_ts - oldest, 3),
            'leaked': leaked,
        }
    return out


def cmd_rate_limits(args):
    """Enqueue rate-limited jobs (RQ 3.0 `enqueue(..., rate_limit=RateLimit(key, concurrency))`).

      key "api", concurrency 2:   rl-api-1, rl-api-2, rl-api-3 on --queue, rl-api-4, rl-api-5 on
                                  --other-queue. The first two get the slots (status queued, in the queue
                                  lists), the other three wait (status rate_limited, in no queue list).
      key "leaky", concurrency 1: rl-leak-holder takes the slot, rl-leak-waiter waits; then
                                  rl-leak-holder is deleted with Job.delete(pipeline=p) + p.execute().
                                  RQ 3.0's delete with a caller-owned pipeline only drops the job from
                                  :rate_limited (RateLimitRegistry.cancel(pipeline=...)); its slot in
                                  :allowed is left for maintenance to release: a leaked slot, and
                                  rl-leak-waiter stays waiting behind it.

    No worker runs. Prints the per-key report (rate_limits_report) and the job statuses.
    """
    require_rate_limits()
    from rq import Queue
    from rq.job import Job
    from rq.rate_limit import RateLimit

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    main = Queue(args.queue, connection=conn, serializer=serializer)
    other = Queue(args.other_queue, connection=conn, serializer=serializer)
    api = RateLimit('api', 2)
    for i, queue in ((1, main), (2, main), (3, main), (4, other), (5, other)):
        queue.enqueue(jobs.add, i, i, job_id=f'rl-api-{i}', rate_limit=api)
    leaky = RateLimit('leaky', 1)
    main.enqueue(jobs.echo, 'holder', job_id='rl-leak-holder', rate_limit=leaky)
    main.enqueue(jobs.echo, 'waiter', job_id='rl-leak-waiter', rate_limit=leaky)
    holder = Job.fetch('rl-leak-holder', connection=conn, serializer=serializer)
    with conn.pipeline() as pipe:
        holder.delete(pipeline=pipe)
        pipe.execute()

    ids = [f'rl-api-{i}' for i in range(1, 6)] + ['rl-leak-holder', 'rl-leak-waiter']
    statuses = {i: job_status(i, conn, serializer) for i in ids}
    want = {'rl-api-1': 'queued', 'rl-api-2': 'queued', 'rl-api-3': 'rate_limited', 'rl-api-4': 'rate_limited',
            'rl-api-5': 'rate_limited', 'rl-leak-holder': None, 'rl-leak-waiter': 'rate_limited'}
    if statuses != want:
        _fail(f'rate-limits: RQ reports statuses {statuses!r}, expected {want!r}')
    report = rate_limits_report(conn)
    if report.get('leaky', {}).get('leaked') != ['rl-leak-holder']:
        _fail(f"rate-limits: no leaked slot: {report.get('leaky')!r}")
    fx.emit({'rq_version': _rq_version(), 'queues': [args.queue, args.other_queue], 'statuses': statuses,
             'queue_job_ids': {q.name: q.job_ids for q in (main, other)}, 'rate_limits': report})


def cmd_rate_limits_oracle(args):
    require_rate_limits()
    fx.emit({'rq_version': _rq_version(), 'rate_limits': rate_limits_report(fx.connect(args.url))})


# ---------------------------------------------------------------------------------------------------------
# retries, retries-oracle
# ---------------------------------------------------------------------------------------------------------

RETRY_IDS = {'retry': 'retry-failing', 'repeat': 'repeat-once', 'returned_retry': 'retry-returned'}


def retry_report(job_id, conn, serializer):
    """RQ's view of one job's retry/repeat state, read-only (Job.fetch, ScheduledJobRegistry)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    try:
        job = Job.fetch(job_id, connection=conn, serializer=serializer)
    except NoSuchJobError:
        return None
    registry = ScheduledJobRegistry(job.origin, connection=conn, serializer=serializer)
    score = conn.zscore(registry.key, job.id)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        results = [
            {'type': r.type.name, 'created_at': fx.iso(r.created_at)}
            for r in (job.results() if hasattr(job, 'results') else [])
        ]
    return {
        'id': job.id,
        'queue': job.origin,
        'status': fx.enum_value(job.get_status(refresh=False)),
        'retries_left': job.retries_left,
        'retry_intervals': job.retry_intervals,
        'number_of_retries': getattr(job, 'number_of_retries', None),
        'enqueue_at_front_on_retry': getattr(job, 'enqueue_at_front_on_retry', None),
        'repeats_left': getattr(job, 'repeats_left', None),
        'repeat_intervals': getattr(job, 'repeat_intervals', None),
        'scheduled_score': score,
        'scheduled_for': fx.iso(registry.get_scheduled_time(job.id)) if score is not None else None,
        'results': results,  # newest first (Job.results(): XREVRANGE)
    }


def cmd_retries(args):
    """Retries and repeats, run once by a burst worker without a scheduler (so they wait, scheduled):

      retry-failing   fail('retry me') with Retry(max=3, interval=[60, 120]): fails once, then waits in
                      rq:scheduled:<q> for its next attempt (60 s: RQ picks intervals[max(len - left, 0)]).
      repeat-once     add(2, 3) with Repeat(times=3, interval=[30, 90]) (RQ 2.3+): runs once, finished
                      result, then scheduled again 30 s later with repeats_left 2.
      retry-returned  retry_later(45): the job *returns* Retry(max=2, interval=45) (RQ 2.x+ handles that
                      as a RETRIED result, number_of_retries 1), then waits 45 s in the scheduled registry.
    """
    from rq import Queue, Retry

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    queue.enqueue(jobs.fail, 'retry me', job_id=RETRY_IDS['retry'], retry=Retry(max=3, interval=[60, 120]))
    ids = [RETRY_IDS['retry']]
    try:
        from rq.repeat import Repeat
    except ImportError:
        Repeat = None
    if Repeat is not None:
        queue.enqueue(jobs.add, 2, 3, job_id=RETRY_IDS['repeat'], repeat=Repeat(times=3, interval=[30, 90]))
        ids.append(RETRY_IDS['repeat'])
    returned_retry = fx.rq_version_tuple() >= (2, 0, 0)
    if returned_retry:
        queue.enqueue(jobs.retry_later, 45, job_id=RETRY_IDS['returned_retry'])
        ids.append(RETRY_IDS['returned_retry'])
    worker_class = fx.make_worker_class()
    worker_class([queue], connection=conn, serializer=serializer, name=args.worker_name).work(burst=True)
    report = {i: retry_report(i, conn, serializer) for i in ids}
    bad = {i: r and r['status'] for i, r in report.items() if not r or r['status'] != 'scheduled'}
    if bad:
        _fail(f'retries: expected every job scheduled for its next run, RQ reports {bad!r}')
    fx.emit({'rq_version': _rq_version(), 'queue': args.queue, 'burst_worker': args.worker_name,
             'repeat_supported': Repeat is not None, 'returned_retry_supported': returned_retry,
             'jobs': report})


def cmd_retries_oracle(args):
    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    fx.emit({'rq_version': _rq_version(), 'jobs': {i: retry_report(i, conn, serializer) for i in args.ids}})


# ---------------------------------------------------------------------------------------------------------
# executions (oracle; pair it with busy-worker)
# ---------------------------------------------------------------------------------------------------------


def cmd_executions(args):
    """RQ's view of a job's executions (RQ 2.0+), read-only; waits up to --wait s for one to exist.

    Use it on busy-worker's job. ExecutionRegistry.get_execution_ids() ZREMRANGEBYSCOREs expired
    members first, so this reads the same ZSET with ZRANGE WITHSCORES and restores each execution with
    Execution.fetch (HGETALL). `started_score` is the execution's member score in the started registry
    (the heartbeat deadline); `started_registry` is StartedJobRegistry.get_job_and_execution_ids(
    cleanup=False) with scores. The worker part uses Worker.find_by_key; on 3.0 `executions_set` is
    SMEMBERS rq:worker:<w>:executions (Worker.get_current_executions() would SREM stale members).
    """
    from rq import Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    require(lambda: has_attr('rq.executions', 'Execution'), 'executions need RQ 2.0+ (rq.executions)')
    from rq.executions import Execution, ExecutionRegistry

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            job = Job.fetch(args.job_id, connection=conn, serializer=serializer)
        except NoSuchJobError:
            job = None
        if job is not None and conn.zcard(ExecutionRegistry(job.id, connection=conn).key):
            break
        if time.monotonic() >= deadline:
            _fail(f'executions: job {args.job_id} has no execution after {args.wait} s')
        time.sleep(0.1)
    registry = ExecutionRegistry(job.id, connection=conn)
    started = job.started_job_registry
    executions = []
    for exec_id, score in zset_with_scores(conn, registry.key):
        try:
            e = Execution.fetch(id=exec_id, job_id=job.id, connection=conn)
        except ValueError:  # hash expired, member not yet cleaned
            executions.append({'id': exec_id, 'missing': True, 'registry_score': score})
            continue
        executions.append(
            {
                'id': e.id,
                'job_id': e.job_id,
                'composite_key': e.composite_key,
                'worker_name': e.worker_name or None,
                'created_at': fx.iso(e.created_at),
                'last_heartbeat': fx.iso(e.last_heartbeat),
                'registry_score': score,  # rq:executions:<job>: now + ttl + 60
                'started_score': conn.zscore(started.key, e.composite_key),  # rq:wip:<q>: now + ttl
                'ttl': conn.ttl(e.key),
            }
        )
    started_rows = [
        {'job_id': j, 'execution_id': x, 'score': conn.zscore(started.key, f'{j}:{x}')}
        for j, x in started.get_job_and_execution_ids(cleanup=False)
    ]
    workers = {}
    for name in sorted({e.get('worker_name') for e in executions if e.get('worker_name')}):
        w = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=conn, serializer=serializer)
        if w is None:
            workers[name] = None
            continue
        key = getattr(w, 'executions_key', None)
        workers[name] = {
            'state': fx.enum_value(w.get_state()),
            'current_job_id': text(conn.hget(w.key, 'current_job')),  # 1.x/2.x field; 3.0 no longer writes it
            'executions_set': sorted(text(m) for m in conn.smembers(key)) if key else None,
        }
    fx.emit(
        {
            'rq_version': _rq_version(),
            'job_id': job.id,
            'status': fx.enum_value(job.get_status(refresh=False)),
            'worker_name': job.worker_name or None,
            'executions': executions,
            'started_registry': started_rows,
            'workers': workers,
        }
    )


# ---------------------------------------------------------------------------------------------------------
# hostile-newer: HTML/JS in the names RQ 2.x/3.0 lets a caller choose
# ---------------------------------------------------------------------------------------------------------


def cmd_hostile_newer(args):
    """Names and values carrying HTML/JS, written through RQ's own API (for the browser tests).

      group --group on --queue:  hostile-group-ok (echo(--text), finished), hostile-group-fail
                                 (fail(--text), failed: its exception holds the text) and
                                 hostile-group-pending (echo(--text) on --pending-queue, queued)
      RQ 3.0 also: RateLimit(--rate-limit-key, 1) on --queue: hostile-rl-holder takes the slot and is
                                 deleted with a caller-owned pipeline (a leaked slot, as `rate-limits`
                                 does), hostile-rl-waiter (echo(--text)) waits.

    Cron job names go through `cron --interval-name/--cron-name`. Prints the group's and the limit's
    reports (groups_report / rate_limits_report) and `rate_limit_supported`.
    """
    require_groups()
    from rq import Queue
    from rq.group import Group
    from rq.job import Job

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    worked = Queue(args.queue, connection=conn, serializer=serializer)
    pending = Queue(args.pending_queue, connection=conn, serializer=serializer)
    prep = Queue.prepare_data
    group = Group.create(connection=conn, name=args.group)
    group.enqueue_many(worked, [
        prep(jobs.echo, (args.text,), job_id='hostile-group-ok'),
        prep(jobs.fail, (args.text,), job_id='hostile-group-fail'),
    ])
    group.enqueue_many(pending, [prep(jobs.echo, (args.text,), job_id='hostile-group-pending')])
    fx.make_worker_class()([worked], connection=conn, serializer=serializer).work(burst=True)

    try:
        rate_limit_supported = has_attr('rq.rate_limit', 'RateLimit')
    except ImportError:
        rate_limit_supported = False
    if rate_limit_supported:
        from rq.rate_limit import RateLimit

        limit = RateLimit(args.rate_limit_key, 1)
        limited = Queue(args.rate_limit_queue, connection=conn, serializer=serializer)
        limited.enqueue(jobs.echo, args.text, job_id='hostile-rl-holder', rate_limit=limit)
        limited.enqueue(jobs.echo, args.text, job_id='hostile-rl-waiter', rate_limit=limit)
        holder = Job.fetch('hostile-rl-holder', connection=conn, serializer=serializer)
        with conn.pipeline() as pipe:
            holder.delete(pipeline=pipe)
            pipe.execute()
    report = groups_report(conn, serializer).get(args.group)
    want = {'finished': 1, 'failed': 1, 'queued': 1}
    if (report or {}).get('counts') != want:
        _fail(f'hostile-newer: group counts {report!r}, expected {want!r}')
    fx.emit({
        'rq_version': _rq_version(),
        'group': report,
        'rate_limit_supported': rate_limit_supported,
        'rate_limit': rate_limits_report(conn).get(args.rate_limit_key) if rate_limit_supported else None,
    })


# ---------------------------------------------------------------------------------------------------------
# CLI registration
# ---------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------
# maintenance lag: expired registry entries and a job stuck in the intermediate list
# ---------------------------------------------------------------------------------------------------------


def cmd_maintenance_lag(args):
    """Leaves, written by RQ's own registry and intermediate-queue code with its clock set back
    AGE seconds: 2 finished and 1 failed entries that expired long ago (RQ's maintenance has not
    run), and 1 job moved into the queue's intermediate list (the LMOVE a worker's dequeue does)
    and first seen AGE seconds ago. Reports what RQ itself would clean up."""
    import rq.intermediate_queue as iq_module
    import rq.registry as registry_module
    from rq import Queue
    from rq.intermediate_queue import IntermediateQueue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    import rqdash_jobs

    conn = fx.connect(args.url)
    queue = Queue(args.queue, connection=conn)
    jobs = [queue.enqueue(rqdash_jobs.add, 1, i, job_id=f'lag-{i}') for i in range(4)]
    real_ts, real_now = registry_module.current_timestamp, iq_module.now
    registry_module.current_timestamp = lambda: real_ts() - args.age
    iq_module.now = lambda: real_now() - timedelta(seconds=args.age)
    try:
        finished = FinishedJobRegistry(args.queue, connection=conn)
        failed = FailedJobRegistry(args.queue, connection=conn)
        for job in jobs[:2]:
            conn.lrem(queue.key, 1, job.id)
            finished.add(job, ttl=60)
        conn.lrem(queue.key, 1, jobs[2].id)
        failed.add(jobs[2], ttl=60)
        intermediate = IntermediateQueue(queue.key, conn)
        conn.lmove(queue.key, intermediate.key, 'LEFT', 'RIGHT')
        intermediate.set_first_seen(jobs[3].id)
    finally:
        registry_module.current_timestamp, iq_module.now = real_ts, real_now
    now_ts = datetime.now(timezone.utc).timestamp()
    fx.emit({
        'rq_version': _rq_version(),
        'queue': args.queue,
        'expired': {
            'finished': len(finished.get_expired_job_ids(now_ts)),
            'failed': len(failed.get_expired_job_ids(now_ts)),
        },
        'intermediate': [j for j in intermediate.get_job_ids()],
        'intermediate_stuck': [j for j in intermediate.get_job_ids() if intermediate.should_be_cleaned_up(j)],
    })


# ---------------------------------------------------------------------------------------------------------
# the separate rq-scheduler library (installed in the RQ 2.12.0 venv only)
# ---------------------------------------------------------------------------------------------------------


def legacy_scheduler_report(conn):
    """rq-scheduler's own view of its jobs: id, next run, and the schedule it keeps in job.meta."""
    from rq_scheduler import Scheduler

    scheduler = Scheduler(connection=conn)
    jobs = []
    for job, when in scheduler.get_jobs(with_times=True):
        meta = job.meta or {}
        jobs.append({
            'id': job.id,
            'next_run': fx.iso(when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when),
            'queue_name': job.origin,
            'interval': meta.get('interval'),
            'cron': meta.get('cron_string'),
            'repeat': meta.get('repeat'),
        })
    return jobs


def cmd_legacy_scheduler(args):
    """Schedules an interval job (repeating 5 times), a cron job and a one-off job with rq-scheduler."""
    try:
        from rq_scheduler import Scheduler
    except ImportError:
        _fail('rq-scheduler is not installed in this venv (scripts/setup-rq-venvs.sh puts it in RQ 2.12.0)')
    import rqdash_jobs

    conn = fx.connect(args.url)
    scheduler = Scheduler(queue_name=args.queue, connection=conn)
    start = datetime.now(timezone.utc) + timedelta(minutes=5)
    scheduler.schedule(scheduled_time=start, func=rqdash_jobs.add, args=[1, 2], interval=60, repeat=5,
                       id='legacy-interval')
    scheduler.cron('*/10 * * * *', func=rqdash_jobs.add, args=[3, 4], id='legacy-cron', queue_name=args.queue)
    scheduler.enqueue_at(start + timedelta(hours=1), rqdash_jobs.add, 5, 6, job_id='legacy-once')
    fx.emit({'rq_version': _rq_version(), 'queue': args.queue, 'jobs': legacy_scheduler_report(conn)})


def cmd_legacy_scheduler_oracle(args):
    fx.emit({'rq_version': _rq_version(), 'jobs': legacy_scheduler_report(fx.connect(args.url))})


def register(sub, common, fixture_module):
    """Add this module's subcommands to rqfixture's argparse `sub`; `fixture_module` is rqfixture."""
    global fx
    fx = fixture_module

    p = sub.add_parser('cron', parents=[common], help='run a real `rq cron` (readiness line, then runs until killed)')
    p.add_argument('--queue', default='cron')
    p.add_argument('--interval', type=int, default=2)
    p.add_argument('--interval-name', default='rqdash-cron-interval')
    p.add_argument('--cron', default='* * * * *')
    p.add_argument('--cron-name', default='rqdash-cron-minutely')
    p.add_argument('--timeout', type=float, default=30)
    p.set_defaults(handler=cmd_cron)

    p = sub.add_parser('stale-cron', parents=[common], help='leave cron schedulers with an old heartbeat')
    p.add_argument('--age', type=int, default=600, help='heartbeat age in seconds (> 120)')
    p.add_argument('--queue', default='cron-stale')
    p.set_defaults(handler=cmd_stale_cron)

    p = sub.add_parser('cron-oracle', parents=[common], help="RQ's read of cron schedulers and jobs, no writes")
    p.set_defaults(handler=cmd_cron_oracle)

    p = sub.add_parser('scheduler-worker', parents=[common], help='scheduled jobs + a worker --with-scheduler')
    p.add_argument('--queues', nargs='+', default=['default'])
    p.add_argument('--name', default='scheduler-worker')
    p.add_argument('--orphan-queue', default='no-scheduler')
    p.add_argument('--timeout', type=float, default=30)
    p.set_defaults(handler=cmd_scheduler_worker)

    p = sub.add_parser('scheduler-oracle', parents=[common], help="RQ's view of QUEUES' scheduler locks and scheduled jobs")
    p.add_argument('--queues', nargs='+', required=True)
    p.set_defaults(handler=cmd_scheduler_oracle)

    p = sub.add_parser('groups', parents=[common], help='create groups and run a burst worker on part of them')
    p.add_argument('--queue', default='groups')
    p.add_argument('--pending-queue', default='groups-pending')
    p.add_argument('--worker-name', default='rqdash-groups-worker')
    p.set_defaults(handler=cmd_groups)

    p = sub.add_parser('many-groups', parents=[common], help='COUNT groups of one job each, by Group.create')
    p.add_argument('--count', type=int, required=True)
    p.add_argument('--start', type=int, default=0)
    p.add_argument('--queue', default='many')
    p.set_defaults(handler=cmd_many_groups)

    p = sub.add_parser('groups-oracle', parents=[common], help="RQ's view of every group, no writes")
    p.set_defaults(handler=cmd_groups_oracle)

    p = sub.add_parser('rate-limits', parents=[common], help='RQ 3.0: rate-limited jobs, waiting jobs, a leaked slot')
    p.add_argument('--queue', default='rl')
    p.add_argument('--other-queue', default='rl-other')
    p.set_defaults(handler=cmd_rate_limits)

    p = sub.add_parser('rate-limits-oracle', parents=[common], help="RQ 3.0: RQ's view of every rate-limit key")
    p.set_defaults(handler=cmd_rate_limits_oracle)

    p = sub.add_parser('retries', parents=[common], help='a retrying job and a repeating job, each run once')
    p.add_argument('--queue', default='retries')
    p.add_argument('--worker-name', default='rqdash-retries-worker')
    p.set_defaults(handler=cmd_retries)

    p = sub.add_parser('retries-oracle', parents=[common], help="RQ's view of jobs' retry/repeat state")
    p.add_argument('--ids', nargs='+', required=True)
    p.set_defaults(handler=cmd_retries_oracle)

    p = sub.add_parser('executions', parents=[common], help="RQ's view of a job's executions (pair with busy-worker)")
    p.add_argument('--job-id', required=True)
    p.add_argument('--wait', type=float, default=10, help='seconds to wait for an execution to exist')
    p.set_defaults(handler=cmd_executions)

    p = sub.add_parser('legacy-scheduler', parents=[common], help='jobs scheduled with the separate rq-scheduler library')
    p.add_argument('--queue', default='legacy')
    p.set_defaults(handler=cmd_legacy_scheduler)

    p = sub.add_parser('legacy-scheduler-oracle', parents=[common], help="rq-scheduler's view of its jobs")
    p.set_defaults(handler=cmd_legacy_scheduler_oracle)

    p = sub.add_parser('maintenance-lag', parents=[common], help='expired registry entries and a stuck intermediate job')
    p.add_argument('--queue', default='lagging')
    p.add_argument('--age', type=int, default=1800)
    p.set_defaults(handler=cmd_maintenance_lag)

    p = sub.add_parser('hostile-newer', parents=[common], help='a group (and RQ 3.0 rate limit) named with HTML/JS')
    p.add_argument('--group', required=True)
    p.add_argument('--rate-limit-key', required=True)
    p.add_argument('--text', required=True)
    p.add_argument('--queue', default='hostile-groups')
    p.add_argument('--pending-queue', default='hostile-groups-pending')
    p.add_argument('--rate-limit-queue', default='hostile-rl')
    p.set_defaults(handler=cmd_hostile_newer)
