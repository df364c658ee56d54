"""Job functions of the live demo (scripts/demo.sh). RQ workers import them by dotted name
(``demo_jobs.process_order`` ...), so scripts/demo is on their import path (``rq worker --path``).

They stand in for a small shop's background work: most succeed, some fail with a few kinds of
exception (so the failed list has real tracebacks to group), some are slow. No side effects at
import time: work horses import this module again after the fork.
"""

import random
import time


class PaymentDeclined(Exception):
    """A card payment the (pretend) provider refused."""


def process_order(order_id, items):
    """Total an order: succeeds, returns a small dict."""
    time.sleep(random.uniform(0.05, 0.4))
    total = round(sum(price * qty for _, price, qty in items), 2)
    return {'order_id': order_id, 'items': len(items), 'total': total}


def charge_card(order_id, amount):
    """Charge a card; about one in five is declined (PaymentDeclined)."""
    time.sleep(random.uniform(0.05, 0.3))
    if random.random() < 0.2:
        raise PaymentDeclined(f'card declined for order {order_id} ({amount:.2f} EUR): insufficient funds')
    return {'order_id': order_id, 'charged': amount}


def _lookup(record, field):
    return record[field]


def _parse(record):
    quantity = int(_lookup(record, 'quantity'))
    return {'sku': _lookup(record, 'sku'), 'unit_price': record['total'] / quantity}


def import_record(record):
    """Parse one imported record. Bad records fail deep in the stack with KeyError, ValueError or
    ZeroDivisionError, depending on what is wrong with them."""
    time.sleep(random.uniform(0.02, 0.2))
    return _parse(record)


def send_email(to, subject):
    """Send a mail through a flaky (pretend) SMTP relay: sometimes it times out or refuses. Enqueued
    with ``Retry``, so a failure is retried after an interval before the job fails for good."""
    time.sleep(random.uniform(0.1, 0.5))
    roll = random.random()
    if roll < 0.25:
        raise TimeoutError(f'SMTP relay did not answer within 10 s while sending {subject!r} to {to}')
    if roll < 0.35:
        raise ConnectionRefusedError(f'SMTP relay refused the connection ({to})')
    return {'to': to, 'subject': subject, 'status': 'sent'}


def sync_stock(warehouse):
    """Read a warehouse's stock levels from its (pretend) API. Rotterdam's API is down: it times out
    (TimeoutError) every time, and nothing retries it (the next sync comes soon anyway)."""
    time.sleep(random.uniform(0.05, 0.2))
    if warehouse == 'rotterdam':
        raise TimeoutError(f'stock API of warehouse {warehouse} did not answer within 5 s')
    return {'warehouse': warehouse, 'skus': random.randint(20, 60)}


def send_reminder(customer):
    """A scheduled reminder (enqueued with ``enqueue_in``)."""
    time.sleep(random.uniform(0.05, 0.2))
    return f'reminded {customer}'


def build_report(name, seconds):
    """A slow report: sleeps ``seconds``. The reports queue has one worker, so it backs up."""
    time.sleep(float(seconds))
    return {'report': name, 'rows': random.randint(100, 5000)}


def email_report(name):
    """Runs after its report (``depends_on``): deferred until then."""
    time.sleep(0.1)
    return f'report {name} mailed'


def archive_logs(day):
    """Sits on the 'archive' queue, which no worker listens to."""
    return f'archived {day}'


def resize_image(image_id, width):
    """One job of an upload batch (an RQ Group); a corrupt image fails with OSError."""
    time.sleep(random.uniform(0.05, 0.3))
    if image_id.endswith('7'):
        raise OSError(f'cannot identify image file {image_id}.jpg: truncated at byte 4096')
    return {'image': image_id, 'width': width}


def cleanup_sessions():
    """The `rq cron` interval job: expire old sessions."""
    time.sleep(0.1)
    return {'expired_sessions': random.randint(0, 40)}


def send_digest():
    """The `rq cron` cron-string job."""
    return 'digest sent'
