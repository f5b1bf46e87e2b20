"""The counters a batch's credited events add to, inside counting's transaction once the
counter rows are locked: hourly buckets, listener hours, like states and the all-time
totals of tracks and artists, one upsert per table."""

from collections import Counter, defaultdict
from datetime import datetime

from django.utils import timezone

from analytics.models import (
    ArtistStats,
    EventType,
    LikeState,
    ListenerHour,
    TrackHour,
    TrackStats,
)
from analytics.payloads import CountableEvent
from analytics.services.states import latest_states, states_write
from analytics.upsert import insert_on_conflict, rows_by_keys, table


def counters_apply(
    *, events: list[CountableEvent], artist_of: dict[int, int], placed: dict, first_heard
) -> None:
    """Hours, like states and the all-time counters; `first_heard` are the listeners new to
    a track ("t", id) or an artist ("a", id), from their listener days."""
    plays = [e for e in events if e.type == EventType.PLAY]
    likes = [e for e in events if e.type in (EventType.LIKE, EventType.UNLIKE)]
    _hours_add(events, placed)
    new_track_listeners = {t: n for (s, t), n in first_heard.items() if s == "t"}
    new_artist_listeners = {a: n for (s, a), n in first_heard.items() if s == "a"}
    insert_on_conflict(
        ListenerHour,
        ["track", "hour", "listener"],
        sorted({(e.track_id, placed[e.id].hour, e.listener) for e in plays}),
        conflict=["track", "hour", "listener"],
    )
    liked = _likes_apply(likes)

    now = timezone.now()
    play_count = Counter(e.track_id for e in plays)
    _stats_add(
        TrackStats,
        "track",
        rows=[
            (t, play_count[t], new_track_listeners.get(t, 0), liked[t], now)
            for t in sorted({e.track_id for e in events})
        ],
    )
    artist_plays, artist_liked = Counter(), Counter()
    for track_id, n in play_count.items():
        artist_plays[artist_of[track_id]] += n
    for track_id, n in liked.items():
        artist_liked[artist_of[track_id]] += n
    _stats_add(
        ArtistStats,
        "artist",
        rows=[
            (a, artist_plays[a], new_artist_listeners.get(a, 0), artist_liked[a], now)
            for a in sorted({artist_of[e.track_id] for e in events})
        ],
    )


def _hours_add(events: list[CountableEvent], placed: dict) -> None:
    """One upsert for every (track, local hour) the batch touches."""
    hours: dict[tuple[int, datetime], Counter] = defaultdict(Counter)
    for e in events:
        if e.type != EventType.HEARD:
            hours[(e.track_id, placed[e.id].hour)][e.type] += 1
    hour_table = table(TrackHour)
    insert_on_conflict(
        TrackHour,
        ["track", "hour", "plays", "likes", "unlikes"],
        (
            (track, hour, c[EventType.PLAY], c[EventType.LIKE], c[EventType.UNLIKE])
            for (track, hour), c in sorted(hours.items())
        ),
        conflict=["track", "hour"],
        update_sql=(
            f"plays = {hour_table}.plays + excluded.plays, "
            f"likes = {hour_table}.likes + excluded.likes, "
            f"unlikes = {hour_table}.unlikes + excluded.unlikes"
        ),
    )


def _likes_apply(likes: list[CountableEvent]) -> Counter:
    """Keep each listener's latest like/unlike; a later-stamped one always wins. Returns
    the change in each track's listeners who like it. The states are read under the
    batch's counter-row locks (taken before), so no other batch changes them meanwhile."""
    latest = latest_states(likes, "track_id")
    if not latest:
        return Counter()
    before = dict(rows_by_keys(LikeState, ["track", "listener"], latest, ["liked"]))
    written = states_write(
        LikeState,
        latest,
        key="track",
        flag="liked",
        on=EventType.LIKE,
        returning=["track", "listener", "liked"],
    )
    change: Counter = Counter()
    for track, listener, liked in written:
        change[track] += bool(liked) - bool(before.get((track, listener), False))
    return change


def _stats_add(model, key: str, *, rows: list[tuple]) -> None:
    """One statement for all counter rows: add plays, new listeners and the change in likes."""
    stats_table = table(model)
    insert_on_conflict(
        model,
        [key, "plays", "listeners", "likes", "updated_at"],
        rows,
        conflict=[key],
        update_sql=(
            f"plays = {stats_table}.plays + excluded.plays, "
            f"listeners = {stats_table}.listeners + excluded.listeners, "
            f"likes = {stats_table}.likes + excluded.likes, "
            "updated_at = excluded.updated_at"
        ),
    )
