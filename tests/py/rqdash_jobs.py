"""Job functions for the rqdash integration-test fixtures.

Workers import these by their dotted names (``rqdash_jobs.add`` and so on), so this directory
(tests/py) must be on ``sys.path`` of every worker process. ``rqfixture.py`` adds it itself.

Keep the module free of side effects at import time: it is imported by the fixture process
and again (already imported, via fork) inside RQ work horses.
"""

import time


def add(a, b):
    """Return ``a + b``."""
    return a + b


def fail(message):
    """Always raise ``ValueError(message)``; the traceback ends with ``ValueError: <message>``."""
    raise ValueError(message)


def sleep(seconds):
    """Sleep for ``seconds`` (float ok), then return ``'slept'``."""
    time.sleep(float(seconds))
    return 'slept'


def echo(value):
    """Return ``value`` unchanged."""
    return value


def reveal(*args, **kwargs):
    """Return every argument: ``{'args': [...], 'kwargs': {...}}`` (redaction fixtures: the return
    value holds whatever secret the call was given)."""
    return {'args': list(args), 'kwargs': kwargs}


def hold(seconds, **kwargs):
    """Sleep for ``seconds``, then return ``'held'``; the keyword arguments only show in the job's
    description (redaction fixtures: a running job whose description holds a secret)."""
    time.sleep(float(seconds))
    return 'held'


def retry_later(seconds):
    """Return ``rq.Retry(max=2, interval=seconds)``: RQ 2.x+ then records a RETRIED result and schedules
    the job again (it is not a failure)."""
    from rq import Retry

    return Retry(max=2, interval=int(seconds))


def charge(customer, amount):
    """Always raise ``TimeoutError``: a partner API that does not answer (search fixtures)."""
    raise TimeoutError(f'partner API timed out charging {customer} {amount}')


def notify(user, channel='email'):
    """Always raise ``LookupError``: no address for ``user`` on ``channel`` (search fixtures)."""
    raise LookupError(f'no address for {user} on {channel}')


# The concurrency suite (tests/api/concurrency.rs) counts each run of its jobs in this hash of the
# test's own Redis (job id -> runs), written by the job itself as it runs.
RUNS_KEY = 'rqtest:runs'


def _count_run():
    from rq import get_current_job

    job = get_current_job()
    job.connection.hincrby(RUNS_KEY, job.id, 1)


def count_then_fail():
    """Count this run in ``rqtest:runs``, then raise ``ValueError``: a job that fails every time."""
    _count_run()
    raise ValueError('failed again')


def count_then_sleep(seconds):
    """Count this run in ``rqtest:runs``, sleep ``seconds``, return ``'slept'``."""
    _count_run()
    time.sleep(float(seconds))
    return 'slept'
