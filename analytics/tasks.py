"""Celery tasks of the pipeline: each unpacks plain data and calls a service."""

import logging
import time

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

from analytics import services

logger = logging.getLogger(__name__)

# Attempts for an error that is neither a database outage nor a known-bad payload.
UNEXPECTED_ATTEMPTS = 3


def count_until_applied(payloads: list[dict]) -> int:
    """Count events, waiting out database outages; the message stays unacked meanwhile.

    Retrying in-process (not with a countdown message) keeps the event in the broker as
    unacknowledged work: if this worker dies while waiting, RabbitMQ redelivers it.
    """
    delay, unexpected = 0.5, 0
    while True:
        try:
            return services.events_count(payloads=payloads)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("database unavailable, retrying in %.1fs: %s", delay, exc)
            connection.close()  # reconnect on the next attempt
        except Exception as exc:  # a payload the database refuses, or a bug
            unexpected += 1
            if unexpected >= UNEXPECTED_ATTEMPTS:
                return _count_each_or_park(payloads, exc)
            logger.exception("unexpected error counting %d events", len(payloads))
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def _count_each_or_park(payloads: list[dict], error: Exception) -> int:
    """A batch that keeps failing: count its events one by one so only the bad one is parked."""
    if len(payloads) == 1:
        services.poison_record(payload=payloads[0], reason=f"{type(error).__name__}: {error}")
        return 0
    return sum(count_until_applied([payload]) for payload in payloads)


@shared_task(name="analytics.record_event", ignore_result=True, acks_late=True)
def record_event(payload: dict) -> None:
    """Count one fan event (play, like, unlike); redelivery is harmless."""
    count_until_applied([payload])


@shared_task(name="analytics.record_events", ignore_result=True, acks_late=True)
def record_events(payloads: list[dict]) -> None:
    """Count a group of fan events sent as one message; redelivery is harmless."""
    count_until_applied(payloads)


@shared_task(name="analytics.reconcile_check", ignore_result=False, acks_late=True)
def reconcile_check() -> dict:
    """Periodic check that every counter equals what the stored events imply."""
    run = services.counts_reconcile(fix=False)
    if run.drift:
        logger.error("reconcile: %d counters drifted from the events", run.drift)
    return {"events": run.events, "drift": run.drift, "run": run.pk}
