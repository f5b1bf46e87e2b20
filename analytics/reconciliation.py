"""What the stored events imply for every counter, computed from scratch."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from analytics.models import Event, EventType
from mvsic.models import Track

FIGURES = ("plays", "likes", "listeners")


@dataclass
class Expected:
    tracks: dict[int, dict[str, int]] = field(default_factory=dict)
    artists: dict[int, dict[str, int]] = field(default_factory=dict)
    hours: dict[tuple[int, datetime], dict[str, int]] = field(default_factory=dict)
    events: int = 0


def latest_likes_sql() -> str:
    """Rows (track_id, listener, type, ts, received_at, id) of each listener's latest
    like/unlike per track; plain SQL that PostgreSQL and SQLite both run."""
    table = connection.ops.quote_name(Event._meta.db_table)
    return (
        "SELECT track_id, listener, type, ts, received_at, id FROM ("  # noqa: S608
        "SELECT track_id, listener, type, ts, received_at, id, ROW_NUMBER() OVER ("
        "PARTITION BY track_id, listener ORDER BY ts DESC, received_at DESC, id DESC) AS rn "
        f"FROM {table} WHERE type IN ('like', 'unlike')) latest WHERE rn = 1"
    )


def counts_expected_get() -> Expected:
    expected = Expected(events=Event.objects.count())
    artist_of = dict(Track.objects.values_list("id", "artist_id"))
    zero = dict.fromkeys(FIGURES, 0)
    for row in (
        Event.objects.filter(type=EventType.PLAY)
        .values("track_id")
        .annotate(plays=Count("id"), listeners=Count("listener", distinct=True))
    ):
        expected.tracks[row["track_id"]] = {
            **zero,
            "plays": row["plays"],
            "listeners": row["listeners"],
        }
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
    for row in (
        Event.objects.filter(type=EventType.PLAY)
        .values("track__artist_id")
        .annotate(listeners=Count("listener", distinct=True))
    ):
        artists[row["track__artist_id"]]["listeners"] = row["listeners"]
    expected.artists = dict(artists)

    for row in (
        Event.objects.annotate(hour=TruncHour("ts"))
        .values("track_id", "hour")
        .annotate(
            plays=Count("id", filter=Q(type=EventType.PLAY)),
            likes=Count("id", filter=Q(type=EventType.LIKE)),
            unlikes=Count("id", filter=Q(type=EventType.UNLIKE)),
        )
    ):
        expected.hours[(row["track_id"], row["hour"])] = {
            "plays": row["plays"],
            "likes": row["likes"],
            "unlikes": row["unlikes"],
        }
    return expected
