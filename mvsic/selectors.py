"""Reads of the catalog for the fan pages."""

from datetime import timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from mvsic.hours import hour_floor
from mvsic.models import Artist, Track


def artist_list() -> QuerySet[Artist]:
    return Artist.objects.all()


def tracks_trending_list(*, hours: int = 24, limit: int = 10) -> list[Track]:
    """Tracks with the most plays in the last `hours`, read from the hourly buckets that the
    analytics app keeps under the reverse relation `hours` (no import of analytics)."""
    since = hour_floor(timezone.now()) - timedelta(hours=hours - 1)
    return list(
        Track.objects.visible()
        .select_related("artist")
        .annotate(recent_plays=Sum("hours__plays", filter=Q(hours__hour__gte=since)))
        .filter(recent_plays__gt=0)
        .order_by("-recent_plays", "title")[:limit]
    )


def artist_tracks_list(*, artist: Artist) -> QuerySet[Track]:
    # `stats` is the public counter row kept by the analytics app (may be missing).
    return artist.tracks.visible().select_related("stats").order_by("title")
