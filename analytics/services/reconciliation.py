"""Reconciliation: what the stored events imply for every counter, compared and repaired.

`counts_reconcile` recomputes every counter from the Event table (the source of truth: the
credited events, and the filtered ones by reason) and records the differences; with `fix`
it first re-applies the integrity rules to every stored event (services.reclassify), then
rebuilds the counters and the sets behind them.
`artist_stats_refresh` recomputes one artist after one of its tracks is deleted.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from analytics.models import (
    ArtistStats,
    BreakdownListener,
    Event,
    EventType,
    FilteredHour,
    LikeState,
    ListenerDay,
    ListenerHour,
    ReachCell,
    ReconcileRun,
    Rollup,
    TrackFiltered,
    TrackHour,
    TrackStats,
)
from analytics.services.follows_reconcile import follows_differences, follows_rebuild
from analytics.services.pruning import listener_hours_since
from analytics.services.rebuild import artist_figures_differences, artist_figures_rebuild
from analytics.services.reclassify import events_reclassify
from analytics.upsert import insert_on_conflict, table
from mvsic.models import Artist, Track

FIGURES = ("plays", "likes", "listeners")
HOUR_FIGURES = ("plays", "likes", "unlikes")
BULK = 5000


@dataclass
class Expected:
    tracks: dict[int, dict[str, int]] = field(default_factory=dict)
    artists: dict[int, dict[str, int]] = field(default_factory=dict)
    hours: dict[tuple[int, datetime], dict[str, int]] = field(default_factory=dict)
    filtered: dict[tuple[int, datetime, str], dict[str, int]] = field(default_factory=dict)
    filtered_tracks: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    events: int = 0


def counts_reconcile(*, fix: bool = False) -> ReconcileRun:
    """Compare every counter with what the stored events imply; with `fix`, rebuild them.

    The check reads one consistent snapshot; the fix holds the counter tables locked
    (workers wait) while it rebuilds counters and the sets behind them from the events.
    """
    started = timezone.now()
    postgres = connection.vendor == "postgresql"
    # A snapshot needs a transaction of its own (not one nested in a caller's).
    snapshot = postgres and not fix and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if fix and postgres:
            tables = ", ".join(table(m) for m in (TrackStats, ArtistStats, Event))
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        elif snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if fix:
            events_reclassify()
        expected = counts_expected_get()
        differences = _differences(expected)
        artists = list(Artist.objects.all())
        local = {a.id: artist_figures_differences(artist=a) for a in artists}
        differences += [d for found in local.values() for d in found]
        differences += follows_differences()
        if fix and differences:
            _counts_rebuild(expected)
            follows_rebuild()
            for artist in artists:  # the hours again, in each artist's zone, with the rollups
                artist_figures_rebuild(artist=artist)
    return ReconcileRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        events=expected.events,
        drift=len(differences),
        fixed=bool(fix and differences),
        details=differences[:100],
    )


def latest_likes_sql() -> str:
    """Rows (track_id, listener, type, ts, received_at, id) of each listener's latest
    like/unlike per track; plain SQL that PostgreSQL and SQLite both run."""
    return (
        "SELECT track_id, listener, type, ts, received_at, id FROM ("  # noqa: S608
        "SELECT track_id, listener, type, ts, received_at, id, ROW_NUMBER() OVER ("
        "PARTITION BY track_id, listener ORDER BY ts DESC, received_at DESC, id DESC) AS rn "
        f"FROM {table(Event)} WHERE type IN ('like', 'unlike') AND reason = '') latest "
        "WHERE rn = 1"
    )


def counts_expected_get() -> Expected:
    """Every counter as the stored events imply it, computed from scratch."""
    expected = Expected(events=Event.objects.count())
    artist_of = dict(Track.objects.values_list("id", "artist_id"))
    zero = dict.fromkeys(FIGURES, 0)
    credited = Event.objects.filter(reason="")
    plays = credited.filter(type=EventType.PLAY)
    for row in plays.values("track_id").annotate(
        plays=Count("id"), listeners=Count("listener", distinct=True)
    ):
        figures = {"plays": row["plays"], "listeners": row["listeners"]}
        expected.tracks[row["track_id"]] = {**zero, **figures}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT track_id, COUNT(*) FROM ({latest_likes_sql()}) l "  # noqa: S608
            "WHERE type = 'like' GROUP BY track_id"
        )
        for track_id, likes in cursor.fetchall():
            expected.tracks.setdefault(track_id, dict(zero))["likes"] = likes

    artists: dict[int, dict[str, int]] = defaultdict(lambda: dict(zero))
    for track_id, figures in expected.tracks.items():
        artists[artist_of[track_id]]["plays"] += figures["plays"]
        artists[artist_of[track_id]]["likes"] += figures["likes"]
    for row in plays.values("track__artist_id").annotate(
        listeners=Count("listener", distinct=True)
    ):
        artists[row["track__artist_id"]]["listeners"] = row["listeners"]
    expected.artists = dict(artists)

    kinds = {"plays": EventType.PLAY, "likes": EventType.LIKE, "unlikes": EventType.UNLIKE}
    by_type = {name: Count("id", filter=Q(type=kind)) for name, kind in kinds.items()}
    for row in (
        credited.annotate(hour=TruncHour("ts")).values("track_id", "hour").annotate(**by_type)
    ):
        expected.hours[(row["track_id"], row["hour"])] = {f: row[f] for f in HOUR_FIGURES}
    for row in (
        Event.objects.exclude(reason="")
        .annotate(hour=TruncHour("ts"))
        .values("track_id", "hour", "reason")
        .annotate(events=Count("id"))
    ):
        expected.filtered[(row["track_id"], row["hour"], row["reason"])] = {"events": row["events"]}
        total = expected.filtered_tracks.setdefault((row["track_id"], row["reason"]), {"events": 0})
        total["events"] += row["events"]
    return expected


def _differences(expected: Expected) -> list[dict]:
    found = []

    def compare(kind: str, stored: dict, wanted: dict, figures, label=str) -> None:
        for key in sorted(stored.keys() | wanted.keys()):
            have, want = stored.get(key, {}), wanted.get(key, {})
            for name in figures:
                if have.get(name, 0) != want.get(name, 0):
                    found.append(
                        {"table": kind, "key": label(key), "field": name,
                         "stored": have.get(name, 0), "expected": want.get(name, 0)}
                    )  # fmt: skip

    tracks = {r["track_id"]: r for r in TrackStats.objects.values("track_id", *FIGURES)}
    compare("track", tracks, expected.tracks, FIGURES)
    artists = {r["artist_id"]: r for r in ArtistStats.objects.values("artist_id", *FIGURES)}
    compare("artist", artists, expected.artists, FIGURES)
    # Hours are checked in each artist's zone with its rollups (rebuild.artist_figures_...).
    totals = {
        (r["track_id"], r["reason"]): r
        for r in TrackFiltered.objects.values("track_id", "reason", "events")
    }
    compare(
        "filtered_total", totals, expected.filtered_tracks, ("events",), lambda k: f"{k[0]}/{k[1]}"
    )
    return found


def _counts_rebuild(expected: Expected) -> None:
    now = timezone.now()
    overwrite = ", ".join(f"{f} = excluded.{f}" for f in (*FIGURES, "updated_at"))
    zero = dict.fromkeys(FIGURES, 0)
    for model, key, wanted in (
        (TrackStats, "track", expected.tracks),
        (ArtistStats, "artist", expected.artists),
    ):
        keys = set(model.objects.values_list(f"{key}_id", flat=True)) | wanted.keys()
        insert_on_conflict(
            model,
            [key, *FIGURES, "updated_at"],
            [(k, *wanted.get(k, zero).values(), now) for k in sorted(keys)],
            conflict=[key],
            update_sql=overwrite,
        )
    plays = Event.objects.filter(type=EventType.PLAY, reason="")
    hours = sorted(expected.hours.items())
    _replace(TrackHour, (TrackHour(track_id=t, hour=h, **c) for (t, h), c in hours))
    _replace(
        FilteredHour,
        (FilteredHour(track_id=t, hour=h, reason=r, events=c["events"])
         for (t, h, r), c in sorted(expected.filtered.items())),
    )  # fmt: skip
    _replace(
        TrackFiltered,
        (TrackFiltered(track_id=t, reason=r, events=c["events"])
         for (t, r), c in sorted(expected.filtered_tracks.items())),
    )  # fmt: skip
    _replace(
        ListenerHour,
        (ListenerHour(track_id=t, hour=h, listener=lis) for t, h, lis in
         plays.filter(ts__gte=listener_hours_since(timezone.now()))
         .annotate(hour=TruncHour("ts")).values_list("track_id", "hour", "listener")
         .distinct().iterator()),
    )  # fmt: skip
    _replace(
        LikeState,
        (
            LikeState(track_id=e.track_id, listener=e.listener, liked=e.type == EventType.LIKE,
                      ts=e.ts, received_at=e.received_at, event_id=e.id)
            for e in Event.objects.raw(latest_likes_sql()).iterator()
        ),
    )  # fmt: skip


def _replace(model: type[models.Model], rows) -> None:
    """Every row of `model` replaced by `rows`."""
    model.objects.all().delete()
    model.objects.bulk_create(rows, batch_size=BULK)


def artist_stats_refresh(*, artist_id: int) -> None:
    """Recompute an artist's counters from the tracks it has now (after one is deleted)."""
    with transaction.atomic():
        stats = ArtistStats.objects.select_for_update().filter(artist_id=artist_id).first()
        if stats is None:  # the artist is gone too, or never had an event
            return
        totals = TrackStats.objects.filter(track__artist_id=artist_id).aggregate(
            plays=models.Sum("plays"), likes=models.Sum("likes")
        )
        stats.plays = totals["plays"] or 0
        stats.likes = totals["likes"] or 0
        stats.listeners = (
            Event.objects.filter(type=EventType.PLAY, reason="", track__artist_id=artist_id)
            .values("listener")
            .distinct()
            .count()
        )
        stats.updated_at = timezone.now()
        stats.save()
        # The artist's rollups without the deleted track; the track's own rows go too.
        artist_figures_rebuild(artist=stats.artist)
        gone = ~models.Q(key__in=Track.objects.values("id"))
        for model in (Rollup, ReachCell, ListenerDay):
            model.objects.filter(gone, scope="t").delete()
        BreakdownListener.objects.exclude(track_id__in=Track.objects.values("id")).delete()
