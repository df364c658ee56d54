#!/usr/bin/env python3
"""What a test run left behind.

scripts/test.sh runs the suite with TMPDIR set to a fresh folder named rqdash-test-run.XXXXXXXX.
Every temp dir a test makes is in that folder, so every process a test starts carries the folder's
name: in its environment (TMPDIR, inherited by everything it starts) or, for programs that overwrite
their environment with a process title (redis-server, Chromium's helpers), on its command line
(their data dir). See tests/api/support/process.rs.

  leftovers.py RUN_DIR [--group PGID]
                               After the run. Lists every live process whose command line or
                               environment holds RUN_DIR's name, every live process still in process
                               group PGID (the one `cargo test` ran in: this catches a process that
                               dropped the marker, e.g. renamed itself and cleared its environment),
                               and everything inside RUN_DIR. Then ends those processes (SIGKILL),
                               removes RUN_DIR, and exits 1 if it found anything, 0 if not.
  leftovers.py --list MARKER   Prints the live processes holding MARKER, one JSON object a line;
                               ends nothing (tests/api/harness.rs checks helpers carry the marker).

Zombies are not counted: they hold nothing but a pid, and init reaps them.
"""

import json
import os
import shutil
import signal
import sys
import time


def ancestors():
    """This process and its ancestors: the caller is not a leftover, even if it carries the marker."""
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        try:
            with open(f'/proc/{pid}/stat', 'rb') as f:
                stat = f.read()
            pid = int(stat[stat.rindex(b')') + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


def carrying(marker, group=None):
    """Live processes (not this one or its callers, not zombies) whose command line or environment
    holds marker, or which are in process group `group`."""
    needle = marker.encode()
    skip = ancestors()
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) in skip:
            continue
        pid = int(name)
        try:
            with open(f'/proc/{pid}/stat', 'rb') as f:
                stat = f.read()
            # "pid (comm) S ppid ...": comm may hold spaces and parentheses.
            fields = stat[stat.rindex(b')') + 2:].split()
            state, ppid, pgid = fields[0].decode(), int(fields[1]), int(fields[2])
            if state in ('Z', 'X'):
                continue
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                environ = f.read()
        except OSError:
            environ = b''
        where = [w for w, text in (('command line', cmdline), ('environment', environ)) if needle in text]
        if group is not None and pgid == group:
            where.append('process group')
        if where:
            found.append({
                'pid': pid,
                'ppid': ppid,
                'found_in': where,
                'cmdline': cmdline.replace(b'\0', b' ').decode('utf-8', 'replace').strip(),
            })
    return found


def files_in(run_dir):
    out = []
    for root, dirs, files in os.walk(run_dir):
        for n in sorted(dirs) + sorted(files):
            out.append(os.path.relpath(os.path.join(root, n), run_dir) + ('/' if n in dirs else ''))
    return out


def check(run_dir, group=None):
    run_dir = os.path.abspath(run_dir)
    marker = os.path.basename(run_dir.rstrip('/'))
    if not marker.startswith('rqdash-test-run.') or len(marker) <= len('rqdash-test-run.'):
        print(f'leftovers.py: {run_dir} is not a test run folder (rqdash-test-run.*)', file=sys.stderr)
        return 2
    procs = carrying(marker, group)
    files = files_in(run_dir) if os.path.isdir(run_dir) else []
    if procs:
        group_note = f' or in process group {group}' if group is not None else ''
        print(f'LEFT BEHIND: {len(procs)} process(es) still carrying {marker}{group_note}:')
        for p in procs:
            print(f"  pid {p['pid']} (parent {p['ppid']}, found by its {' and '.join(p['found_in'])}): "
                  f"{p['cmdline'][:300]}")
    if files:
        print(f'LEFT BEHIND: {len(files)} file(s) in {run_dir}:')
        for f in files[:100]:
            print(f'  {f}')
        if len(files) > 100:
            print(f'  ... and {len(files) - 100} more')
    # Clean up, so a failing check does not itself leave things behind.
    for p in procs:
        try:
            os.kill(p['pid'], signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    survivors = carrying(marker, group)
    while survivors and time.monotonic() < deadline:
        time.sleep(0.1)
        survivors = carrying(marker, group)
    for p in survivors:
        print(f"  pid {p['pid']} survived SIGKILL: {p['cmdline'][:300]}")
    shutil.rmtree(run_dir, ignore_errors=True)
    if os.path.exists(run_dir):
        print(f'  could not remove {run_dir}')
    return 1 if procs or files else 0


def main(argv):
    if len(argv) == 3 and argv[1] == '--list':
        for p in carrying(argv[2]):
            print(json.dumps(p))
        return 0
    if len(argv) == 2 and not argv[1].startswith('-'):
        return check(argv[1])
    if len(argv) == 4 and not argv[1].startswith('-') and argv[2] == '--group' and argv[3].isdigit():
        return check(argv[1], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
