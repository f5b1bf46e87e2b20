"""Background tasks sent from a request once its transaction commits.

A web process's pooled broker connection may be stale (the broker restarted since it was
used): one reconnection is tried before giving up. A task that still could not be sent is
logged, not raised: what it was for is already committed, and a periodic sweep sends it
again (zones-sync for zone changes, uploads-requeue for uploads).
"""

import logging

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# One reconnection at once: a stale connection is replaced, a broker that is down costs the
# request about two connection timeouts.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}


def task_send(name: str, *, args: tuple = (), kwargs: dict | None = None) -> bool:
    """Send a task by name to its queue; False (logged) when the broker could not take it."""
    try:
        current_app.send_task(
            name, args=args, kwargs=kwargs or {}, retry=True, retry_policy=RETRY_POLICY
        )
    except OperationalError as exc:
        log.warning("task %s not sent (%s); the periodic sweep sends it again", name, exc)
        return False
    return True


def task_send_on_commit(name: str, *, args: tuple = (), kwargs: dict | None = None) -> None:
    """task_send once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_send(name, args=args, kwargs=kwargs))
