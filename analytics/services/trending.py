"""Trending: the most played visible tracks of the last 24 hours, worked out every minute
from the hourly buckets and stored, so that a home page reads a few ranked rows instead of
adding up hours on every request."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from analytics.models import TrackHour, TrendingTrack
from mvsic.hours import hour_floor

HOURS = 24
# More than the home page shows, so that a track hidden between two runs leaves no gap.
KEPT = 50


def trending_refresh(*, now=None, hours: int = HOURS, kept: int = KEPT) -> int:
    """Replace the trending rows with the `kept` visible tracks that have the most plays in
    the last `hours` whole hours (the current one included); returns how many were stored."""
    now = now or timezone.now()
    since = hour_floor(now) - timedelta(hours=hours - 1)
    top = list(
        TrackHour.objects.filter(hour__gte=since, track__hidden_at__isnull=True)
        .values("track_id")
        .annotate(recent=Sum("plays"))
        .filter(recent__gt=0)
        .order_by("-recent", "track_id")
        .values_list("track_id", "recent")[:kept]
    )
    rows = [TrendingTrack(track_id=t, plays=n, computed_at=now) for t, n in top]
    with transaction.atomic():
        TrendingTrack.objects.exclude(track_id__in=[t for t, _ in top]).delete()
        # An upsert, so that two runs at once (a late beat, say) cannot collide on a track.
        TrendingTrack.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["track"],
            update_fields=["plays", "computed_at"],
        )
    return len(rows)
