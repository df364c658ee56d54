"""Scale: 10,000 queues and 10,000 workers, written by real RQ, viewed in headless Chromium.

    bench/scale.sh [--queues 10000] [--workers 10000]        # installs what is missing, builds, runs
    .venv/rq-2.12.0/bin/python bench/scale.py [--queues 10000] [--workers 10000] \
        [--binary target/release/rqdash] [--live-seconds 30] [--seconds 10]

Issue 12's targets, for the overview and the workers page with 10,000 rows: page load ≤ 500 ms in
headless Chromium, main thread busy ≤ 5 % while the page stays open and polls, ≤ 30 KB gzipped per
poll; plus the server side (req/s, p99). rq-dashboard 0.9 has no search and renders every queue,
so its overview is measured beside rqdash's on the same data.

What it does, and cleans up on exit (also on an error or Ctrl-C):
1. Starts a private redis-server on a free port (never 6379) and fills it through RQ 2.12's own
   API: `--queues` queues (5 % emptied with Queue.empty, 55 % idle with only finished jobs, 30 %
   with a few queued jobs, 9 % with tens, 1 % with a backlog of hundreds; 11 % with failed jobs,
   2 % with scheduled jobs) and `--workers` workers registered with Worker.register_birth, each on
   1 to 3 queues, 40 to a host; 2 % of them took a job (dequeue, prepare_execution,
   prepare_job_execution: busy, with a started job). A thread sends the workers' heartbeats
   every 60 s, as live workers do, so none goes stale during the run.
2. Runs rqdash (the release binary), then rq-dashboard 0.9 (`.venv/rq-dashboard`), each on a free
   port, one after the other.
3. Drives Debian's headless Chromium through chromedriver (WebDriver over HTTP, standard library
   only). For rqdash's overview (`/0/view/queues`), rqdash's workers page (`/0/view/workers`) and
   rq-dashboard's overview (`/`, whose table is filled by JavaScript from `queues.json`):
   - page load: `loadEventEnd - startTime` of the navigation entry, and "rows visible": the
     time from navigation start until the list's first row is in the DOM and one frame has been
     drawn after it (a MutationObserver installed before the page's own scripts, then
     requestAnimationFrame + setTimeout). Median of `--loads` loads after one warm-up load
     (HTTP cache warm, as for anyone who has opened the dashboard before);
   - DOM nodes (`document.getElementsByTagName('*').length`) and list rows;
   - main thread busy while live: the page stays open `--live-seconds` while it polls; busy is
     the growth of CDP `Performance.getMetrics` TaskDuration over that wall time;
   - bytes per poll: every request the page made while live (Resource Timing: body size on the
     wire and decoded), and the polled URL fetched once more here with `Accept-Encoding: gzip`
     (and htmx's headers), raw and gzipped. rq-dashboard does not compress, so its gzipped size
     is what it would be if a proxy compressed it;
   - the dashboard process's CPU and Redis commands per second during the live window.
4. Server side: wrk (bench.py's helper: 16 connections, `--seconds`, no Accept-Encoding) on each
   page and on what it polls. An endpoint whose single answer takes longer than
   `--seconds` / 16 (rq-dashboard's `queues.json` on this data) cannot finish under 16
   connections within wrk's 30 s timeout, so it is timed with sequential requests instead
   (the table says so).
5. Prints a markdown table and writes bench/scale-results.md and bench/scale-results.json.

Needs redis-server, wrk, chromium, chromium-driver, the RQ 2.12.0 venv and `.venv/rq-dashboard`
(bench/scale.sh installs and creates them). Not part of the test suite.
"""

import argparse
import contextlib
import gzip
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

sys.dont_write_bytecode = True  # no bench/__pycache__ left behind
from bench import free_port, log, wait_http, write_results, wrk  # noqa: E402 - bench/bench.py, beside this file
import seed as seeder  # noqa: E402 - bench/seed.py, beside this file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'py'))

TARGET_LOAD_MS = 500
TARGET_BUSY_PCT = 5.0
TARGET_POLL_GZIP_KB = 30.0

SERVICES = ['emails', 'reports', 'billing', 'webhooks', 'exports', 'thumbnails', 'sync',
            'search-index', 'notifications', 'imports']
WORKERS_PER_HOST = 40
HEARTBEAT_EVERY = 60  # seconds; RQ's worker TTL is 420 s


# ---------------------------------------------------------------------------------------------
# Data: real RQ writes
# ---------------------------------------------------------------------------------------------

def queue_names(n):
    """`emails-0000`, `reports-0000`, …: ten services, n // 10 tenants each."""
    return [f'{SERVICES[i % len(SERVICES)]}-{i // len(SERVICES):04d}' for i in range(n)]


def plan_queues(names, seed=12):
    """What each queue holds: a spread where most queues are empty or nearly so."""
    rng = random.Random(seed)
    plan = []
    for name in names:
        r = rng.random()
        if r < 0.05:
            kind, queued, finished = 'emptied', 0, 0
        elif r < 0.60:
            kind, queued, finished = 'idle', 0, rng.randint(1, 3)
        elif r < 0.90:
            kind, queued, finished = 'light', rng.randint(1, 5), rng.randint(0, 10)
        elif r < 0.99:
            kind, queued, finished = 'busy', rng.randint(10, 100), rng.randint(5, 30)
        else:
            kind, queued, finished = 'backlog', rng.randint(200, 1000), rng.randint(10, 50)
        f = rng.random()
        failed = rng.randint(100, 500) if f < 0.01 else rng.randint(1, 20) if f < 0.11 else 0
        scheduled = rng.randint(1, 5) if rng.random() < 0.02 else 0
        plan.append(dict(name=name, kind=kind, queued=queued, finished=finished, failed=failed,
                         scheduled=scheduled))
    return plan


def seed_queues(url, plan):
    """Writes the planned jobs of some queues through RQ's API, a few hundred queues per pipeline:
    Queue.enqueue_many for queued jobs; Job.create + save + the registry's `add` and a Result for
    finished and failed ones, as a worker records them (without running 200,000 jobs);
    Queue.schedule_job for scheduled ones; Queue.empty for the emptied queues."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry, FinishedJobRegistry
    from rq.results import Result
    from rq.utils import now

    import rqdash_jobs as jobs

    # The parent cleans up on Ctrl-C or SIGTERM and ends this daemon process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn = Redis.from_url(url)
    t_end = now()
    for start in range(0, len(plan), 200):
        with conn.pipeline() as pipe:
            for p in plan[start:start + 200]:
                q = Queue(p['name'], connection=conn)
                name = p['name']
                n = max(p['queued'], 1 if p['kind'] == 'emptied' else 0)
                if n:
                    q.enqueue_many([Queue.prepare_data(jobs.add, args=(i, 2), job_id=f'{name}-q{i}',
                                                       description=f'add({i}, 2) for {name}')
                                    for i in range(n)], pipeline=pipe)
                for i in range(p['finished']):
                    job = Job.create(jobs.add, args=(i, 3), connection=conn, origin=name,
                                     id=f'{name}-d{i}', result_ttl=86400)
                    job.started_at = t_end - timedelta(seconds=2)
                    job.ended_at = t_end
                    job.set_status(JobStatus.FINISHED, pipeline=pipe)
                    job.save(pipeline=pipe)
                    Result.create(job, Result.Type.SUCCESSFUL, ttl=86400, return_value=i + 3,
                                  worker_name='seed', pipeline=pipe)
                    FinishedJobRegistry(name, connection=conn).add(job, ttl=86400, pipeline=pipe)
                for i in range(p['failed']):
                    job = Job.create(jobs.fail, args=(f'upstream {i} refused',), connection=conn,
                                     origin=name, id=f'{name}-f{i}')
                    job.started_at = t_end - timedelta(seconds=1)
                    job.ended_at = t_end
                    job.set_status(JobStatus.FAILED, pipeline=pipe)
                    job.save(pipeline=pipe)
                    tb = ('Traceback (most recent call last):\n  File "rqdash_jobs.py", line 20, in fail\n'
                          f'ValueError: upstream {i} refused\n')
                    Result.create_failure(job, ttl=None, exc_string=tb, worker_name='seed', pipeline=pipe)
                    FailedJobRegistry(name, connection=conn).add(job, pipeline=pipe)
                for i in range(p['scheduled']):
                    job = q.create_job(jobs.echo, args=(f'report {i}',), job_id=f'{name}-s{i}')
                    q.schedule_job(job, t_end + timedelta(hours=1 + i), pipeline=pipe)
                if p['finished'] or p['failed']:
                    pipe.sadd(q.redis_queues_keys, q.key)
            pipe.execute()
        for p in plan[start:start + 200]:
            if p['kind'] == 'emptied':
                Queue(p['name'], connection=conn).empty()


class Workers:
    """`n` RQ workers registered with RQ's own API (Worker.register_birth, set_state, heartbeat),
    each listening to 1–3 queues, 40 to a host; every 50th took a job from its queue as a worker
    does (dequeue, prepare_execution, prepare_job_execution) and is busy. A thread sends every
    worker's heartbeat each minute while the benchmark runs."""

    def __init__(self, url, n, names, queued):
        from redis import Redis
        from rq import Queue, Worker

        self.conn = Redis.from_url(url)
        self.idle, self.busy = [], []  # busy: (worker, job)
        self.stop = threading.Event()
        with_jobs = [q for q in names if queued.get(q)]
        for start in range(0, n, 1000):
            batch = []
            for i in range(start, min(n, start + 1000)):
                host = i // WORKERS_PER_HOST
                if i % 50 == 0 and with_jobs:
                    qnames = [with_jobs[(i // 50) % len(with_jobs)]]
                else:
                    first = (i * 37) % len(names)
                    qnames = [names[(first + k * 101) % len(names)] for k in range(1 + i % 3)]
                w = Worker([Queue(q, connection=self.conn) for q in qnames], connection=self.conn,
                           name=f'worker-{i:05d}@host-{host:03d}', prepare_for_work=False)
                w.hostname = f'host-{host:03d}.prod.example'
                w.pid = 10_000 + i
                w.ip_address = f'10.1.{host // 256}.{host % 256}:{40_000 + i % WORKERS_PER_HOST}'
                w.register_birth()
                batch.append((i, w))
            with self.conn.pipeline() as pipe:
                for _, w in batch:
                    w.set_state('idle', pipeline=pipe)
                    w.increment_successful_job_count(pipeline=pipe)
                    w.increment_total_working_time(timedelta(seconds=1.5), pipeline=pipe)
                    w.heartbeat(pipeline=pipe)
                pipe.execute()
            for i, w in batch:
                if i % 50 == 0 and with_jobs:
                    got = Queue.dequeue_any(w.queues, None, connection=self.conn)
                    if got:
                        job, _ = got
                        w.prepare_execution(job)
                        w.prepare_job_execution(job, remove_from_intermediate_queue=True)
                        self.busy.append((w, job))
                        continue
                self.idle.append(w)
        self.thread = threading.Thread(target=self._beat, daemon=True)
        self.thread.start()

    def _beat(self):
        while not self.stop.wait(HEARTBEAT_EVERY):
            with self.conn.pipeline() as pipe:
                for w in self.idle:
                    w.heartbeat(pipeline=pipe)
                pipe.execute()
            for w, job in self.busy:
                w.maintain_heartbeats(job)

    def close(self):
        self.stop.set()
        self.thread.join(5)


def seed(url, n_queues):
    """Writes the queues' jobs with two processes (the machine has two cores) and returns the plan."""
    plan = plan_queues(queue_names(n_queues))
    seeder.in_two_processes(seed_queues, url, plan)
    return plan


# ---------------------------------------------------------------------------------------------
# Processes: Redis, the two dashboards, Chromium
# ---------------------------------------------------------------------------------------------

def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after `timeout` s; always waits for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (utime and stime of /proc/<pid>/stat)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Redis:
    """A private redis-server on a free port (never 6379) that writes nothing to disk (no RDB, no
    AOF, its log discarded), so an interrupted run leaves no file behind."""

    def __init__(self):
        from redis import Redis as Client

        self.port = free_port()
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', tempfile.gettempdir(),
             '--save', '', '--appendonly', 'no', '--logfile', ''],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f'redis://127.0.0.1:{self.port}/0'
        self.conn = Client(port=self.port)
        for _ in range(100):
            if self.proc.poll() is not None:
                break
            try:
                self.conn.ping()
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        stop_process(self.proc)
        raise SystemExit('redis-server did not start')

    def calls(self):
        """Commands Redis has run so far (INFO commandstats), without INFO itself."""
        info = self.conn.info('commandstats')
        return sum(v['calls'] for k, v in info.items() if k != 'cmdstat_info')

    def stop(self):
        stop_process(self.proc)


class Dashboard:
    """rqdash (the release binary) or rq-dashboard 0.9 on a free port, on the given Redis."""

    def __init__(self, kind, redis_url, binary):
        self.kind = kind
        self.port = free_port()
        self.base = f'http://127.0.0.1:{self.port}'
        env = dict(os.environ)
        if kind == 'rqdash':
            cmd = [binary, '-u', redis_url, '-p', str(self.port)]
            env['RUST_LOG'] = 'warn'
            ready = '/healthz'
        else:
            cmd = [os.path.join(ROOT, '.venv', 'rq-dashboard', 'bin', 'rq-dashboard'), '-u', redis_url,
                   '-b', '127.0.0.1', '-p', str(self.port)]
            ready = '/'  # its queues.json takes longer than wait_http's 2 s per try
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.startup = wait_http(self.base + ready, self.proc, timeout=300)
        if kind == 'rqdash':
            # Its first read of Redis starts at start-up: let it finish, so that the first page
            # measured is a first visit (empty HTTP cache), not the first page since start-up.
            http_get(self.base + '/0/data/queues.json')

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        stop_process(self.proc)


class WebDriverError(RuntimeError):
    pass


class Chromium:
    """Debian's headless Chromium behind chromedriver, spoken to over WebDriver's HTTP protocol.

    Everything Chromium writes (profile, home, temp files) stays in a temp dir of its own; on
    close the session is deleted, chromedriver stopped, and every process still naming that dir
    in its command line or environment (Chromium's helpers, its crash handler) is ended by pid."""

    def __init__(self, width=1366, height=900):
        self.dir = tempfile.mkdtemp(prefix='rqdash-scale-chromium-')
        self.tmp = tempfile.mkdtemp(prefix='rqs')  # short: Chromium puts a unix socket there
        home = os.path.join(self.dir, 'home')
        os.makedirs(home)
        env = dict(os.environ, TMPDIR=self.tmp, HOME=home, XDG_CONFIG_HOME=os.path.join(home, '.config'),
                   XDG_CACHE_HOME=os.path.join(home, '.cache'), XDG_DATA_HOME=os.path.join(home, '.local/share'),
                   RQDASH_SCALE_BROWSER=self.dir)
        port = free_port()
        self.base = f'http://127.0.0.1:{port}'
        self.session = None
        self.driver = subprocess.Popen([shutil.which('chromedriver') or '/usr/bin/chromedriver', f'--port={port}'],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
        for _ in range(200):
            if self.driver.poll() is not None:
                raise SystemExit(f'chromedriver exited: {self.driver.returncode}')
            with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', port), timeout=1):
                break
            time.sleep(0.05)
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'pageLoadStrategy': 'normal',
            'timeouts': {'pageLoad': 300_000, 'script': 120_000},
            'goog:chromeOptions': {
                'binary': shutil.which('chromium') or '/usr/bin/chromium',
                'args': ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
                         '--no-first-run', '--disable-background-networking', '--disable-component-update',
                         '--disable-sync', '--disable-dev-shm-usage', f'--window-size={width},{height}',
                         f'--user-data-dir={os.path.join(self.dir, "profile")}'],
            },
        }}}
        self.session = self._request('POST', '/session', caps)['sessionId']

    def _request(self, method, path, body=None, timeout=330):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())['value']
        except urllib.error.HTTPError as e:
            raise WebDriverError(f'webdriver {method} {path}: {e.read()[:500]!r}') from None

    def call(self, method, path, body=None):
        return self._request(method, f'/session/{self.session}{path}', body)

    def goto(self, url):
        """Navigates and returns once the load event has fired."""
        self.call('POST', '/url', {'url': url})

    def eval(self, script, *args):
        return self.call('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def cdp(self, cmd, params=None):
        """A Chrome DevTools Protocol command, through chromedriver."""
        return self.call('POST', '/goog/cdp/execute', {'cmd': cmd, 'params': params or {}})

    def metrics(self):
        return {m['name']: m['value'] for m in self.cdp('Performance.getMetrics')['metrics']}

    def close(self):
        if self.session:
            with contextlib.suppress(Exception):
                self._request('DELETE', f'/session/{self.session}', timeout=30)
            self.session = None
        stop_process(self.driver, timeout=5)
        for pid in self._leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _leftovers(self):
        """Pids of processes that still name this browser's dir (command line or environment)."""
        mark = self.dir.encode()
        pids = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            for part in ('cmdline', 'environ'):
                try:
                    with open(f'/proc/{entry}/{part}', 'rb') as f:
                        if mark in f.read():
                            pids.append(int(entry))
                            break
                except OSError:
                    pass
        return pids


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

# Installed before the page's own scripts: notes when the first list row enters the DOM, then when
# the next frame has been produced after it.
ROWS_OBSERVER = r'''
(function (selector) {
  var mark = {dom: null, painted: null};
  window.__rqdashScale = mark;
  var observer = new MutationObserver(check);
  function check() {
    if (mark.dom !== null || !document.querySelector(selector)) return;
    mark.dom = performance.now();
    observer.disconnect();
    requestAnimationFrame(function () { setTimeout(function () { mark.painted = performance.now(); }, 0); });
  }
  observer.observe(document, {childList: true, subtree: true});
})(%s);
'''

PAGE_STATE = r'''
var sel = arguments[0];
var n = performance.getEntriesByType('navigation')[0];
var mark = window.__rqdashScale || {};
return {
  load_ms: n.loadEventEnd - n.startTime,
  dcl_ms: n.domContentLoadedEventEnd - n.startTime,
  ttfb_ms: n.responseStart - n.startTime,
  rows_dom_ms: mark.dom, rows_painted_ms: mark.painted,
  html_wire: n.encodedBodySize, html_raw: n.decodedBodySize,
  nodes: document.getElementsByTagName('*').length,
  rows: document.querySelectorAll(sel).length,
  visibility: document.visibilityState
};
'''

RESOURCES = r'''
return performance.getEntriesByType('resource').map(function (e) {
  return {url: e.name, start_ms: e.startTime, ms: e.duration, wire: e.encodedBodySize, raw: e.decodedBodySize};
});
'''


def http_get(url, headers=None, timeout=300):
    """GET: status, headers (looked up case-insensitively) and the body as sent."""
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers, r.read()


def poll_size(url, page_url, target):
    """Fetches a polled URL as the page does and returns its raw and gzipped size in bytes (the
    server's own gzip when it sends one, else gzip level 6 here) and whether the server sent it
    compressed."""
    headers = {'Accept-Encoding': 'gzip'}
    if target:  # htmx's headers
        headers.update({'HX-Request': 'true', 'HX-Current-URL': page_url, 'HX-Target': target,
                        'HX-Trigger': target})
    _, h, body = http_get(url, headers)
    if (h.get('Content-Encoding') or '').lower() == 'gzip':
        return dict(raw=len(gzip.decompress(body)), gzip=len(body), server_gzip=True)
    return dict(raw=len(body), gzip=len(gzip.compress(body, 6)), server_gzip=False)


def measure_page(browser, server, redis, label, path, row_sel, poll_match, loads, live_seconds):
    """Page load, rows visible, DOM size, then `live_seconds` open: main thread busy, what it
    polled, the server's CPU and Redis commands per second meanwhile."""
    url = server.base + path
    script = browser.cdp('Page.addScriptToEvaluateOnNewDocument',
                         {'source': ROWS_OBSERVER % json.dumps(row_sel)})['identifier']
    samples = []
    try:
        for i in range(loads + 1):
            t = time.perf_counter()
            browser.goto(url)
            deadline = time.time() + 300
            while not browser.eval('var m = window.__rqdashScale; return !!(m && m.painted !== null);'):
                if time.time() > deadline:
                    raise SystemExit(f'{label}: no row matching {row_sel} within 300 s')
                time.sleep(0.02)
            s = browser.eval(PAGE_STATE, row_sel)
            s['wall_ms'] = (time.perf_counter() - t) * 1000
            log(f'  {label} load {i}{" (warm-up)" if i == 0 else ""}: load {s["load_ms"]:.0f} ms, '
                f'rows visible {s["rows_painted_ms"]:.0f} ms, {s["rows"]} rows, {s["nodes"]} nodes')
            samples.append(s)
    finally:
        browser.cdp('Page.removeScriptToEvaluateOnNewDocument', {'identifier': script})
    measured = samples[1:] or samples

    # Live: the last loaded page stays open and polls.
    browser.eval('performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings();')
    browser.cdp('Performance.enable')
    m0, c0, r0 = browser.metrics(), server.cpu(), redis.calls()
    time.sleep(live_seconds)
    m1, c1, r1 = browser.metrics(), server.cpu(), redis.calls()
    wall = m1['Timestamp'] - m0['Timestamp']
    resources = browser.eval(RESOURCES)
    end_state = browser.eval(PAGE_STATE, row_sel)
    pollers = browser.eval("return Array.from(document.querySelectorAll('[data-poll][hx-get]'))"
                           ".map(function (e) { return [e.getAttribute('hx-get'), e.id]; });")
    browser.cdp('Performance.disable')
    polls = [r for r in resources if poll_match in r['url']]
    busy = {k: (m1[k] - m0[k]) / wall * 100 for k in
            ('TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration')}
    requests = {}  # what the page fetched while live, by path
    for r in resources:
        path = urllib.parse.urlsplit(r['url']).path
        e = requests.setdefault(path, dict(count=0, wire=0, raw=0, ms=0.0))
        e['count'] += 1
        e['wire'] += r['wire']
        e['raw'] += r['raw']
        e['ms'] += r['ms']
    for e in requests.values():
        e.update(wire=e['wire'] / e['count'], raw=e['raw'] / e['count'], ms=e['ms'] / e['count'])

    # One poll = every live element's request (rqdash: the list and the problems panel, each an
    # htmx poll); rq-dashboard: its queue list.
    targets = [(urllib.parse.urljoin(url, u), t) for u, t in pollers] or [(server.base + poll_match, None)]
    sizes = {u: poll_size(u, url, t) for u, t in targets}
    size = dict(raw=sum(v['raw'] for v in sizes.values()), gzip=sum(v['gzip'] for v in sizes.values()),
                server_gzip=any(v['server_gzip'] for v in sizes.values()))
    res = dict(
        url=url,
        load_ms=statistics.median(s['load_ms'] for s in measured),
        load_max_ms=max(s['load_ms'] for s in measured),
        rows_visible_ms=statistics.median(s['rows_painted_ms'] for s in measured),
        rows_visible_max_ms=max(s['rows_painted_ms'] for s in measured),
        rows_in_dom_ms=statistics.median(s['rows_dom_ms'] for s in measured),
        ttfb_ms=statistics.median(s['ttfb_ms'] for s in measured),
        cold=samples[0], loads=measured,
        rows=measured[-1]['rows'], nodes=measured[-1]['nodes'],
        nodes_after_live=end_state['nodes'], visibility=end_state['visibility'],
        html_raw=measured[-1]['html_raw'], html_wire=measured[-1]['html_wire'],
        live_seconds=wall, busy_pct=busy['TaskDuration'], busy_breakdown_pct=busy,
        js_heap_mb=m1['JSHeapUsedSize'] / 1e6,
        polls=len(polls), poll_sizes=sizes, live_requests=requests,
        poll_raw=size['raw'], poll_gzip=size['gzip'], poll_server_gzip=size['server_gzip'],
        server_cpu_pct=(c1 - c0) / wall * 100, redis_cmds_per_s=(r1 - r0) / wall,
    )
    log(f'  {label} live {wall:.0f} s: main thread busy {res["busy_pct"]:.1f} %, {len(polls)} polls, '
        f'poll {size["raw"]:,} B raw / {size["gzip"]:,} B gzip, server CPU {res["server_cpu_pct"]:.1f} %, '
        f'Redis {res["redis_cmds_per_s"]:,.0f} cmds/s')
    return res


def measure_server(server, redis, label, path, seconds):
    """wrk (bench.py's helper: 16 connections) on one URL, unless a single answer takes so long
    that 16 connections cannot finish within wrk's timeout: then `max(5, …)` sequential GETs."""
    url = server.base + path
    t = time.perf_counter()
    http_get(url)  # warm up, and time one answer
    single = time.perf_counter() - t
    before = redis.calls()
    if single * 16 < min(seconds, 25):
        r = wrk(url, seconds)
        r['method'] = f'wrk, 16 connections, {seconds} s'
    else:
        times = []
        t0 = time.perf_counter()
        while len(times) < 5 or time.perf_counter() - t0 < seconds:
            t = time.perf_counter()
            http_get(url)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        r = dict(rps=len(times) / (time.perf_counter() - t0), total=len(times),
                 p50=statistics.median(times), p99=times[min(len(times) - 1, int(len(times) * 0.99))],
                 errors=0, timeouts=0,
                 method=f'{len(times)} sequential GETs (one answer takes {single:.1f} s: 16 connections '
                        f'would wait ~{16 * single:.0f} s each)')
    r['redis_per_req'] = (redis.calls() - before) / max(1, r['total'])
    r['path'] = path
    log(f'  {label:34} {r["rps"]:10.1f} req/s  p50 {fmt_ms(r["p50"])}  p99 {fmt_ms(r["p99"])}  '
        f'redis/req {r["redis_per_req"]:.1f}  ({r["method"]})')
    return r


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return '—'
    return f'{v:.2f} ms' if v < 10 else f'{v:,.0f} ms'


def kb(v):
    return '—' if v is None else f'{v / 1024:,.1f} KB'


def verdict(ok):
    return '✓' if ok else '✗'


# (label, dashboard, page path, list row selector, substring of the polled URL, server-side paths)
PAGES = [
    ('rqdash overview', 'rqdash', '/0/view/queues', '#queues tbody tr[data-queue]', '/fragments/overview',
     [('page', '/0/view/queues'), ('poll', '/0/fragments/overview')]),
    ('rqdash workers', 'rqdash', '/0/view/workers', '#worker-list tbody tr[data-worker]', '/fragments/workers',
     [('page', '/0/view/workers'), ('poll', '/0/fragments/workers')]),
    ('rq-dashboard overview', 'rq-dashboard', '/', 'table#queues tbody tr[data-role=queue]', '/0/data/queues.json',
     [('poll', '/0/data/queues.json'), ('page', '/')]),
]


def table(results):
    d = results['data']
    lines = [
        f'Measured {results["when"]} on this machine (2 cores shared by Redis, the dashboard, Chromium '
        f'and wrk; release build). Data written by RQ 2.12.0: {d["queues"]:,} queues '
        f'({d["empty_queues"]:,} with nothing queued), {d["queued"]:,} queued, {d["failed"]:,} failed, '
        f'{d["finished"]:,} finished, {d["scheduled"]:,} scheduled, {d["started"]:,} started jobs; '
        f'{d["workers"]:,} workers ({d["busy"]} busy) on {d["hosts"]} hosts; seeded in {d["seconds"]:.0f} s.',
        '',
        f'| page | page load (load event) | rows visible | first visit (empty cache): rows visible | rows shown | DOM nodes '
        f'| main thread busy while live | bytes per poll, all live parts (raw / gzip) | polls in '
        f'{results["live_seconds"]} s | server req/s | server p99 |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for label, *_ in PAGES:
        b = results['browser'].get(label)
        s = results['server'].get(label, {})
        if not b:
            continue
        main = s.get('page' if label.startswith('rqdash') else 'poll') or {}
        visible = max(b['load_ms'], b['rows_visible_ms'])
        first = max(b['cold']['load_ms'], b['cold']['rows_painted_ms'])
        gz = f'{kb(b["poll_gzip"])}' + ('' if b['poll_server_gzip'] else ' (if compressed: sent raw)')
        lines.append(
            f'| {label} | {fmt_ms(b["load_ms"])} | {fmt_ms(b["rows_visible_ms"])} '
            f'{verdict(visible <= TARGET_LOAD_MS)} | {fmt_ms(first)} {verdict(first <= TARGET_LOAD_MS)} | '
            f'{b["rows"]:,} | {b["nodes"]:,} | '
            f'{b["busy_pct"]:.1f} % {verdict(b["busy_pct"] <= TARGET_BUSY_PCT)} | '
            f'{kb(b["poll_raw"])} / {gz} {verdict(b["poll_gzip"] / 1024 <= TARGET_POLL_GZIP_KB)} | '
            f'{b["polls"]} | {main.get("rps", 0):,.1f} | {fmt_ms(main.get("p99"))} |')
    lines.append(f'| **target** | | **≤ {TARGET_LOAD_MS} ms** | **≤ {TARGET_LOAD_MS} ms** | | | '
                 f'**≤ {TARGET_BUSY_PCT:.0f} %** | '
                 f'**≤ {TARGET_POLL_GZIP_KB:.0f} KB gzip** | | | |')
    lines += [
        '',
        'Page load is the navigation entry\'s `loadEventEnd`; rows visible is the time from navigation start '
        'until the first list row is in the DOM and a frame has been drawn after it (rq-dashboard fills '
        'its table from `queues.json` after the load event), median of '
        f'{results["loads"]} loads with a warm HTTP cache; "first visit" is the load before them (for '
        'the first page of each dashboard, with an empty HTTP cache). Main thread busy is CDP TaskDuration over '
        f'{results["live_seconds"]} s with the page open and polling. Bytes per poll: the polled URL '
        'fetched with `Accept-Encoding: gzip` (and htmx\'s headers for rqdash). Server req/s and p99: '
        'rqdash\'s page, rq-dashboard\'s `queues.json` (its overview is a shell that loads it).',
        '',
        '| page | time to first byte | rows in DOM | HTML (wire / raw) | DOM nodes after live | JS heap | '
        'script / layout / style % | dashboard CPU while live | Redis cmds/s while live |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for label, *_ in PAGES:
        b = results['browser'].get(label)
        if not b:
            continue
        br = b['busy_breakdown_pct']
        lines.append(
            f'| {label} | {fmt_ms(b["ttfb_ms"])} | {fmt_ms(b["rows_in_dom_ms"])} | {kb(b["html_wire"])} / '
            f'{kb(b["html_raw"])} | {b["nodes_after_live"]:,} | {b["js_heap_mb"]:.1f} MB | '
            f'{br["ScriptDuration"]:.1f} / {br["LayoutDuration"]:.1f} / {br["RecalcStyleDuration"]:.1f} | '
            f'{b["server_cpu_pct"]:.1f} % | {b["redis_cmds_per_s"]:,.0f} |')
    lines += [
        '',
        '| what one poll fetches | URL | raw | gzip | requests while live (browser) | mean on the wire (browser) '
        '| mean answer time (browser) |',
        '|---|---|---:|---:|---:|---:|---:|',
    ]
    for label, *_ in PAGES:
        b = results['browser'].get(label)
        if not b:
            continue
        for u, size in b['poll_sizes'].items():
            path = urllib.parse.urlsplit(u).path
            seen = b['live_requests'].get(path, {})
            lines.append(f'| {label} | `{path}` | {kb(size["raw"])} | {kb(size["gzip"])}'
                         f'{"" if size["server_gzip"] else " (if compressed)"} | {seen.get("count", 0)} | '
                         f'{kb(seen.get("wire"))} | {fmt_ms(seen.get("ms"))} |')
    lines += [
        '',
        '| server side | URL | req/s | p50 | p99 | Redis cmds/req | how |',
        '|---|---|---:|---:|---:|---:|---|',
    ]
    for label, *_ in PAGES:
        for what, r in results['server'].get(label, {}).items():
            lines.append(f'| {label} {what} | `{r["path"]}` | {r["rps"]:,.1f} | {fmt_ms(r["p50"])} | '
                         f'{fmt_ms(r["p99"])} | {r["redis_per_req"]:,.1f} | {r["method"]} |')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------------------------

def run(args, stack):
    results = {'when': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), 'live_seconds': args.live_seconds,
               'loads': args.loads, 'browser': {}, 'server': {}}
    redis = Redis()
    stack.callback(redis.stop)
    log(f'redis-server on port {redis.port}; seeding {args.queues:,} queues and {args.workers:,} workers '
        'with RQ 2.12.0…')
    t = time.time()
    plan = seed(redis.url, args.queues)
    log(f'  queues and jobs written in {time.time() - t:.0f} s')
    t1 = time.time()
    names = [p['name'] for p in plan]
    workers = Workers(redis.url, args.workers, names, {p['name']: p['queued'] for p in plan})
    stack.callback(workers.close)
    log(f'  workers registered in {time.time() - t1:.0f} s')
    conn = redis.conn
    with conn.pipeline(transaction=False) as pipe:
        for n in names:
            pipe.llen(f'rq:queue:{n}')
        lengths = pipe.execute()
    results['data'] = dict(
        queues=conn.scard('rq:queues'), workers=conn.scard('rq:workers'), busy=len(workers.busy),
        hosts=-(-args.workers // WORKERS_PER_HOST),
        empty_queues=lengths.count(0), queued=sum(lengths),
        failed=sum(p['failed'] for p in plan), finished=sum(p['finished'] for p in plan),
        scheduled=sum(p['scheduled'] for p in plan), started=len(workers.busy),
        seconds=time.time() - t, redis_memory=conn.info('memory')['used_memory_human'])
    log(f'  {results["data"]}')

    browser = Chromium()
    stack.callback(browser.close)
    for kind in ('rqdash', 'rq-dashboard'):
        server = Dashboard(kind, redis.url, args.binary)
        log(f'{kind} on port {server.port}, answered {server.startup * 1000:.0f} ms after start')
        try:
            for label, k, path, row_sel, poll_match, server_paths in PAGES:
                if k != kind:
                    continue
                results['browser'][label] = measure_page(browser, server, redis, label, path, row_sel, poll_match,
                                                         args.loads, args.live_seconds)
            browser.goto('about:blank')
            for label, k, path, row_sel, poll_match, server_paths in PAGES:
                if k != kind:
                    continue
                results['server'][label] = {what: measure_server(server, redis, f'{label} {what}', p, args.seconds)
                                            for what, p in server_paths}
        finally:
            server.stop()
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--queues', type=int, default=10_000)
    p.add_argument('--workers', type=int, default=10_000)
    p.add_argument('--binary', default=os.path.join(os.environ.get('CARGO_TARGET_DIR', os.path.join(ROOT, 'target')),
                                                    'release', 'rqdash'))
    p.add_argument('--loads', type=int, default=3, help='measured page loads per page (after one warm-up)')
    p.add_argument('--live-seconds', type=int, default=30, help='how long each page stays open polling')
    p.add_argument('--seconds', type=int, default=10, help='wrk duration per URL')
    p.add_argument('--out', default=os.path.join(HERE, 'scale-results.md'))
    args = p.parse_args()
    if not os.path.exists(args.binary):
        raise SystemExit(f'{args.binary} is missing: cargo build --release --locked (or run bench/scale.sh)')

    # SIGINT (even when a shell started us in the background with it ignored), SIGTERM and SIGHUP
    # (unless nohup ignores it) unwind, so everything started below is stopped.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f'signal {signum}')
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
        signal.signal(signal.SIGHUP, interrupted)

    try:
        with contextlib.ExitStack() as stack:
            results = run(args, stack)
    except KeyboardInterrupt:
        log('interrupted: everything the benchmark started has been stopped')
        raise SystemExit(130) from None
    write_results(args.out, table(results), results)


if __name__ == '__main__':
    main()
