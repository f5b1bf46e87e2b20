"""Reads of the analytics data: only counters and hourly buckets, never raw events."""

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from analytics.models import ArtistStats, ListenerHour, TrackHour, TrackStats
from mvsic.hours import hour_floor
from mvsic.models import Artist, Track

SERIES_HOURS = 7 * 24


def artist_list_for_user(*, user) -> QuerySet[Artist]:
    if user.is_staff:
        return Artist.objects.all()
    return Artist.objects.filter(members=user)


def artist_visible(*, user, artist: Artist) -> bool:
    return bool(
        user.is_authenticated and (user.is_staff or artist.members.filter(pk=user.pk).exists())
    )


def _window(now: datetime) -> tuple[datetime, datetime]:
    """Start of the last 24 h and of the 7-day chart, both aligned to whole hours."""
    current = hour_floor(now)
    return current - timedelta(hours=23), current - timedelta(hours=SERIES_HOURS - 1)


def _series(rows, *, now: datetime) -> list[dict]:
    by_hour = {hour_floor(r["hour"]): r for r in rows}
    start = _window(now)[1]
    series = []
    for i in range(SERIES_HOURS):
        hour = start + timedelta(hours=i)
        row = by_hour.get(hour, {})
        series.append(
            {
                "hour": hour.isoformat(),
                "plays": row.get("plays") or 0,
                "likes": row.get("likes") or 0,
            }
        )
    return series


def _recent(track_filter: dict, *, now: datetime) -> dict:
    day_start, _ = _window(now)
    sums = TrackHour.objects.filter(hour__gte=day_start, **track_filter).aggregate(
        plays=Sum("plays"), likes=Sum("likes")
    )
    listeners = (
        ListenerHour.objects.filter(hour__gte=day_start, **track_filter)
        .values("listener")
        .distinct()
        .count()
    )
    return {
        "plays_24h": sums["plays"] or 0,
        "likes_24h": sums["likes"] or 0,
        "listeners_24h": listeners,
    }


def _stats_fields(stats) -> dict:
    return {
        "plays": stats.plays if stats else 0,
        "likes": stats.likes if stats else 0,
        "listeners": stats.listeners if stats else 0,
        "updated_at": stats.updated_at.isoformat() if stats and stats.updated_at else None,
    }


def track_stats_get(*, track: Track, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    stats = TrackStats.objects.filter(track=track).first()
    series_rows = TrackHour.objects.filter(track=track, hour__gte=_window(now)[1]).values(
        "hour", "plays", "likes"
    )
    return {
        "track": {"id": track.id, "title": track.title, "artist": track.artist.slug},
        **_stats_fields(stats),
        **_recent({"track": track}, now=now),
        "generated_at": now.isoformat(),
        "series": _series(series_rows, now=now),
    }


def artist_stats_get(*, artist: Artist, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    day_start, series_start = _window(now)
    stats = ArtistStats.objects.filter(artist=artist).first()
    series_rows = (
        TrackHour.objects.filter(track__artist=artist, hour__gte=series_start)
        .values("hour")
        .annotate(plays=Sum("plays"), likes=Sum("likes"))
    )
    tracks = list(Track.objects.filter(artist=artist).select_related("stats").order_by("title"))
    recent_by_track = {
        row["track_id"]: row
        for row in TrackHour.objects.filter(track__artist=artist, hour__gte=day_start)
        .values("track_id")
        .annotate(plays_24h=Sum("plays"), likes_24h=Sum("likes"))
    }
    listeners_by_track = dict(
        ListenerHour.objects.filter(track__artist=artist, hour__gte=day_start)
        .values("track_id")
        .annotate(n=Count("listener", distinct=True))
        .values_list("track_id", "n")
    )
    track_rows = []
    for track in tracks:
        stats_row = getattr(track, "stats", None)
        recent = recent_by_track.get(track.id, {})
        track_rows.append(
            {
                "id": track.id,
                "title": track.title,
                "duration": track.duration,
                **_stats_fields(stats_row),
                "plays_24h": recent.get("plays_24h") or 0,
                "likes_24h": recent.get("likes_24h") or 0,
                "listeners_24h": listeners_by_track.get(track.id, 0),
            }
        )
    return {
        "artist": {"slug": artist.slug, "name": artist.name},
        **_stats_fields(stats),
        **_recent({"track__artist": artist}, now=now),
        "generated_at": now.isoformat(),
        "series": _series(series_rows, now=now),
        "tracks": track_rows,
    }
