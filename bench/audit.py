"""The audit trail at its default cap: its size in Redis and what reading it costs.

Starts its own redis-server on a free port and an rqdash (``RQDASH``, default
target/release/rqdash) on another, fills ``rqdash:rq:audit`` with 100,000 entries shaped as
rqdash writes them (``--audit-max-entries``' default), then measures:

- the stream's ``MEMORY USAGE``;
- ``audit.json``: the newest page; a filter that matches nothing, so the request reads its
  limit of 20,000 entries; and a page deep in the trail (``before``);
- ``audit.csv`` of every ``requeue`` entry (half the trail);
- an action's answer, the trail's write included (a POST of an unknown job, 404: no RQ work, so
  what is left is rqdash's own cost; the entry is appended after the answer).

Run: ``python3 bench/audit.py`` (needs a release build and redis-server). Prints a table and
writes bench/audit.md.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENTRIES = 100_000


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def resp(*args):
    out = b'*%d\r\n' % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b'$%d\r\n%s\r\n' % (len(a), a)
    return out


def fill(port):
    """XADDs ENTRIES entries through redis-cli --pipe (no Python Redis client needed)."""
    cmds = bytearray()
    for i in range(ENTRIES):
        action = 'requeue' if i % 2 else 'delete'
        job = '3f2b8c9e-1d2a-4b5c-9e8f-%012d' % i
        cmds += resp('XADD', 'rqdash:rq:audit', '*',
                     'time', '2026-12-07T16:04:55.027Z', 'user', 'user%d@example.com' % (i % 50),
                     'roles', 'operator', 'address', '10.1.2.%d' % (i % 250), 'action', action,
                     'target', 'job ' + job, 'outcome', 'done', 'status', '200',
                     'message', '%s job %s of “emails”' % (action, job), 'queue', 'emails',
                     'count', '1')
    subprocess.run(['redis-cli', '-p', str(port), '--pipe'], input=bytes(cmds), check=True,
                   stdout=subprocess.DEVNULL)


def cli(port, *args):
    return subprocess.run(['redis-cli', '-p', str(port), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def timed(url, n=20, method='GET', headers=None):
    ms = []
    body = b''
    for _ in range(n):
        req = urllib.request.Request(url, method=method, data=b'' if method == 'POST' else None)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            body = e.read()
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms), body


def main():
    binary = os.environ.get('RQDASH', os.path.join(ROOT, 'target', 'release', 'rqdash'))
    tmp = tempfile.mkdtemp(prefix='rqdash-bench-audit-')
    rport, dport = free_port(), free_port()
    redis = subprocess.Popen(['redis-server', '--port', str(rport), '--save', '', '--dir', tmp],
                             stdout=subprocess.DEVNULL)
    dash = None
    try:
        time.sleep(0.5)
        fill(rport)
        size = int(cli(rport, 'MEMORY', 'USAGE', 'rqdash:rq:audit', 'SAMPLES', '0'))
        length = int(cli(rport, 'XLEN', 'rqdash:rq:audit'))
        dash = subprocess.Popen([binary, '-u', f'redis://127.0.0.1:{rport}', '-p', str(dport)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f'http://127.0.0.1:{dport}'
        for _ in range(100):
            try:
                urllib.request.urlopen(base + '/healthz', timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        rows = []
        newest, _ = timed(base + '/0/data/audit.json')
        rows.append(('audit.json, newest 50', newest))
        needle, body = timed(base + '/0/data/audit.json?user=nobody', n=10)
        scanned = json.loads(body)['scanned']
        rows.append((f'audit.json, a filter matching none of the newest {scanned:,}', needle))
        page = json.loads(timed(base + '/0/data/audit.json?limit=1000', n=1)[1])
        deep = page['next']
        deep_ms, _ = timed(base + f'/0/data/audit.json?before={deep}', n=10)
        rows.append(('audit.json, the page after the first 1,000', deep_ms))
        csv_ms, body = timed(base + '/0/data/audit.csv?action=requeue', n=3)
        lines = body.count(b'\n') - 1
        rows.append((f'audit.csv of {lines:,} requeue entries', csv_ms))
        origin = {'Origin': base}
        act_ms, _ = timed(base + '/0/job/no-such-job/requeue', n=50, method='POST',
                          headers=origin)
        rows.append(('POST of an unknown job (404), entry appended', act_ms))
        out = [
            '# The audit trail at its default cap (`bench/audit.py`)',
            '',
            f'{length:,} entries shaped as rqdash writes them take **{size / 1e6:.1f} MB** in '
            f'Redis ({size / length:.0f} bytes each; `MEMORY USAGE`).',
            '',
            '| request | median ms |',
            '|---|---:|',
        ] + [f'| {name} | {ms:.1f} |' for name, ms in rows]
        text = '\n'.join(out) + '\n'
        print(text)
        with open(os.path.join(HERE, 'audit.md'), 'w') as f:
            f.write(text)
    finally:
        if dash:
            dash.terminate()
            dash.wait()
        redis.terminate()
        redis.wait()
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
