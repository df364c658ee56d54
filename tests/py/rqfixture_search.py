"""rqfixture subcommands for search: failed jobs of a few kinds written by a real RQ worker, and an
oracle that answers each search with RQ's own Python API.

Loaded by rqfixture.py (``register(sub, common, fixture_module)``), like rqfixture_newer.py. The
oracle's rules are the dashboard's (documented in src/rq/search.rs), computed independently here
from what RQ's API returns:

- every text criterion is a plain, case-insensitive substring;
- func: ``job.func_name``; exc: the last non-empty line of ``job.exc_info`` (the latest FAILED
  result's traceback, else the hash's); q: ``job.description``, or ``repr`` of an argument, or
  ``name=repr(value)`` of a keyword argument; worker: ``job.worker_name``;
- since/until (inclusive): ``job.ended_at``, else ``job.enqueued_at``, else ``job.created_at``.
"""

import time
import warnings
from datetime import datetime, timezone

fx = None  # the rqfixture module, set by register()

QUEUES = ('search-a', 'search-b')
REGEXY = 'price [x] $5.* (ünï✓)'


def _enqueue_batch(queue_a, queue_b, jobs, batch):
    """Enqueue one batch of failing (and a few succeeding) jobs on both queues; returns ids by kind."""
    ids = {}

    def put(kind, queue, func, *args, **kwargs):
        job = queue.enqueue(func, *args, **kwargs)
        ids.setdefault(kind, []).append(job.id)

    for i in range(4):
        put('charge', queue_a, jobs.charge, f'cust-{batch}{i}', 10 + i)
    put('charge', queue_b, jobs.charge, f'cust-{batch}9', 99)
    for i in range(3):
        put('notify', queue_a, jobs.notify, f'user-{batch}{i}')
    put('notify', queue_b, jobs.notify, f'user-{batch}9', channel='sms')
    put('fail', queue_a, jobs.fail, 'disk full')
    put('fail', queue_b, jobs.fail, REGEXY)
    # A custom description: only the argument text can find this one.
    put('described', queue_b, jobs.fail, f'order-{batch}77', description='nightly batch')
    put('add', queue_a, jobs.add, 1, 2)
    return ids


def cmd_search_seed(args):
    """Two batches, a second apart, each run by a real burst worker per queue. Prints the ids by kind
    and batch, and `split`: a time between the two batches."""
    from rq import Queue

    import rqdash_jobs as jobs

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    qa = Queue(QUEUES[0], connection=conn, serializer=serializer)
    qb = Queue(QUEUES[1], connection=conn, serializer=serializer)
    worker_class = fx.make_worker_class()
    out = {}
    for batch, split_after in (('1', True), ('2', False)):
        out[batch] = _enqueue_batch(qa, qb, jobs, batch)
        for q, name in ((qa, 'search-w1'), (qb, 'search-w2')):
            worker_class([q], connection=conn, serializer=serializer, name=f'{name}-{batch}').work(burst=True)
        if split_after:
            time.sleep(1.1)
            out['split'] = fx.iso(datetime.now(timezone.utc))
            time.sleep(1.1)
    fx.emit(out)


def _parse_time(text):
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        pass
    t = datetime.fromisoformat(text.replace('Z', '+00:00'))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _aware(dt):
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _last_line(text):
    for line in reversed((text or '').splitlines()):
        if line.strip():
            return line.strip()
    return ''


def _job_ids(queue, registry_name):
    if registry_name == 'queued':
        return list(queue.job_ids)
    attr = dict(fx.REGISTRY_ATTRS)[registry_name]
    return fx.registry_ids(getattr(queue, attr))


def cmd_search_oracle(args):
    """Answer one search with RQ's API: {"total", "ids", "times": {id: epoch seconds}}."""
    from rq import Queue
    from rq.job import Job

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    if args.queue in (None, '', '*'):
        queues = Queue.all(connection=conn, serializer=serializer)
    else:
        queues = [Queue(args.queue, connection=conn, serializer=serializer)]
    low = lambda s: (s or '').strip().lower()  # noqa: E731
    func, exc, q, worker = low(args.func), low(args.exc), low(args.q), low(args.worker)
    since, until = _parse_time(args.since), _parse_time(args.until)
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for queue in queues:
            ids = _job_ids(queue, args.registry)
            for job in Job.fetch_many(ids, connection=conn, serializer=serializer):
                if job is None:
                    continue
                t = _aware(job.ended_at) or _aware(job.enqueued_at) or _aware(job.created_at)
                if func and func not in job.func_name.lower():
                    continue
                if exc:
                    text = job.exc_info
                    if isinstance(text, bytes):
                        text = text.decode('utf-8', 'replace')
                    if exc not in _last_line(text).lower():
                        continue
                if q:
                    texts = [job.description or '']
                    texts += [repr(a) for a in job.args]
                    texts += [f'{k}={v!r}' for k, v in job.kwargs.items()]
                    if not any(q in s.lower() for s in texts):
                        continue
                if worker and worker not in (job.worker_name or '').lower():
                    continue
                if since and (t is None or t < since):
                    continue
                if until and (t is None or t > until):
                    continue
                found[job.id] = t.timestamp() if t else None
    ids = sorted(found, key=lambda i: -(found[i] or 0))
    fx.emit({'total': len(found), 'ids': ids, 'times': found})


def cmd_search_jobs(args):
    """RQ's view of some jobs: {id: {"status", "origin", "results"}} (results: entries in the stream)."""
    from rq.job import Job

    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    out = {}
    for job_id, job in zip(args.ids, Job.fetch_many(args.ids, connection=conn, serializer=serializer)):
        if job is None:
            out[job_id] = None
            continue
        try:
            results = len(job.results())
        except Exception:  # noqa: BLE001 - no results API
            results = None
        out[job_id] = {
            'status': fx.enum_value(job.get_status(refresh=False)),
            'origin': job.origin,
            'results': results,
        }
    fx.emit(out)


def register(sub, common, fixture_module):
    """Add this module's subcommands to rqfixture's argparse `sub`; `fixture_module` is rqfixture."""
    global fx
    fx = fixture_module

    p = sub.add_parser('search-seed', parents=[common], help='failed jobs of a few kinds on two queues, by real workers')
    p.set_defaults(handler=cmd_search_seed)

    p = sub.add_parser('search-oracle', parents=[common], help="one search's matches, by RQ's own API")
    p.add_argument('--queue', default='*')
    p.add_argument('--registry', default='failed')
    for name in ('func', 'exc', 'q', 'worker', 'since', 'until'):
        p.add_argument(f'--{name}', default='')
    p.set_defaults(handler=cmd_search_oracle)

    p = sub.add_parser('search-jobs', parents=[common], help="RQ's view of some jobs' status and results")
    p.add_argument('--ids', nargs='+', required=True)
    p.set_defaults(handler=cmd_search_jobs)

