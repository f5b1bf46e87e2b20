"""Super listeners: the share of an artist's plays in a period from its top 1% of listeners.

A listener's rank needs every listener's plays in the period, which no sum of rollups
gives, so this is worked out every few minutes from the credited plays (the events'
(track, ts) index) for the periods that end today, and read from its own row.
"""

import math

from django.db.models import Count
from django.utils import timezone

from analytics.models import ArtistStats, Event, EventType, SuperListeners
from analytics.periods import period_resolve

PERIODS = ("7d", "28d", "12m")
SHARE = 0.01


def super_listeners_compute(*, artist_id: int, now=None) -> list[SuperListeners]:
    """Work out the artist's super listeners for each period ending today."""
    now = now or timezone.now()
    stats = ArtistStats.objects.filter(artist_id=artist_id).only("zone").first()
    zone = stats.zone if stats else "UTC"
    rows = []
    for name in PERIODS:
        period = period_resolve(period=name, zone=zone, now=now)
        plays = sorted(
            Event.objects.filter(
                track__artist_id=artist_id,
                type=EventType.PLAY,
                reason="",
                ts__gte=period.start,
                ts__lt=period.end,
            )
            .values("listener")
            .annotate(n=Count("id"))
            .values_list("n", flat=True),
            reverse=True,
        )
        top = math.ceil(len(plays) * SHARE)
        row, _ = SuperListeners.objects.update_or_create(
            artist_id=artist_id,
            period=name,
            defaults={
                "first_day": period.first_day,
                "last_day": period.last_day,
                "listeners": len(plays),
                "top": top,
                "top_plays": sum(plays[:top]),
                "plays": sum(plays),
                "computed_at": now,
            },
        )
        rows.append(row)
    return rows


def super_listeners_refresh(*, now=None) -> int:
    """Every artist with credited plays; returns how many were worked out."""
    ids = list(ArtistStats.objects.filter(plays__gt=0).values_list("artist_id", flat=True))
    for artist_id in ids:
        super_listeners_compute(artist_id=artist_id, now=now)
    return len(ids)


def super_listeners_get(*, artist_id: int, period: str) -> dict | None:
    """The latest figure of a period ending today, or None (other periods have none)."""
    row = SuperListeners.objects.filter(artist_id=artist_id, period=period).first()
    if row is None:
        return None
    return {
        "share": round(row.top_plays / row.plays, 4) if row.plays else 0.0,
        "listeners": row.top,
        "plays": row.top_plays,
        "from": row.first_day.isoformat(),
        "to": row.last_day.isoformat(),
        "computed_at": row.computed_at.isoformat(),
    }
