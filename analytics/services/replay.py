"""Replaying parked events: `manage.py replay_poison`, after the cause is gone."""

from dataclasses import dataclass

from django.db import transaction

from analytics.models import PoisonEvent
from analytics.services.counting import events_count


@dataclass
class Replay:
    replayed: int = 0
    counted: int = 0  # newly counted (credited or filtered); a copy counted before adds 0
    parked_again: int = 0


def poison_replay(*, reason: str = "", since=None) -> Replay:
    """Send parked events back through counting, oldest first. Those that can count now (a
    track restored, events a deploy bug parked) are counted once, by their id; the others are
    parked again with today's reason. Each event is replayed in a transaction of its own."""
    rows = PoisonEvent.objects.order_by("created_at", "pk")
    if reason:
        rows = rows.filter(reason__icontains=reason)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    result = Replay()
    for pk, payload in list(rows.values_list("pk", "payload")):
        with transaction.atomic():
            PoisonEvent.objects.filter(pk=pk).delete()
            parked = PoisonEvent.objects.count()
            result.counted += events_count(payloads=[payload])
            result.parked_again += PoisonEvent.objects.count() - parked
            result.replayed += 1
    return result
