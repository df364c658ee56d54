"""rqfixture subcommand for redaction (tests/api/redaction.rs): jobs whose arguments, keyword
arguments (a nested dict too), meta, return value and traceback hold given secrets, written and run
by real RQ.

Loaded by rqfixture.py (``register(sub, common, fixture_module)``), like rqfixture_search.py. Two
secrets, so that each rule is tested on its own: ``--secret`` is placed as free text (a positional
argument, inside strings of meta, the return value and an exception's message), for the dashboard's
``--redact-pattern``; ``--key-secret`` is placed only under key names (``api_key``, ``password``,
``token``), at several depths, for ``--redact-key``.
"""

import os
from datetime import timedelta

fx = None  # the rqfixture module, set by register()

IDS = {
    'call': 'secret-call',
    'result': 'secret-result',
    'failure': 'secret-failure',
    'scheduled': 'secret-scheduled',
    'deferred': 'secret-deferred',
}
BUSY_ID = 'secret-busy'


def _call(secret, key_secret):
    """Positional and keyword arguments holding both secrets."""
    args = (secret, [1, {'note': 'see ' + secret}])
    kwargs = {
        'api_key': key_secret,
        'profile': {'name': 'ann', 'password': key_secret, 'nested': {'token': key_secret, 'n': 1}},
    }
    return args, kwargs


def _meta(secret, key_secret):
    return {'token': key_secret, 'note': 'owner ' + secret, 'deep': [{'password': key_secret}]}


def cmd_plant_secret(args):
    """Plant the jobs, run a burst worker on the queue, check what RQ made of them, print the ids."""
    from rq import Queue
    from rq.job import Job

    import rqdash_jobs as jobs

    secret, key_secret = args.secret, args.key_secret
    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    call_args, call_kwargs = _call(secret, key_secret)

    def with_meta(job_id, func, *a, **kw):
        job = queue.enqueue(func, *a, job_id=job_id, meta=_meta(secret, key_secret), **kw)
        job.meta.update(_meta(secret, key_secret))
        job.save_meta()
        return job

    # Run by a real worker: one returns the secrets, one raises with them in its message.
    with_meta(IDS['result'], jobs.reveal, *call_args, **call_kwargs)
    queue.enqueue(jobs.fail, f'bad credentials {secret} for token={key_secret}', job_id=IDS['failure'])
    worker_class = fx.make_worker_class()
    worker_class([queue], connection=conn, serializer=serializer, name=args.worker_name).work(burst=True)
    fx.check_statuses(conn, serializer, {IDS['result']: 'finished', IDS['failure']: 'failed'},
                      'after the burst worker')
    result = Job.fetch(IDS['result'], connection=conn, serializer=serializer).return_value()
    if secret not in repr(result) or key_secret not in repr(result):
        raise fx.FixtureError(f'{IDS["result"]}: the return value holds no secret: {result!r}')
    failure = Job.fetch(IDS['failure'], connection=conn, serializer=serializer)
    if secret not in (failure.exc_info or ''):
        raise fx.FixtureError(f'{IDS["failure"]}: the traceback holds no secret: {failure.exc_info!r}')

    # Left waiting: queued, scheduled, and deferred behind the queued one.
    with_meta(IDS['call'], jobs.reveal, *call_args, **call_kwargs)
    queue.enqueue_in(timedelta(hours=1), jobs.reveal, *call_args, job_id=IDS['scheduled'], **call_kwargs)
    queue.enqueue(jobs.reveal, *call_args, job_id=IDS['deferred'], depends_on=IDS['call'], **call_kwargs)
    fx.check_statuses(conn, serializer, {IDS['call']: 'queued', IDS['scheduled']: 'scheduled',
                                         IDS['deferred']: 'deferred'}, 'after planting')
    fx.emit({'rq_version': '.'.join(map(str, fx.rq_version_tuple())), 'queue': queue.name, 'ids': IDS,
             'worker': args.worker_name})


def cmd_secret_worker(args):
    """Print {"pid": N}, enqueue ``hold(600, api_key=KEY_SECRET, note='for SECRET')`` at the front of
    the queue and run a worker on it until killed (a running job whose description holds both)."""
    from rq import Queue

    import rqdash_jobs as jobs

    fx.emit({"pid": os.getpid()})
    conn = fx.connect(args.url)
    serializer = fx.get_serializer(args.json_serializer)
    queue = Queue(args.queue, connection=conn, serializer=serializer)
    queue.enqueue(jobs.hold, 600, api_key=args.key_secret, note='for ' + args.secret, job_id=BUSY_ID,
                  job_timeout=900, at_front=True)
    fx.run_foreground_worker(conn, queue, args.worker_name, serializer)


def register(sub, common, fixture_module):
    """Add this module's subcommands to rqfixture's argparse `sub`; `fixture_module` is rqfixture."""
    global fx
    fx = fixture_module

    p = sub.add_parser('plant-secret', parents=[common],
                       help='jobs holding secrets in args, kwargs, meta, a result and a traceback, by a real worker')
    p.add_argument('--secret', required=True, help='placed as free text (for --redact-pattern)')
    p.add_argument('--key-secret', required=True, help='placed under key names only (for --redact-key)')
    p.add_argument('--queue', default='secrets')
    p.add_argument('--worker-name', default='secret-burst-worker')
    p.set_defaults(handler=cmd_plant_secret)

    p = sub.add_parser('secret-worker', parents=[common],
                       help='run a worker busy with a job whose description holds both secrets')
    p.add_argument('--secret', required=True)
    p.add_argument('--key-secret', required=True)
    p.add_argument('--queue', default='secrets-busy')
    p.add_argument('--worker-name', default='secret-busy-worker')
    p.set_defaults(handler=cmd_secret_worker)
