"""Pruning: what the integrity rules keep only for as long as an event can still arrive."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from analytics.addresses import address_keys_prune
from analytics.models import AddressFollows, AddressHour, ListenerHourUse


def integrity_prune(*, now=None) -> dict[str, int]:
    """Delete past days' address keys, and working-set rows of hours older than the oldest
    event the edge still accepts (MVSIC_MAX_EVENT_AGE_SECONDS) plus a day for the spool."""
    now = now or timezone.now()
    horizon = now - timedelta(seconds=settings.MVSIC_MAX_EVENT_AGE_SECONDS, days=1)
    deleted = {"address_keys": address_keys_prune(today=now.date())}
    for model in (ListenerHourUse, AddressHour, AddressFollows):
        deleted[model._meta.model_name], _ = model.objects.filter(hour__lt=horizon).delete()
    return deleted
