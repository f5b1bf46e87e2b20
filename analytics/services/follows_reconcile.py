"""Follows recomputed from the stored follow events: followers now, latest states and the
daily "followers" rollups (and the "filtered_follows" ones), compared with what counting
kept, and rebuilt by the fix.

The same rules as counting (services.follows): a fan's latest credited follow or unfollow
of an artist (by ts, received_at, id) is their state; the change of an artist's followers
on a local day is the change of its fans' state at the end of that day.
"""

from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from django.utils import timezone

from analytics.models import ArtistStats, EventType, FollowEvent, FollowState
from analytics.placed import place, spans
from analytics.services.follows import FILTERED, METRIC, day_changes
from analytics.upsert import insert_on_conflict

CHUNK = 5000


def _histories(artist_id: int | None = None):
    """(artist, listener) -> its credited follow events in order, (ts, received_at, id, type)."""
    rows = FollowEvent.objects.filter(reason="")
    if artist_id is not None:
        rows = rows.filter(artist_id=artist_id)
    histories: dict[tuple[int, str], list] = defaultdict(list)
    for artist, listener, ts, received_at, event_id, kind in (
        rows.order_by("ts", "received_at", "id")
        .values_list("artist_id", "listener", "ts", "received_at", "id", "type")
        .iterator(CHUNK)
    ):
        histories[(artist, listener)].append((ts, received_at, event_id, kind))
    return histories


def follower_rollups_expected(*, artist_id: int, zone: ZoneInfo) -> Counter:
    """The artist's "followers" rollup rows in `zone`, as its follow events imply them."""
    rows: Counter = Counter()
    for history in _histories(artist_id).values():
        placed = [(place(ts, zone)[1], kind == EventType.FOLLOW) for ts, _, _, kind in history]
        for day, n in day_changes(placed).items():
            for span, start in spans("a", day):
                rows[("a", artist_id, span, start, METRIC, "")] += n
    return rows


def filtered_follow_rollups_expected(*, artist_id: int, zone: ZoneInfo) -> Counter:
    """The artist's "filtered_follows" rollup rows in `zone`: its filtered follow events by
    local day and month, and reason."""
    rows: Counter = Counter()
    for ts, reason in (
        FollowEvent.objects.filter(artist_id=artist_id)
        .exclude(reason="")
        .values_list("ts", "reason")
        .iterator(CHUNK)
    ):
        for span, start in spans("a", place(ts, zone)[1]):
            rows[("a", artist_id, span, start, FILTERED, reason)] += 1
    return rows


def _states_expected() -> dict[tuple[int, str], tuple]:
    """(artist, listener) -> its latest credited (ts, received_at, id, type)."""
    return {pair: history[-1] for pair, history in _histories().items()}


def follows_differences() -> list[dict]:
    """Followers and follow states that differ from what the follow events imply."""
    states = _states_expected()
    wanted = Counter(artist for (artist, _), h in states.items() if h[3] == EventType.FOLLOW)
    stored = dict(ArtistStats.objects.exclude(followers=0).values_list("artist_id", "followers"))
    found = [
        {"table": "artist", "key": str(a), "field": "followers",
         "stored": stored.get(a, 0), "expected": wanted.get(a, 0)}
        for a in sorted(stored.keys() | wanted.keys())
        if stored.get(a, 0) != wanted.get(a, 0)
    ]  # fmt: skip
    kept = {
        (a, li): (f, e)
        for a, li, f, e in FollowState.objects.values_list(
            "artist_id", "listener", "following", "event_id"
        ).iterator(CHUNK)
    }
    expected = {pair: (h[3] == EventType.FOLLOW, h[2]) for pair, h in states.items()}
    for pair in sorted(kept.keys() | expected.keys()):
        if kept.get(pair) != expected.get(pair):
            found.append(
                {"table": "follow_state", "key": f"{pair[0]}/{pair[1]}", "field": "following",
                 "stored": str(kept.get(pair)), "expected": str(expected.get(pair))}
            )  # fmt: skip
    return found


def follows_rebuild() -> None:
    """Followers and follow states rebuilt from the follow events (the rollups are rebuilt
    with each artist's other figures, services.rebuild). The caller holds the counters locked."""
    states = _states_expected()
    FollowState.objects.all().delete()
    FollowState.objects.bulk_create(
        (
            FollowState(artist_id=a, listener=li, following=kind == EventType.FOLLOW, ts=ts,
                        received_at=received_at, event_id=event_id)
            for (a, li), (ts, received_at, event_id, kind) in sorted(states.items())
        ),
        batch_size=CHUNK,
    )  # fmt: skip
    wanted = Counter(artist for (artist, _), h in states.items() if h[3] == EventType.FOLLOW)
    now = timezone.now()
    ArtistStats.objects.exclude(artist_id__in=list(wanted)).update(followers=0)
    insert_on_conflict(
        ArtistStats,
        ["artist", "followers", "updated_at"],
        sorted((a, n, now) for a, n in wanted.items()),
        conflict=["artist"],
        update_sql="followers = excluded.followers",
    )
