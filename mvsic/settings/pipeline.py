"""The event pipeline: how the web processes hand events over (spool, relay, broker) and
how the counting workers take them (batches, the elastic supervisor)."""

import os

from django.core.exceptions import ImproperlyConfigured

from mvsic.settings.environment import VAR_DIR, env

# Publishing: how long a request waits for the broker's confirm before spooling to disk,
# how long to skip the broker after a failure, and how often the relay retries the spool.
MVSIC_PUBLISH_TIMEOUT_SECONDS = env.float("MVSIC_PUBLISH_TIMEOUT_SECONDS", default=1.0)
MVSIC_BROKER_PAUSE_SECONDS = env.float("MVSIC_BROKER_PAUSE_SECONDS", default=1.0)
MVSIC_RELAY_INTERVAL_SECONDS = env.float("MVSIC_RELAY_INTERVAL_SECONDS", default=1.0)
# "spool": a 202 once the event is fsync'd locally, relayed to the broker within
# MVSIC_RELAY_LINGER_SECONDS; "broker": a 202 once RabbitMQ confirmed it (slower).
MVSIC_ACCEPT_VIA = env.str("MVSIC_ACCEPT_VIA", default="spool")
if MVSIC_ACCEPT_VIA not in ("spool", "broker"):
    raise ImproperlyConfigured("MVSIC_ACCEPT_VIA must be 'spool' or 'broker'")
MVSIC_RELAY_LINGER_SECONDS = env.float("MVSIC_RELAY_LINGER_SECONDS", default=0.02)
# Events per broker message: RabbitMQ's cost is mostly per message, not per byte.
MVSIC_EVENTS_PER_MESSAGE = env.int("MVSIC_EVENTS_PER_MESSAGE", default=100)
if MVSIC_EVENTS_PER_MESSAGE < 1:
    raise ImproperlyConfigured("MVSIC_EVENTS_PER_MESSAGE must be at least 1")
MVSIC_SPOOL_DIR = env.path("MVSIC_SPOOL_DIR", default=str(VAR_DIR / "spool"))
# Known track ids are cached by each web process for this long (no query per event).
MVSIC_TRACK_CACHE_SECONDS = env.float("MVSIC_TRACK_CACHE_SECONDS", default=60.0)
# Batch consumer (`celery worker --event-batches`): events per transaction, and the
# longest an event waits in a worker's buffer before it is counted.
MVSIC_EVENT_BATCH_SIZE = env.int("MVSIC_EVENT_BATCH_SIZE", default=500)
MVSIC_EVENT_FLUSH_SECONDS = env.float("MVSIC_EVENT_FLUSH_SECONDS", default=0.1)
# Batches a worker counts at once, each in a thread with its own database connection: one
# batch's wait on the database overlaps another's Python (worth it with cores to spare).
MVSIC_COUNTING_THREADS = env.int("MVSIC_COUNTING_THREADS", default=1)
if MVSIC_COUNTING_THREADS < 1:
    raise ImproperlyConfigured("MVSIC_COUNTING_THREADS must be at least 1")
# The elastic supervisor (manage.py events_workers, the Procfile's worker): counting worker
# processes on this host, and when it adds and removes them (analytics/elastic.py).
MVSIC_WORKERS_MIN = env.int("MVSIC_WORKERS_MIN", default=1)
MVSIC_WORKERS_MAX = env.int("MVSIC_WORKERS_MAX", default=os.cpu_count() or 1)
if not 1 <= MVSIC_WORKERS_MIN <= MVSIC_WORKERS_MAX:
    raise ImproperlyConfigured("MVSIC_WORKERS_MIN must be at least 1 and at most MVSIC_WORKERS_MAX")
MVSIC_WORKERS_MESSAGES_PER_WORKER = env.int("MVSIC_WORKERS_MESSAGES_PER_WORKER", default=200)
if MVSIC_WORKERS_MESSAGES_PER_WORKER < 1:
    raise ImproperlyConfigured("MVSIC_WORKERS_MESSAGES_PER_WORKER must be at least 1")
MVSIC_WORKERS_MAX_BACKLOG_SECONDS = env.float("MVSIC_WORKERS_MAX_BACKLOG_SECONDS", default=10.0)
MVSIC_WORKERS_DOWN_AFTER_SECONDS = env.float("MVSIC_WORKERS_DOWN_AFTER_SECONDS", default=30.0)
MVSIC_WORKERS_POLL_SECONDS = env.float("MVSIC_WORKERS_POLL_SECONDS", default=2.0)
# Celery pool processes of each counting worker (they run the default queue's tasks).
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=1)
