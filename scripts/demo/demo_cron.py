"""The demo's `rq cron` configuration (scripts/demo.sh runs ``rq cron --path scripts/demo
scripts/demo/demo_cron.py``): an interval job and a cron-string job."""

from rq import cron

import demo_jobs

cron.register(demo_jobs.cleanup_sessions, queue_name='default', interval=15, name='cleanup-sessions')
cron.register(demo_jobs.send_digest, queue_name='emails', cron='* * * * *', name='digest-every-minute')
