#!/usr/bin/env python3
"""Test fixtures for rqdash: seed Redis with REAL RQ, and report what RQ's own API sees (the "oracle").

Works with RQ 1.16.x, 2.x (tested 2.12.0) and 3.0.x. Run it with the python of one of the venvs made by
scripts/setup-rq-venvs.sh, e.g.

    .venv/rq-2.12.0/bin/python tests/py/rqfixture.py seed   --url redis://127.0.0.1:17001/0
    .venv/rq-2.12.0/bin/python tests/py/rqfixture.py oracle --url redis://127.0.0.1:17001/0

Output contract: exactly one JSON document on stdout (UTF-8, not ASCII-escaped), nothing else. Everything
else (RQ worker logs, warnings, job output) goes to stderr: file descriptor 1 is pointed at stderr for the
whole run and the JSON is written to a private duplicate of the original stdout. On any error the script
prints `rqfixture: error: ...` to stderr and exits with status 1 (2 for bad command-line usage).

Timestamps in the output are UTC in the form `%Y-%m-%dT%H:%M:%S.%fZ` (always 6 fractional digits and a
literal 'Z', i.e. RQ's own `utcformat`), or null.

Subcommands: seed, oracle, busy-worker, idle-worker, enqueue, act, make-jobs, hostile, burst (see README.md
and `--help`), and, from rqfixture_newer.py, the RQ 2.x/3.0 state: cron, stale-cron, cron-oracle,
scheduler-worker, scheduler-oracle, groups, groups-oracle, rate-limits, rate-limits-oracle, retries,
retries-oracle, executions (see RQ_NEWER_KEYS.md), from rqfixture_search.py, search-seed,
search-oracle and search-jobs, and, from rqfixture_redact.py, plant-secret and secret-worker.
"""

import argparse
import inspect
import json
import logging
import os
import signal
import sys
import tempfile
import traceback
import warnings
from datetime import datetime, timedelta, timezone

sys.dont_write_bytecode = True  # keep tests/py free of __pycache__ when importing rqdash_jobs

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    # The job functions live next to this file; workers (and their forked horses) import them by name.
    sys.path.insert(0, HERE)

# ---------------------------------------------------------------------------------------------------------
# stdout discipline: keep a private handle on the real stdout, point fd 1 at stderr for everything else.
# RQ's log handler (rq.logutils.setup_loghandlers) would write INFO records to sys.stdout; configuring a
# root handler on stderr first makes RQ skip installing its own handlers (`_has_effective_handler`), and
# the fd-level redirect catches anything else (prints in jobs, forked work horses, C-level writes).
# ---------------------------------------------------------------------------------------------------------
_REAL_STDOUT_FD = None


def _redirect_stdout_to_stderr():
    global _REAL_STDOUT_FD
    sys.stdout.flush()
    _REAL_STDOUT_FD = os.dup(1)
    os.dup2(2, 1)


def emit(document, close=True):
    """Write one JSON document (plus newline) to the real stdout. `close` ends our stdout for good."""
    global _REAL_STDOUT_FD
    if _REAL_STDOUT_FD is None:
        raise RuntimeError('stdout already closed')
    data = (json.dumps(document, ensure_ascii=False, allow_nan=True) + '\n').encode('utf-8')
    view = memoryview(data)
    while view:
        n = os.write(_REAL_STDOUT_FD, view)
        view = view[n:]
    if close:
        os.close(_REAL_STDOUT_FD)
        _REAL_STDOUT_FD = None


log = logging.getLogger('rqfixture')


class FixtureError(Exception):
    """A fixture precondition or post-condition failed; message goes to stderr, exit status 1."""


# ---------------------------------------------------------------------------------------------------------
# Small helpers shared by the subcommands
# ---------------------------------------------------------------------------------------------------------


def rq_version_tuple():
    import rq

    parts = []
    for p in rq.__version__.split('.')[:3]:
        digits = ''.join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def connect(url):
    from redis import Redis

    # RQ needs bytes responses (decode_responses=False, the default).
    conn = Redis.from_url(url)
    conn.ping()
    return conn


def get_serializer(use_json):
    if use_json:
        from rq.serializers import JSONSerializer

        return JSONSerializer
    return None  # RQ's default: pickle


def iso(dt):
    """datetime -> '%Y-%m-%dT%H:%M:%S.%fZ' in UTC. RQ 1.x returns naive datetimes that are UTC; 2.x+ aware."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def jsonable(value):
    """Best-effort conversion of a Python value (meta dicts etc.) into something json.dumps accepts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return repr(value)


def enum_value(value):
    """JobStatus / WorkerStatus members -> their string value; plain strings pass through."""
    if value is None:
        return None
    return getattr(value, 'value', value)


def accepts_kwarg(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def registry_count(registry):
    """Number of entries in a registry, without running RQ's cleanup where RQ lets us skip it.

    RQ 2.x/3.x: `get_job_count(cleanup=False)` == ZCARD. Note that for StartedJobRegistry in 2.x/3.x this
    counts *executions* (`<job_id>:<execution_id>` members), not distinct jobs.
    RQ 1.x: there is no cleanup-free API; `registry.count` runs `cleanup()` first. On fresh fixture data no
    entry is expired (finished 500 s, failed 1 year, started = heartbeat deadline 90 s ahead), so the cleanup
    removes nothing; for 1.x the started registry holds plain job ids.
    """
    if hasattr(registry, 'get_job_count'):
        return registry.get_job_count(cleanup=False)
    return registry.count


def registry_ids(registry):
    """Ids in RQ's `get_job_ids()` order (ascending score, ties by member bytes), parsed to job ids.

    StartedJobRegistry.get_job_ids() in 2.x/3.x already returns the job-id part of `id:execution` members
    (one entry per execution, so a job could appear twice). 1.x: `get_job_ids()` always runs cleanup();
    see registry_count() for why that is a no-op on fixture data.
    """
    if accepts_kwarg(registry.get_job_ids, 'cleanup'):
        return list(registry.get_job_ids(cleanup=False))
    return list(registry.get_job_ids())


REGISTRY_ATTRS = [
    ('started', 'started_job_registry'),
    ('finished', 'finished_job_registry'),
    ('failed', 'failed_job_registry'),
    ('deferred', 'deferred_job_registry'),
    ('scheduled', 'scheduled_job_registry'),
    ('canceled', 'canceled_job_registry'),
]


def make_worker_class():
    """The normal forking rq.Worker, with one fixture tweak: SIGTERM does a *cold* shutdown.

    Stock RQ treats the first SIGTERM as a warm shutdown, which waits for the running job (sleep(600) for
    busy-worker) to finish. Test harnesses expect SIGTERM to end the process promptly, so here SIGTERM kills
    the work horse and exits (RQ's teardown still runs and registers the worker's death). SIGINT keeps RQ's
    stock behaviour.
    """
    from rq import Worker

    class FixtureWorker(Worker):
        def _install_signal_handlers(self):
            super()._install_signal_handlers()
            signal.signal(signal.SIGTERM, self._rqfixture_cold_stop)

        def _rqfixture_cold_stop(self, signum, frame):
            self.log.warning('rqfixture: SIGTERM, cold shutdown of worker %s', self.name)
            # RQ's kill_horse signals the horse's process group; a horse that has not yet reached
            # setsid() is still in ours, so never signal our own group.
            if self.horse_pid and os.getpgid(self.horse_pid) != os.getpgid(0):
                try:
                    self.kill_horse()
                    self.wait_for_horse()
                except Exception:  # noqa: BLE001 - best effort, we are exiting anyway
                    pass
            raise SystemExit(0)

    return FixtureWorker


def die_with_parent_in_forks():
    """Make forked work horses die (SIGKILL) when the worker process dies, e.g. when a test SIGKILLs it.

    Without this an orphaned horse would keep running sleep(600) and later write to Redis. Linux only
    (prctl PR_SET_PDEATHSIG); silently skipped elsewhere.
    """
    parent = os.getpid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except Exception:  # noqa: BLE001
        return

    def after_fork_in_child():
        try:
            prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 == PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001
            pass
        if os.getppid() != parent:  # parent already gone before prctl took effect
            os._exit(1)

    os.register_at_fork(after_in_child=after_fork_in_child)


# ---------------------------------------------------------------------------------------------------------
# seed
# ---------------------------------------------------------------------------------------------------------

ODD_QUEUE = 'a/b:c ünï'
HOSTILE_DESCRIPTION = '<img src=x onerror=alert(1)>'
FAIL_MESSAGE_1 = 'boom <script>alert(1)</script>'
FAIL_MESSAGE_2 = 'second failure'
META = {'progress': 50, 'owner': 'ops'}
HOSTILE_VALUE = {'k': [1, 2.5, None, True]}
SEED_WORKER_NAME = 'rqdash-seed-worker'

IDS = {
    'finished_1': 'job-finished-1',
    'finished_2': 'job-finished-2',
    'failed_1': 'job-failed-1',
    'failed_2': 'job-failed-2',
    'hostile': 'job-hostile',
    'meta': 'job-meta',
    'scheduled': 'job-scheduled',
    'queued_1': 'job-queued-1',
    'deferred': 'job-deferred',
    'canceled': 'job-to-cancel',
    'front': 'job-front',
    'odd_1': 'job-odd-1',
    'odd_2': 'job-odd-2',
    'empty_deleted': 'job-empty-deleted',
}


def cmd_seed(args):
    import rq
    from rq import Queue
    from rq.job import Job

    import rqdash_jobs as jobs

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    nkeys = conn.dbsize()
    if nkeys:
        raise FixtureError(f'seed needs an empty Redis database, but {args.url} holds {nkeys} keys (FLUSHDB it first)')

    default = Queue('default', connection=conn, serializer=serializer)

    # --- phase 1: jobs that a burst worker will run -------------------------------------------------------
    default.enqueue(jobs.add, 2, 3, job_id=IDS['finished_1'])
    default.enqueue(jobs.add, 10, b=20, job_id=IDS['finished_2'])
    default.enqueue(jobs.fail, FAIL_MESSAGE_1, job_id=IDS['failed_1'])
    default.enqueue(jobs.fail, FAIL_MESSAGE_2, job_id=IDS['failed_2'])
    default.enqueue(jobs.echo, HOSTILE_VALUE, job_id=IDS['hostile'], description=HOSTILE_DESCRIPTION)
    meta_job = default.enqueue(jobs.echo, 'meta', job_id=IDS['meta'], meta=dict(META))
    # enqueue(meta=...) already stored it; save_meta() again so the hash field is certainly written
    meta_job.meta.update(META)
    meta_job.save_meta()

    worker_class = make_worker_class()
    worker = worker_class([default], connection=conn, serializer=serializer, name=SEED_WORKER_NAME)
    log.info('running burst worker %s (rq %s)', SEED_WORKER_NAME, rq.__version__)
    worker.work(burst=True)

    expect_status = {
        IDS['finished_1']: 'finished',
        IDS['finished_2']: 'finished',
        IDS['failed_1']: 'failed',
        IDS['failed_2']: 'failed',
        IDS['hostile']: 'finished',
        IDS['meta']: 'finished',
    }
    check_statuses(conn, serializer, expect_status, 'after the burst worker')
    check_results(conn, serializer)

    # --- phase 2: jobs left in every other state ----------------------------------------------------------
    default.enqueue_in(timedelta(hours=1), jobs.add, 1, 1, job_id=IDS['scheduled'])
    default.enqueue(jobs.add, 5, 5, job_id=IDS['queued_1'])
    default.enqueue(jobs.add, 7, 7, job_id=IDS['deferred'], depends_on=IDS['queued_1'])
    to_cancel = default.enqueue(jobs.add, 3, 4, job_id=IDS['canceled'])
    to_cancel.cancel()
    default.enqueue(jobs.echo, 'front', job_id=IDS['front'], at_front=True)

    odd = Queue(ODD_QUEUE, connection=conn, serializer=serializer)
    odd.enqueue(jobs.add, 1, 2, job_id=IDS['odd_1'])
    odd.enqueue(jobs.echo, 'x', job_id=IDS['odd_2'])

    # A queue registered in rq:queues with no jobs: enqueue one job, then delete it with RQ's Job.delete()
    # (which LREMs it from the queue list; Queue.delete() would also SREM the queue, so we don't use it).
    empty = Queue('empty-queue', connection=conn, serializer=serializer)
    gone = empty.enqueue(jobs.echo, 'deleted', job_id=IDS['empty_deleted'])
    gone.delete()

    # --- post-conditions ----------------------------------------------------------------------------------
    expect_status.update(
        {
            IDS['scheduled']: 'scheduled',
            IDS['queued_1']: 'queued',
            IDS['deferred']: 'deferred',
            IDS['canceled']: 'canceled',
            IDS['front']: 'queued',
            IDS['odd_1']: 'queued',
            IDS['odd_2']: 'queued',
        }
    )
    check_statuses(conn, serializer, expect_status, 'at the end of seed')
    if Job.exists(IDS['empty_deleted'], connection=conn):
        raise FixtureError(f"job {IDS['empty_deleted']} still exists after Job.delete()")

    def expect(what, got, want):
        if got != want:
            raise FixtureError(f'{what}: expected {want!r}, RQ reports {got!r}')

    expect('default queue list', default.job_ids, [IDS['front'], IDS['queued_1']])
    expect('odd queue list', odd.job_ids, [IDS['odd_1'], IDS['odd_2']])
    expect('empty-queue length', empty.count, 0)
    want_sets = {
        'finished': {IDS['finished_1'], IDS['finished_2'], IDS['hostile'], IDS['meta']},
        'failed': {IDS['failed_1'], IDS['failed_2']},
        'started': set(),
        'deferred': {IDS['deferred']},
        'scheduled': {IDS['scheduled']},
        'canceled': {IDS['canceled']},
    }
    for label, attr in REGISTRY_ATTRS:
        ids = registry_ids(getattr(default, attr))
        expect(f'default {label} registry', sorted(ids), sorted(want_sets[label]))
    all_queue_names = {q.name for q in Queue.all(connection=conn, serializer=serializer)}
    expect('queues in rq:queues', sorted(all_queue_names), sorted(['default', ODD_QUEUE, 'empty-queue']))

    emit(
        {
            'rq_version': rq.__version__,
            'serializer': 'json' if args.json_serializer else 'pickle',
            'queues': ['default', ODD_QUEUE, 'empty-queue'],
            'ids': IDS,
            'burst_worker': SEED_WORKER_NAME,
        }
    )


def check_statuses(conn, serializer, expected, when):
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    problems = []
    for job_id, want in expected.items():
        try:
            job = Job.fetch(job_id, connection=conn, serializer=serializer)
        except NoSuchJobError:
            problems.append(f'{job_id}: missing (wanted {want})')
            continue
        got = enum_value(job.get_status())
        if got != want:
            problems.append(f'{job_id}: status {got!r}, wanted {want!r}')
    if problems:
        raise FixtureError(f'RQ did not produce the expected job statuses {when}: ' + '; '.join(problems))


def check_results(conn, serializer):
    """The burst run must have left return values and tracebacks where the oracle/dashboard will look."""
    from rq.job import Job

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        want_values = {
            IDS['finished_1']: 5,
            IDS['finished_2']: 30,
            IDS['hostile']: HOSTILE_VALUE,
            IDS['meta']: 'meta',
        }
        for job_id, want in want_values.items():
            job = Job.fetch(job_id, connection=conn, serializer=serializer)
            got = job.return_value()
            if got != want:
                raise FixtureError(f'{job_id}: return value {got!r}, wanted {want!r}')
        meta_job = Job.fetch(IDS['meta'], connection=conn, serializer=serializer)
        if meta_job.meta != META:
            raise FixtureError(f"{IDS['meta']}: meta {meta_job.meta!r}, wanted {META!r}")
        for job_id, message in ((IDS['failed_1'], FAIL_MESSAGE_1), (IDS['failed_2'], FAIL_MESSAGE_2)):
            job = Job.fetch(job_id, connection=conn, serializer=serializer)
            text = job.exc_info or ''
            needle = f'ValueError: {message}'
            if needle not in text:
                raise FixtureError(f'{job_id}: traceback does not mention {needle!r}: {text!r}')


# ---------------------------------------------------------------------------------------------------------
# oracle
# ---------------------------------------------------------------------------------------------------------


def job_report(job):
    from rq.results import Result

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # job.exc_info is deprecated in favour of latest_result()
        try:
            status = enum_value(job.get_status(refresh=False))
        except Exception:  # noqa: BLE001 - RQ 2.x raises when the hash has no status field
            status = None
        latest = job.latest_result()  # newest entry of the rq:results:<id> stream, or None
        result_type = latest.type.name if latest is not None else None
        # RQ's return_value() is the latest result's value when that result is SUCCESSFUL. A successful job
        # whose function returned None reports "None" here; null means "no successful latest result".
        if latest is not None and latest.type == Result.Type.SUCCESSFUL:
            result = repr(job.return_value())
        else:
            result = None
        # job.exc_info: latest result's traceback when it is a FAILED result, else the hash's exc_info field.
        exc_info = job.exc_info
        if isinstance(exc_info, bytes):
            exc_info = exc_info.decode('utf-8', 'replace')
        if exc_info == '':
            exc_info = None

        # Job.dependency_ids: RQ 1.x returns 'rq:job:<id>' key names, 2.x+ plain ids; report plain ids.
        prefix = job.redis_job_namespace_prefix
        deps = []
        for dep in job.dependency_ids:
            dep = dep.decode() if isinstance(dep, bytes) else dep
            deps.append(dep[len(prefix) :] if dep.startswith(prefix) else dep)

        return {
            'status': status,
            'origin': job.origin,
            'description': job.description,
            'func_name': job.func_name,
            'args': [repr(a) for a in job.args],
            'kwargs': {str(k): repr(v) for k, v in job.kwargs.items()},
            'created_at': iso(job.created_at),
            'enqueued_at': iso(job.enqueued_at),
            'started_at': iso(job.started_at),
            'ended_at': iso(job.ended_at),
            'exc_info': exc_info,
            'result': result,
            'result_type': result_type,
            'meta': jsonable(job.meta or {}),
            'dependency_ids': sorted(deps),  # a Redis SET: no inherent order
            'worker_name': job.worker_name or None,
            'timeout': job.timeout,
            'result_ttl': job.result_ttl,
            'failure_ttl': job.failure_ttl,
        }


def worker_report(worker):
    return {
        'name': worker.name,
        'state': enum_value(worker.get_state()),
        'queues': worker.queue_names(),
        # 1.x/2.x: HGET rq:worker:<w> current_job. 3.0: no current_job field any more; get_current_job_id()
        # reads the SET rq:worker:<w>:executions (members '<job_id>:<execution_id>') and the execution hashes.
        'current_job_id': worker.get_current_job_id() or None,
        'pid': worker.pid,
        'hostname': worker.hostname,
        'successful_job_count': worker.successful_job_count,
        'failed_job_count': worker.failed_job_count,
        'total_working_time': worker.total_working_time,
        'version': worker.version,
        'birth': iso(worker.birth_date),
        'last_heartbeat': iso(worker.last_heartbeat),
    }


def cmd_oracle(args):
    """Read-only view through RQ's public API.

    Mutations that RQ's read API can still do, none of which fire on fresh fixture data:
      * 1.x registry count/get_job_ids run cleanup() (no cleanup=False there); nothing has expired yet.
      * Worker.all() SREMs worker keys whose hash is gone from rq:workers.
      * 3.0 Worker.get_current_executions() SREMs execution-set members whose execution hash expired.
    """
    import rq
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.suspension import is_suspended

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)

    queues_out = {}
    ready_out = {}
    seen = []
    seen_set = set()

    def note(ids):
        for job_id in ids:
            if job_id not in seen_set:
                seen_set.add(job_id)
                seen.append(job_id)

    queues = sorted(Queue.all(connection=conn, serializer=serializer), key=lambda q: q.name)
    for queue in queues:
        ids = {'queued': list(queue.job_ids)}  # LRANGE 0 -1: index 0 is the next job to run
        counts = {'queued': queue.count}  # LLEN
        for label, attr in REGISTRY_ATTRS:
            registry = getattr(queue, attr)
            counts[label] = registry_count(registry)
            ids[label] = registry_ids(registry)
        entry = dict(counts)
        entry['ids'] = ids
        queues_out[queue.name] = entry
        for label in ['queued'] + [label for label, _ in REGISTRY_ATTRS]:
            note(ids[label])
        # RQ 3.0 only: ReadyJobRegistry (rq:ready:<q>). Its cleanup() would *enqueue* jobs, so never call it.
        ready = getattr(queue, 'ready_job_registry', None)
        if ready is not None:
            ready_ids = registry_ids(ready)
            ready_out[queue.name] = {'count': registry_count(ready), 'ids': ready_ids}
            note(ready_ids)

    jobs_out = {}
    for job_id in seen:
        try:
            job = Job.fetch(job_id, connection=conn, serializer=serializer)
        except NoSuchJobError:
            jobs_out[job_id] = None  # dangling id: listed somewhere but no (valid) job hash
            continue
        jobs_out[job_id] = job_report(job)

    from rq import Worker

    workers = sorted(Worker.all(connection=conn, serializer=serializer), key=lambda w: w.name)

    emit(
        {
            'rq_version': rq.__version__,
            'queues': queues_out,
            'ready_registries': ready_out,  # {} before RQ 3.0
            'jobs': jobs_out,
            'workers': [worker_report(w) for w in workers],
            'suspended': bool(is_suspended(conn)),
        }
    )


# ---------------------------------------------------------------------------------------------------------
# long-running workers and enqueue
# ---------------------------------------------------------------------------------------------------------


def run_foreground_worker(conn, queue, name, serializer):
    die_with_parent_in_forks()
    worker_class = make_worker_class()
    worker = worker_class([queue], connection=conn, serializer=serializer, name=name)
    log.info('worker %s (pid %d) listening on %r', name, os.getpid(), queue.name)
    worker.work(burst=False)


def cmd_busy_worker(args):
    from rq import Queue

    import rqdash_jobs as jobs

    emit({'pid': os.getpid()})  # first thing, then our stdout is closed (EOF for the reader)
    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    # Default job timeout is 180 s, which would kill sleep(600) early; give it room. at_front=True makes the
    # worker pick this job first, so jobs already queued on Q (e.g. seeded ones) are left untouched: the
    # worker then stays busy with sleep(600) and never dequeues them.
    queue.enqueue(jobs.sleep, 600, job_id=args.job_id, job_timeout=args.job_timeout, at_front=True)
    run_foreground_worker(conn, queue, 'busy-worker', serializer)


def cmd_idle_worker(args):
    from rq import Queue

    emit({'pid': os.getpid()})
    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    run_foreground_worker(conn, queue, args.name, serializer)


def parse_cli_value(text):
    """'1' -> 1, '2.5' -> 2.5, 'null' -> None, '"x"' -> 'x', '[1,2]' -> [1, 2]; anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_enqueue(args):
    from rq import Queue

    import rqdash_jobs as jobs

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    func = getattr(jobs, args.func)
    options = {}
    if args.job_id:
        options['job_id'] = args.job_id
    if args.at_front:
        options['at_front'] = True
    if args.result_ttl is not None:
        options['result_ttl'] = args.result_ttl
    if args.retry is not None:
        from rq import Retry

        options['retry'] = Retry(max=args.retry)
    values = [parse_cli_value(a) for a in args.args]
    if args.schedule_in is not None:
        from datetime import timedelta

        job = queue.enqueue_in(timedelta(seconds=args.schedule_in), func, *values, **options)
        emit({'id': job.id, 'status': enum_value(job.get_status(refresh=False)), 'queue': queue.name})
        return
    if args.count > 1:
        if args.job_id:
            raise FixtureError('--job-id and --count > 1 do not go together')
        ids = [queue.enqueue(func, *values, **options).id for _ in range(args.count)]
        emit({'ids': ids, 'queue': queue.name})
        return
    job = queue.enqueue(func, *values, **options)
    emit({'id': job.id, 'status': enum_value(job.get_status(refresh=False)), 'queue': queue.name})


# ---------------------------------------------------------------------------------------------------------
# Actions done by RQ itself (the reference rqdash's actions are compared with), and a burst worker.
# ---------------------------------------------------------------------------------------------------------


def cmd_act(args):
    """Do one operator action through RQ's own Python API; prints {"ok": true, ...}."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import (
        CanceledJobRegistry,
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
    )

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    registries = {
        'failed': FailedJobRegistry,
        'finished': FinishedJobRegistry,
        'canceled': CanceledJobRegistry,
        'scheduled': ScheduledJobRegistry,
        'deferred': DeferredJobRegistry,
    }

    def fetch(job_id):
        return Job.fetch(job_id, connection=conn, serializer=serializer)

    what = args.action
    result = {'ok': True}
    if what == 'requeue':
        job = fetch(args.id)
        registry = FailedJobRegistry(job.origin, connection=conn, serializer=serializer)
        registry.requeue(job, at_front=args.at_front)
    elif what == 'cancel':
        fetch(args.id).cancel()
    elif what == 'delete':
        fetch(args.id).delete()
    elif what == 'enqueue-now':
        # What RQ's scheduler does with a due job: enqueue it and drop it from the registry.
        job = fetch(args.id)
        queue = Queue(job.origin, connection=conn, serializer=serializer)
        registry = ScheduledJobRegistry(job.origin, connection=conn, serializer=serializer)
        with conn.pipeline() as pipe:
            if getattr(job, 'has_rate_limit', False):
                # RQ 3.0's scheduler sends a rate-limited job through its limit.
                registry.remove(job.id, pipeline=pipe)
                queue._enqueue_rate_limited_job(job, pipeline=pipe, at_front=job.should_enqueue_at_front())
            elif hasattr(queue, '_enqueue_job'):
                queue._enqueue_job(job, pipeline=pipe, at_front=bool(job.enqueue_at_front))
            else:
                queue.enqueue_job(job, pipeline=pipe, at_front=bool(job.enqueue_at_front))
            registry.remove(job, pipeline=pipe)
            pipe.execute()
    elif what == 'empty':
        result['count'] = Queue(args.queue, connection=conn, serializer=serializer).empty()
    elif what == 'compact':
        Queue(args.queue, connection=conn, serializer=serializer).compact()
    elif what == 'requeue-all':
        registry = FailedJobRegistry(args.queue, connection=conn, serializer=serializer)
        ids = registry.get_job_ids()
        for job_id in ids:
            registry.requeue(job_id, at_front=args.at_front)
        result['count'] = len(ids)
    elif what == 'purge':
        # rq-dashboard's "empty registry": delete every job, drop ids whose job is gone.
        from rq.exceptions import NoSuchJobError

        registry = registries[args.registry](args.queue, connection=conn, serializer=serializer)
        for job_id in registry.get_job_ids():
            try:
                fetch(job_id).delete()
            except NoSuchJobError:
                registry.remove(job_id)
    elif what == 'suspend':
        from rq.suspension import suspend

        suspend(conn)
    elif what == 'resume':
        from rq.suspension import resume

        resume(conn)
    elif what == 'remove-queue':
        Queue(args.queue, connection=conn, serializer=serializer).delete(delete_jobs=False)
    else:
        raise FixtureError(f'unknown action {what!r}')
    emit(result)


# In the temp folder the caller gives (TMPDIR), so each test checks, and cleans, its own.
PWNED_FILE = os.path.join(tempfile.gettempdir(), 'rqdash-test-pickle-executed')


def cmd_hostile(args):
    """Write broken and hostile data, as other programs or old RQ versions may leave it, plus real RQ
    jobs with script payloads in every field. Prints {"queues": [...], "ids": [...], "pwned_file": ...}."""
    import zlib

    from rq import Queue, Worker

    import rqdash_jobs as jobs

    conn = connect(args.url)
    xss = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    ids = []

    def job(job_id, queue, fields, push=True):
        key = b'rq:job:' + job_id
        conn.hset(key, mapping=fields)
        if push:
            conn.rpush(b'rq:queue:' + queue, job_id)
            conn.sadd('rq:queues', b'rq:queue:' + queue)
        ids.append(job_id)

    # Real RQ: hostile text in the queue name, description, args, kwargs and meta, and a real failure.
    q = Queue(xss, connection=conn)
    j = q.enqueue(jobs.echo, xss, kw=xss, description=xss, meta={'owner': xss, xss: 1})
    ids.append(j.id.encode())
    q2 = Queue('hostile-failed', connection=conn)
    q2.enqueue(jobs.fail, xss, job_id='hostile-fails')
    w = Worker([q2], connection=conn, name='rqfixture-hostile-worker')
    w.work(burst=True)
    ids.append(b'hostile-fails')

    # A pickle that would run a command if anything unpickled it.
    evil = b"cos\nsystem\n(S'touch " + PWNED_FILE.encode() + b"'\ntR."
    job(b'evil-pickle', b'hostile', {
        'data': zlib.compress(evil), 'meta': evil, 'status': 'finished', 'origin': 'hostile',
        'description': 'pickle that runs a command', 'created_at': '2026-01-01T00:00:00.000000Z'})
    conn.xadd('rq:results:evil-pickle', {'type': '1', 'return_value': __import__('base64').b64encode(evil)})
    # Non-UTF-8 everywhere, invalid zlib, a broken pickle.
    job(b'bad-\xff\xfe-bytes', b'hostile', {
        'data': b'\x78\x9c garbage that is not zlib', 'status': b'\xff\xfe', 'origin': b'host\xffile',
        'description': b'caf\xe9 \xff\xfe \x00 nul', 'exc_info': b'\x78\x9c\x01\x02broken',
        'created_at': b'\xff'})
    job(b'broken-pickle', b'hostile', {
        'data': zlib.compress(b'\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00(\x8c\x03abc'),
        'meta': b'\x80\x05\x95garbage', 'status': 'queued', 'origin': 'hostile',
        'created_at': 'not-a-date', 'enqueued_at': '9999-99-99', 'ended_at': '2026-13-45T99:99:99Z'})
    # Unknown status, timestamps in other shapes, a 10 MB description, meta and traceback.
    big = 'A' * (10 * 1024 * 1024)
    job(b'huge-fields', b'hostile', {
        'data': zlib.compress(b'["x.y", null, [], {}]'), 'status': 'exploded', 'origin': 'hostile',
        'description': big, 'meta': big, 'exc_info': zlib.compress(big.encode()),
        'created_at': '2026-01-01 00:00:00', 'started_at': '1700000000'})
    # Ids with path tricks, NUL and markup, listed but with or without hashes.
    for odd in (b'../../etc/passwd', b'a\x00b', xss.encode(), b'%2e%2e%2f', b' '):
        job(odd, b'hostile', {'data': zlib.compress(b'[1]'), 'status': 'queued', 'origin': 'hostile',
                              'description': odd})
    conn.rpush(b'rq:queue:hostile', b'no-hash-here', b'')
    # Keys of the wrong type.
    conn.set('rq:queue:stringy', 'I am a string, not a list')
    conn.sadd('rq:queues', 'rq:queue:stringy', 'garbage-member-without-prefix')
    conn.hset('rq:failed:stringy', 'not', 'a zset')
    conn.set('rq:wip:stringy', 'nope')
    conn.rpush('rq:job:wrongtype', 'a', 'list')
    conn.rpush('rq:queue:hostile', 'wrongtype')
    conn.zadd('rq:failed:hostile', {'wrongtype': 1, 'evil-pickle': 2, 'huge-fields': 3, 'bad-\xff': 4})
    conn.set('rq:results:huge-fields', 'not a stream')
    conn.xadd('rq:results:broken-pickle', {'type': '2', 'exc_string': 'not base64 !!!', 'return_value': '%%%'})
    conn.xadd('rq:results:broken-pickle', {'type': 'x', 'execution_started_at': 'soon'})
    conn.set('rq:job::broken-pickle:dependencies', 'wrong type')
    # Workers: hostile names and fields, a worker key of the wrong type.
    conn.sadd('rq:workers', 'rq:worker:' + xss, 'rq:worker:stringy', 'rq:worker:\xff')
    conn.hset('rq:worker:' + xss, mapping={
        'state': xss, 'queues': xss + ',' + 'a,b', 'pid': 'NaN', 'birth': 'yesterday',
        'last_heartbeat': '2026-02-30T25:61:61.000000Z', 'current_job': '../../etc/passwd',
        'successful_job_count': '-5', 'total_working_time': 'inf', 'python_version': xss})
    conn.set('rq:worker:stringy', 'string')
    conn.hset('rq:worker:\xff', mapping={'state': b'\xff', 'queues': b'\xfe'})
    emit({'queues': ['hostile', 'stringy', xss, 'hostile-failed'],
          'ids': [i.decode('utf-8', 'replace') for i in ids], 'pwned_file': PWNED_FILE})


def cmd_burst(args):
    """Run a burst worker on the given queues until they are empty; prints {"ok": true}."""
    from rq import Queue

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    queues = [Queue(q, connection=conn, serializer=serializer) for q in args.queues]
    worker_class = make_worker_class()
    worker = worker_class(queues, connection=conn, serializer=serializer, name=args.name)
    worker.work(burst=True)
    emit({'ok': True})


def cmd_make_jobs(args):
    """Create COUNT `add(1, 2)` jobs on QUEUE quickly, through RQ's API in pipelines. With --failed they
    are created as RQ records a failure (status failed, in the FailedJobRegistry, not in the queue)
    without running them; otherwise they are enqueued. Prints {"count": N}."""
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry

    import rqdash_jobs as jobs

    conn = connect(args.url)
    serializer = get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    registry = FailedJobRegistry(args.queue, connection=conn, serializer=serializer)
    made = 0
    batch = 2000
    while made < args.count:
        n = min(batch, args.count - made)
        if args.failed:
            with conn.pipeline() as pipe:
                for i in range(n):
                    job = Job.create(jobs.add, args=(1, 2), connection=conn, serializer=serializer,
                                     origin=queue.name, id=f'{args.prefix}{made + i}')
                    job.set_status(JobStatus.FAILED, pipeline=pipe)
                    job.save(pipeline=pipe)
                    registry.add(job, pipeline=pipe)
                pipe.sadd(queue.redis_queues_keys, queue.key)
                pipe.execute()
        else:
            datas = [Queue.prepare_data(jobs.add, args=(1, 2), job_id=f'{args.prefix}{made + i}') for i in range(n)]
            queue.enqueue_many(datas)
        made += n
    emit({'count': made})


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--url', required=True, help='redis://127.0.0.1:PORT/DB')
    common.add_argument(
        '--json-serializer',
        action='store_true',
        help='use rq.serializers.JSONSerializer instead of pickle (must match what seeded the data)',
    )

    parser = argparse.ArgumentParser(prog='rqfixture.py', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    p = sub.add_parser('seed', parents=[common], help='build the deterministic scenario in an empty database')
    p.set_defaults(handler=cmd_seed)

    p = sub.add_parser('oracle', parents=[common], help="report RQ's own view of the database as JSON")
    p.set_defaults(handler=cmd_oracle)

    p = sub.add_parser('busy-worker', parents=[common], help='enqueue sleep(600) and run worker "busy-worker"')
    p.add_argument('--queue', required=True)
    p.add_argument('--job-id', required=True)
    p.add_argument('--job-timeout', type=int, default=900,
                   help='the job\'s timeout (a test that kills the worker mid-job sets it short)')
    p.set_defaults(handler=cmd_busy_worker)

    p = sub.add_parser('idle-worker', parents=[common], help='run a non-burst worker until killed')
    p.add_argument('--queue', required=True)
    p.add_argument('--name', required=True)
    p.set_defaults(handler=cmd_idle_worker)

    p = sub.add_parser('enqueue', parents=[common], help='enqueue one job')
    p.add_argument('--queue', required=True)
    p.add_argument('--func', required=True, choices=['add', 'fail', 'sleep', 'echo', 'charge', 'notify'])
    p.add_argument('--args', nargs='*', default=[], help='positional args; each parsed as JSON if possible')
    p.add_argument('--job-id')
    p.add_argument('--at-front', action='store_true')
    p.add_argument('--count', type=int, default=1, help='enqueue this many identical jobs; prints {"ids": [...]}')
    p.add_argument('--result-ttl', type=int, help="the jobs' result_ttl (0: no finished-registry entry)")
    p.add_argument('--schedule-in', type=int, help='schedule it this many seconds ahead (negative: already due)')
    p.add_argument('--retry', type=int, help='Retry(max=N): a failure is retried at once, N times')
    p.set_defaults(handler=cmd_enqueue)

    p = sub.add_parser('act', parents=[common], help="do one operator action through RQ's own API")
    p.add_argument('--action', required=True)
    p.add_argument('--id')
    p.add_argument('--queue')
    p.add_argument('--registry')
    p.add_argument('--at-front', action='store_true')
    p.set_defaults(handler=cmd_act)

    p = sub.add_parser('make-jobs', parents=[common], help='create COUNT add(1, 2) jobs fast (queued, or --failed)')
    p.add_argument('--queue', required=True)
    p.add_argument('--count', type=int, required=True)
    p.add_argument('--prefix', default='bulk-')
    p.add_argument('--failed', action='store_true')
    p.set_defaults(handler=cmd_make_jobs)

    p = sub.add_parser('hostile', parents=[common], help='write broken and hostile data (other programs, old RQ)')
    p.set_defaults(handler=cmd_hostile)

    p = sub.add_parser('burst', parents=[common], help='run a burst worker on QUEUES until they are empty')
    p.add_argument('--queues', nargs='+', required=True)
    p.add_argument('--name', default='rqdash-burst-worker')
    p.set_defaults(handler=cmd_burst)

    import rqfixture_newer  # RQ 2.x/3.0 state: cron, scheduler locks, groups, rate limits, retries, executions

    rqfixture_newer.register(sub, common, sys.modules[__name__])

    import rqfixture_search  # search: failed jobs of a few kinds, and the oracle of each search

    rqfixture_search.register(sub, common, sys.modules[__name__])

    import rqfixture_concurrency  # the concurrency suite: counted runs, a producer, maintenance on a signal

    rqfixture_concurrency.register(sub, common, sys.modules[__name__])

    import rqfixture_redact  # redaction: jobs holding secrets everywhere job data shows, and a busy worker

    rqfixture_redact.register(sub, common, sys.modules[__name__])
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: argparse prints to stderr and exits 2

    _redirect_stdout_to_stderr()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format='%(asctime)s %(name)s %(levelname)s %(message)s'
    )
    try:
        args.handler(args)
    except FixtureError as exc:
        print(f'rqfixture: error: {exc}', file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        hint = ''
        if type(exc).__name__ == 'DeserializationError':
            hint = ' (was the data written with a different serializer? check --json-serializer)'
        print(f'rqfixture: error: {type(exc).__name__}: {exc}{hint}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
