"""Pruning: what the integrity rules keep only for as long as an event can still arrive, and
the listener hours only for as long as a figure reads them."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from analytics.addresses import address_keys_prune
from analytics.models import AddressFollows, AddressHour, EventKey, ListenerHour, ListenerHourUse

# Listener hours are read only for the last 24 hours and the 24 hours before them (the
# 24h period and its comparison); a day more covers local-hour alignment. Distinct listeners
# over days, months and all time come from listener days, which are kept.
LISTENER_HOURS_KEPT = timedelta(days=3)


def integrity_prune(*, now=None) -> dict[str, int]:
    """Delete past days' address keys; working-set rows and event ids older than the oldest
    event the edge still accepts (MVSIC_MAX_EVENT_AGE_SECONDS) plus a day for the spool; and
    listener hours older than LISTENER_HOURS_KEPT."""
    now = now or timezone.now()
    horizon = dedupe_since(now)
    deleted = {"address_keys": address_keys_prune(today=now.date())}
    for model in (ListenerHourUse, AddressHour, AddressFollows):
        deleted[model._meta.model_name], _ = model.objects.filter(hour__lt=horizon).delete()
    # The deduplication window: every event the edge can still accept is newer than this.
    deleted["eventkey"], _ = EventKey.objects.filter(ts__lt=dedupe_since(now)).delete()
    deleted["listenerhour"], _ = ListenerHour.objects.filter(
        hour__lt=listener_hours_since(now)
    ).delete()
    return deleted


def dedupe_since(now):
    """The oldest event time whose id is still remembered (docs/reliability.md): the edge
    accepts no event older than MVSIC_MAX_EVENT_AGE_SECONDS, and a day more covers the time
    an accepted event can wait in a spool or a queue."""
    return now - timedelta(seconds=settings.MVSIC_MAX_EVENT_AGE_SECONDS, days=1)


def listener_hours_since(now):
    """The oldest hour whose listener hours are kept (rebuilds write none older)."""
    return now - LISTENER_HOURS_KEPT
