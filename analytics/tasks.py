"""Celery tasks of the analytics app (default queue); each unpacks plain data and calls a
service. Events are not tasks: they are counted by analytics.consumer."""

import logging

from celery import shared_task
from django.utils import timezone

from analytics import partitions
from analytics.services import pruning, rebuild, super_listeners, trending
from analytics.services.reconciliation import counts_reconcile

logger = logging.getLogger(__name__)


@shared_task(name="analytics.reconcile_check", ignore_result=False, acks_late=True)
def reconcile_check() -> dict:
    """Periodic check that every counter equals what the stored events imply."""
    run = counts_reconcile(fix=False)
    if run.drift:
        logger.error("reconcile: %d counters drifted from the events", run.drift)
    return {"events": run.events, "drift": run.drift, "run": run.pk}


@shared_task(name="analytics.integrity_prune", acks_late=True)
def integrity_prune() -> dict:
    """Hourly: forget past days' address keys and the limits' old working sets."""
    return pruning.integrity_prune()


@shared_task(name="analytics.artist_zone_rebuild", acks_late=True)
def artist_zone_rebuild(artist_id: int) -> bool:
    """After an artist's time zone changed: its hours, days and months rebuilt in it."""
    return rebuild.artist_zone_rebuild(artist_id=artist_id)


@shared_task(name="analytics.zones_sync", acks_late=True)
def zones_sync() -> list[int]:
    """Every minute: artists whose zone changed (in admin too) rebuilt in it."""
    return rebuild.zones_sync()


@shared_task(name="analytics.super_listeners", acks_late=True)
def super_listeners_refresh() -> int:
    """Every few minutes: each artist's top 1% of listeners and their share of plays."""
    return super_listeners.super_listeners_refresh()


@shared_task(name="analytics.trending_refresh", acks_late=True)
def trending_refresh() -> int:
    """Every minute: the home page's trending tracks of the last 24 hours."""
    return trending.trending_refresh()


@shared_task(name="analytics.event_partitions_ahead", acks_late=True)
def event_partitions_ahead() -> list[str]:
    """Daily: the events table's partitions for this month and the next two."""
    return partitions.partitions_ahead(now=timezone.now())
