"""Rebuild an artist's local-time figures from its stored events (a change of time zone).

Hours, days and months are kept in the artist's zone (ArtistStats.zone). When its members
pick another zone, this task moves the artist under its counter lock: counting batches for
its tracks wait, then count in the new zone. The hourly buckets, the rollups and the sets
behind them are rebuilt from the events with the functions counting itself uses.
"""

from collections import Counter, defaultdict
from itertools import islice

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from analytics import reach
from analytics.closed_days import history_changed
from analytics.models import (
    ArtistStats,
    BreakdownListener,
    Event,
    EventType,
    FilteredHour,
    ListenerDay,
    ListenerHour,
    ReachCell,
    Rollup,
    TrackHour,
)
from analytics.periods import zone_get
from analytics.placed import (
    FLOOR,
    Placed,
    dimensions_of,
    floor_rows,
    place,
    reach_rows,
    rollup_rows,
)
from analytics.services.follows_reconcile import (
    filtered_follow_rollups_expected,
    follower_rollups_expected,
)
from analytics.services.pruning import listener_hours_since
from mvsic.models import Artist, Track

CHUNK = 5000
FIELDS = (
    "type", "track_id", "listener", "ts", "reason", "seconds", "heard", "source", "referrer",
    "country", "user_agent__text",
)  # fmt: skip


def artist_zone_rebuild(*, artist_id: int) -> bool:
    """Put the artist's figures in its chosen zone; False if they already were."""
    with transaction.atomic():
        artist = Artist.objects.get(pk=artist_id)
        ArtistStats.objects.get_or_create(artist=artist)
        stats = ArtistStats.objects.select_for_update().get(artist=artist)
        if stats.zone == artist.timezone:
            return False
        stats.zone = artist.timezone
        stats.save(update_fields=["zone"])
        artist_figures_rebuild(artist=artist)
    return True


def zones_sync() -> list[int]:
    """Rebuild every artist whose figures are not yet in its chosen zone; their ids."""
    moved = []
    for artist_id in (
        Artist.objects.exclude(stats__zone=F("timezone"))
        .filter(Q(stats__isnull=False) | ~Q(timezone="UTC"))
        .values_list("id", flat=True)
    ):
        if artist_zone_rebuild(artist_id=artist_id):
            moved.append(artist_id)
    return moved


def artist_figures_rebuild(*, artist: Artist) -> None:
    """Replace the artist's hours, rollups and their sets with what its events imply, in
    its ArtistStats zone. The caller holds the artist's counter row locked."""
    tracks = list(Track.objects.filter(artist=artist).values_list("id", flat=True))
    hours, listener_hours, filtered, rollups, days, floors = _expected(artist)
    _figures_delete(artist.id, tracks)
    _hours_write(hours, listener_hours, filtered)
    _rollups_write(*_rollups_final(rollups, days, floors, artist.id))
    history_changed([artist.id])


def artist_figures_differences(*, artist: Artist) -> list[dict]:
    """Rollups and hourly buckets of the artist that differ from what its events imply."""
    hours, _, filtered, rollups, days, floors = _expected(artist)
    tracks = list(Track.objects.filter(artist=artist).values_list("id", flat=True))
    wanted_days: Counter = Counter()
    for (scope, key, _), seen in days.items():
        wanted_days[(scope, key)] += len(seen)
    stored_days = Counter(
        dict(
            ((s, k), n)
            for s, k, n in ListenerDay.objects.filter(
                Q(scope="a", key=artist.id) | Q(scope="t", key__in=tracks)
            )
            .values_list("scope", "key")
            .annotate(n=Count("id"))
        )
    )
    wanted_rollups = _rollups_final(rollups, days, floors, artist.id)[0]
    stored_rollups = {
        (s, k, sp, st, m, v): n
        for s, k, sp, st, m, v, n in Rollup.objects.filter(
            Q(scope="a", key=artist.id) | Q(scope="t", key__in=tracks)
        )
        .exclude(n=0)
        .values_list("scope", "key", "span", "start", "metric", "value", "n")
    } | {
        (s, k, sp, st, "reach", str(c)): n
        for s, k, sp, st, c, n in ReachCell.objects.filter(
            Q(scope="a", key=artist.id) | Q(scope="t", key__in=tracks)
        )
        .exclude(n=0)
        .values_list("scope", "key", "span", "start", "cell", "n")
    }
    stored_hours = {
        (t, h, kind): n
        for t, h, *counts in TrackHour.objects.filter(track_id__in=tracks).values_list(
            "track_id", "hour", "plays", "likes", "unlikes"
        )
        for kind, n in zip(("play", "like", "unlike"), counts, strict=True)
        if n
    }
    wanted_hours = {(t, h, kind): n for (t, h), c in hours.items() for kind, n in c.items() if n}
    stored_filtered = dict(
        ((t, h, r), n)
        for t, h, r, n in FilteredHour.objects.filter(track_id__in=tracks).values_list(
            "track_id", "hour", "reason", "events"
        )
    )
    found = []
    for kind, stored, wanted in (
        ("rollup", stored_rollups, {k: n for k, n in wanted_rollups.items() if n}),
        ("hour", stored_hours, wanted_hours),
        ("filtered", stored_filtered, dict(filtered)),
        ("listener_days", stored_days, wanted_days),
    ):
        for key in sorted(stored.keys() | wanted.keys(), key=str):
            if stored.get(key, 0) != wanted.get(key, 0):
                field = {"rollup": "n", "filtered": "events", "listener_days": "count"}.get(
                    kind
                ) or f"{key[2]}s"
                found.append(
                    {"table": kind, "key": "/".join(map(str, key)), "field": field,
                     "stored": stored.get(key, 0), "expected": wanted.get(key, 0)}
                )  # fmt: skip
    return found


def _expected(artist: Artist) -> tuple:
    stats = ArtistStats.objects.filter(artist=artist).only("zone").first()
    zone = zone_get(stats.zone if stats else "UTC")  # no stats: nothing counted yet
    tracks = dict(Track.objects.filter(artist=artist).values_list("id", "duration"))
    hours: dict = defaultdict(Counter)
    listener_hours, filtered, rollups = set(), Counter(), Counter()
    days: dict = defaultdict(set)
    floors: dict = defaultdict(set)
    rows = (
        Event.objects.filter(track_id__in=list(tracks))
        .order_by("ts", "received_at", "id")
        .values_list(*FIELDS)
        .iterator(CHUNK)
    )
    while chunk := list(islice(rows, CHUNK)):
        placed = []
        for kind, track, listener, ts, reason, seconds, heard, *rest in chunk:
            hour, day = place(ts, zone)
            source, referrer, country, agent = rest
            p = Placed(
                type=kind, track_id=track, artist_id=artist.id, listener=listener, hour=hour,
                day=day, reason=reason, seconds=seconds, heard=heard, duration=tracks[track],
                source=source, referrer=referrer, country=country, user_agent=agent,
            )  # fmt: skip
            placed.append(p)
            if reason:
                filtered[(track, hour, reason)] += 1
            elif kind != EventType.HEARD:
                hours[(track, hour)][kind] += 1
            if kind == EventType.PLAY and not reason:
                listener_hours.add((track, hour, listener))
                days[("a", artist.id, listener)].add(day)
                days[("t", track, listener)].add(day)
                for dimension, value in dimensions_of(p):
                    floors[(track, day, dimension, value)].add(listener)
        rollups.update(rollup_rows(placed))
    rollups.update(follower_rollups_expected(artist_id=artist.id, zone=zone))
    rollups.update(filtered_follow_rollups_expected(artist_id=artist.id, zone=zone))
    return hours, listener_hours, filtered, rollups, days, floors


def _figures_delete(artist_id: int, track_ids: list[int]) -> None:
    for model in (TrackHour, ListenerHour, FilteredHour):
        model.objects.filter(track_id__in=track_ids).delete()
    for model in (Rollup, ReachCell, ListenerDay):
        model.objects.filter(scope="a", key=artist_id).delete()
        model.objects.filter(scope="t", key__in=track_ids).delete()
    BreakdownListener.objects.filter(track_id__in=track_ids).delete()


def _hours_write(hours: dict, listener_hours: set, filtered: Counter) -> None:
    TrackHour.objects.bulk_create(
        [
            TrackHour(track_id=t, hour=h, plays=c["play"], likes=c["like"], unlikes=c["unlike"])
            for (t, h), c in sorted(hours.items())
        ],
        batch_size=CHUNK,
    )
    since = listener_hours_since(timezone.now())
    ListenerHour.objects.bulk_create(
        [
            ListenerHour(track_id=t, hour=h, listener=li)
            for t, h, li in sorted(listener_hours)
            if h >= since
        ],
        batch_size=CHUNK,
    )
    FilteredHour.objects.bulk_create(
        [FilteredHour(track_id=t, hour=h, reason=r, events=n) for (t, h, r), n in filtered.items()],
        batch_size=CHUNK,
    )


def _rollups_final(rollups: Counter, days: dict, floors: dict, artist_id: int) -> tuple:
    """(every rollup row with the reach cells and floors, the listener days, the floors'
    listeners) of an artist from its counted events."""
    changes: Counter = Counter()
    listener_days = []
    for (scope, key, listener), seen in days.items():
        listener_days.extend(
            ListenerDay(scope=scope, key=key, listener=listener, day=d) for d in seen
        )
        for (day, cell), n in reach.pair_cells(reach.sequence_pairs(seen)).items():
            changes[(scope, key, day, cell)] += n
    rollups.update(reach_rows(changes))
    kept, floors_reached = [], {}
    for (track, day, dimension, value), listeners in floors.items():
        first = sorted(listeners)[:FLOOR]
        kept.extend(
            BreakdownListener(
                track_id=track, day=day, dimension=dimension, value=value, listener=listener
            )
            for listener in first
        )
        floors_reached[(artist_id, track, day, dimension, value)] = len(first)
    for key, n in floor_rows(floors_reached).items():
        rollups[key] = n
    return rollups, listener_days, kept


def _rollups_write(rollups: Counter, listener_days: list, kept: list) -> None:
    ListenerDay.objects.bulk_create(listener_days, batch_size=CHUNK)
    BreakdownListener.objects.bulk_create(kept, batch_size=CHUNK)
    Rollup.objects.bulk_create(
        [
            Rollup(scope=s, key=k, span=sp, start=st, metric=m, value=v, n=n)
            for (s, k, sp, st, m, v), n in rollups.items()
            if n and m != "reach"
        ],
        batch_size=CHUNK,
    )
    ReachCell.objects.bulk_create(
        [
            ReachCell(scope=s, key=k, span=sp, start=st, cell=int(c), n=n)
            for (s, k, sp, st, m, c), n in rollups.items()
            if n and m == "reach"
        ],
        batch_size=CHUNK,
    )
