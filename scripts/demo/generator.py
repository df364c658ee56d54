"""Keeps the demo's Redis busy with a realistic mix of RQ jobs, through RQ's own API.

Run by scripts/demo.sh as ``generator.py --url redis://...``; stops on SIGINT/SIGTERM. Every
second or so it enqueues some of:

  high     charge_card         ~1 in 5 fails (PaymentDeclined)
  default  process_order       succeeds
  default  import_record       some fail deep in the stack (KeyError, ValueError, ZeroDivisionError)
  emails   send_email          flaky, with Retry(max=3, interval=[2, 5, 10]): few fail for good
  default  sync_stock          every 10 s, one warehouse in three; Rotterdam's times out (TimeoutError),
                               the first within seconds, no retry
  emails   send_reminder       scheduled a while ahead (enqueue_in)
  reports  build_report        slow (3-8 s), one worker: the queue backs up (kept under 40)
  emails   email_report        deferred until its report is done (depends_on)
  default  resize_image        a batch of 6 in an RQ Group every 20 s, one fails
  archive  archive_logs        nobody listens to this queue (kept under 30)
"""

import argparse
import random
import signal
import sys
import time
from datetime import timedelta

from redis import Redis
from rq import Queue, Retry

import demo_jobs as jobs

SKUS = ['mug', 'tee', 'poster', 'sticker', 'hoodie', 'cap']
WAREHOUSES = ['rotterdam', 'berlin', 'lyon']  # the first one's API is down: a timeout at once
CUSTOMERS = ['ana@example.com', 'bo@example.com', 'chen@example.com', 'dara@example.com', 'eli@example.com']

stopping = False


def stop(signum, frame):
    global stopping
    stopping = True


def bad_or_good_record(n):
    record = {'sku': random.choice(SKUS), 'quantity': random.randint(1, 5), 'total': random.randint(5, 90)}
    roll = random.random()
    if roll < 0.07:
        del record['sku']  # KeyError: 'sku'
    elif roll < 0.12:
        record['quantity'] = 'two'  # ValueError: invalid literal for int()
    elif roll < 0.16:
        record['quantity'] = 0  # ZeroDivisionError
    record['line'] = n
    return record


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    conn = Redis.from_url(args.url)
    conn.ping()
    q = {name: Queue(name, connection=conn) for name in ['high', 'default', 'emails', 'reports', 'archive']}
    group_cls = None
    try:
        from rq.group import Group

        group_cls = Group
    except ImportError:  # RQ < 2.0 has no groups
        pass

    n = 0
    while not stopping:
        n += 1
        order = f'order-{1000 + n}'
        items = [(random.choice(SKUS), round(random.uniform(4, 40), 2), random.randint(1, 3)) for _ in range(random.randint(1, 4))]
        q['default'].enqueue(jobs.process_order, order, items, description=f'process {order}')
        q['high'].enqueue(jobs.charge_card, order, round(sum(p * k for _, p, k in items), 2))
        for _ in range(random.randint(1, 3)):
            q['default'].enqueue(jobs.import_record, bad_or_good_record(n))
        if n % 2 == 0:
            q['emails'].enqueue(
                jobs.send_email,
                random.choice(CUSTOMERS),
                f'Your order {order}',
                retry=Retry(max=3, interval=[2, 5, 10]),
            )
        if n % 10 == 3:
            q['default'].enqueue(jobs.sync_stock, WAREHOUSES[(n // 10) % len(WAREHOUSES)])
        if n % 3 == 0:
            q['emails'].enqueue_in(
                timedelta(seconds=random.randint(20, 180)), jobs.send_reminder, random.choice(CUSTOMERS)
            )
        if n % 3 == 1 and q['reports'].count < 40:
            name = f'sales-{n}'
            report = q['reports'].enqueue(jobs.build_report, name, random.randint(3, 8), job_timeout=60)
            if n % 2 == 1:
                q['emails'].enqueue(jobs.email_report, name, depends_on=report)
        if n % 5 == 1 and q['archive'].count < 30:
            q['archive'].enqueue(jobs.archive_logs, f'2026-01-{n % 28 + 1:02d}')
        if group_cls is not None and n % 20 == 1:
            batch = group_cls.create(connection=conn, name=f'upload-batch-{n // 20 + 1}')
            batch.enqueue_many(
                q['default'],
                [Queue.prepare_data(jobs.resize_image, (f'img-{n}{i}', 800)) for i in range(2, 8)],
            )
        time.sleep(1.0)
    print('generator: stopped', file=sys.stderr)


if __name__ == '__main__':
    main()
