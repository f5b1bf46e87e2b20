"""Reads of the analytics data: only counters and hourly buckets, never raw events."""

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from analytics.models import (
    ArtistStats,
    FilteredHour,
    FilterReason,
    ListenerHour,
    Rollup,
    TrackFiltered,
    TrackHour,
    TrackStats,
)
from analytics.period_figures import period_figures_get, period_get, track_rows_get
from analytics.services.follows import FILTERED
from mvsic.hours import hour_floor
from mvsic.models import Artist, Track

SERIES_HOURS = 7 * 24
# The rules a follow or unfollow can be filtered by (services.follows).
FOLLOW_REASONS = (FilterReason.BLOCKED, FilterReason.BOT, FilterReason.OWN_PLAY,
                  FilterReason.TOO_MANY_FOLLOWS)  # fmt: skip


ALL_ARTISTS = "mvsic.view_all_artists"


def artist_list_for_user(*, user) -> QuerySet[Artist]:
    """The artists whose figures `user` may see: their own, or all with the permission."""
    if user.has_perm(ALL_ARTISTS):
        return Artist.objects.all()
    return Artist.objects.filter(members=user)


def artist_visible(*, user, artist: Artist) -> bool:
    # Membership first: one query, where the permission check loads every permission.
    return bool(
        user.is_authenticated
        and (artist.members.filter(pk=user.pk).exists() or user.has_perm(ALL_ARTISTS))
    )


def _window(now: datetime) -> tuple[datetime, datetime]:
    """Start of the last 24 h and of the 7-day chart, both aligned to whole hours."""
    current = hour_floor(now)
    return current - timedelta(hours=23), current - timedelta(hours=SERIES_HOURS - 1)


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


def filtered_get(track_filter: dict, *, since: datetime | None = None) -> dict[str, int]:
    """Events not credited, by reason, in the listed order of the reasons (none: left out):
    all time from the per-track totals, or since an hour from the hourly buckets."""
    if since is None:
        rows = TrackFiltered.objects.filter(**track_filter)
    else:
        rows = FilteredHour.objects.filter(hour__gte=since, **track_filter)
    found = dict(rows.values("reason").annotate(n=Sum("events")).values_list("reason", "n"))
    return {reason: found[reason] for reason in FilterReason.values if found.get(reason)}


def _filtered_fields(track_filter: dict, *, now: datetime) -> dict:
    return {
        "filtered": filtered_get(track_filter),
        "filtered_24h": filtered_get(track_filter, since=_window(now)[0]),
    }


def filtered_by_track(*, artist: Artist) -> dict[int, dict[str, int]]:
    """All-time filtered events of each of an artist's tracks, by reason."""
    by_track: dict[int, dict[str, int]] = {}
    for track_id, reason, n in (
        TrackFiltered.objects.filter(track__artist=artist)
        .values("track_id", "reason")
        .annotate(n=Sum("events"))
        .values_list("track_id", "reason", "n")
        .order_by("track_id", "reason")
    ):
        if n:
            by_track.setdefault(track_id, {})[reason] = n
    return by_track


def filtered_follows_get(*, artist: Artist) -> dict[str, int]:
    """All-time follows and unfollows of the artist not credited, by reason (none: left
    out), from the monthly "filtered_follows" rollups."""
    found = dict(
        Rollup.objects.filter(scope="a", key=artist.id, span="m", metric=FILTERED)
        .values_list("value")
        .annotate(n=Sum("n"))
    )
    return {reason: found[reason] for reason in FilterReason.values if found.get(reason)}


def _stats_fields(stats) -> dict:
    return {
        "plays": stats.plays if stats else 0,
        "likes": stats.likes if stats else 0,
        "listeners": stats.listeners if stats else 0,
        "updated_at": stats.updated_at.isoformat() if stats and stats.updated_at else None,
    }


def track_stats_get(*, track: Track, now: datetime | None = None, params=None) -> dict:
    """A track's all-time and 24 h figures, and those of the period `params` ask for
    (period, from, to, compare: the stats API's; raises PeriodError naming a bad one)."""
    now = now or timezone.now()
    period, previous = period_get(artist=track.artist, params=params or {}, now=now)
    stats = TrackStats.objects.filter(track=track).first()
    return {
        "track": {"id": track.id, "title": track.title, "artist": track.artist.slug},
        **_stats_fields(stats),
        **_recent({"track": track}, now=now),
        **_filtered_fields({"track": track}, now=now),
        "generated_at": now.isoformat(),
        **period_figures_get(
            scope="t",
            key=track.id,
            period=period,
            previous=previous,
            track_filter={"track": track},
            now=now,
        ),
    }


def artist_stats_get(*, artist: Artist, now: datetime | None = None, params=None) -> dict:
    """An artist's figures (as track_stats_get), with a row per track by period plays."""
    now = now or timezone.now()
    period, previous = period_get(artist=artist, params=params or {}, now=now)
    day_start, _ = _window(now)
    stats = ArtistStats.objects.filter(artist=artist).first()
    # A track still processing, or whose upload failed, has no figures yet: the uploads panel
    # shows it.
    tracks = list(
        Track.objects.filter(artist=artist)
        .exclude(status__in=[Track.Status.PROCESSING, Track.Status.FAILED])
        .select_related("stats")
        .order_by("title")
    )
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
    filtered = filtered_by_track(artist=artist)
    in_period = track_rows_get(tracks=tracks, period=period)
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
                "filtered": filtered.get(track.id, {}),
                **in_period[track.id],
            }
        )
    track_rows.sort(key=lambda r: (-r["period_plays"], -r["plays"], r["title"]))
    return {
        "artist": {"slug": artist.slug, "name": artist.name},
        **_stats_fields(stats),
        "followers": stats.followers if stats else 0,
        **_recent({"track__artist": artist}, now=now),
        **_filtered_fields({"track__artist": artist}, now=now),
        "filtered_follows": filtered_follows_get(artist=artist),
        "generated_at": now.isoformat(),
        **period_figures_get(
            scope="a",
            key=artist.id,
            period=period,
            previous=previous,
            track_filter={"track__artist": artist},
            now=now,
        ),
        "tracks": track_rows,
    }


def artist_filtered_get(*, artist: Artist) -> dict:
    """The filtered page: per track, all time and last 24 h, by reason, and the totals; the
    artist's filtered follows and unfollows, all time, by the reasons that apply to them."""
    now = timezone.now()
    recent = {
        track_id: n
        for track_id, n in FilteredHour.objects.filter(
            track__artist=artist, hour__gte=_window(now)[0]
        )
        .values("track_id")
        .annotate(n=Sum("events"))
        .values_list("track_id", "n")
    }
    by_track = filtered_by_track(artist=artist)
    tracks = [
        {
            "id": track.id,
            "title": track.title,
            "counts": [(r, by_track.get(track.id, {}).get(r, 0)) for r in FilterReason.values],
            "total": sum(by_track.get(track.id, {}).values()),
            "total_24h": recent.get(track.id, 0),
        }
        for track in Track.objects.filter(artist=artist).order_by("title")
    ]
    follows = filtered_follows_get(artist=artist)
    return {
        "tracks": tracks,
        "filtered": filtered_get({"track__artist": artist}),
        "reasons": FilterReason.choices,
        "follows": {
            "counts": [(r.value, r.label, follows.get(r.value, 0)) for r in FOLLOW_REASONS],
            "total": sum(follows.values()),
        },
    }
