"""Counting into the artist's local time: rollups, the reach index and breakdown floors.

Called by counting inside its transaction, after the counter rows are locked, with each
new event placed in its artist's time zone. Every figure is written once per batch:
  - Rollup: additive figures by artist and track, local day and month (models.rollups);
  - ListenerDay and the "reach" cells: distinct listeners over any days (analytics.reach);
  - BreakdownListener and the "~<dimension>" floors: how many listeners (up to FLOOR) a
    breakdown value had on a day, so rows with fewer are folded into "other".
`figures_of` is also what a rebuild (analytics.services.rebuild) applies to stored events.
"""

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from analytics import reach
from analytics.dimensions import device_of, source_of
from analytics.hearing import outcome, parts_heard
from analytics.models import BreakdownListener, EventType, ListenerDay, ReachCell, Rollup
from analytics.periods import local_day, local_hour_floor
from analytics.upsert import insert_on_conflict, rows_by_keys, rows_source, table

DIMENSIONS = ("source", "country", "device", "browser", "os")
FLOOR = 5  # listeners a breakdown row needs on one day of the period to be shown
MIX = "mix"  # plays by their combination of breakdown values: one row, not one per dimension
SEPARATOR = "|"


@dataclass(frozen=True)
class Placed:
    """A counted event in its artist's time: what rollups need of it."""

    type: str
    track_id: int
    artist_id: int
    listener: str
    hour: datetime  # the start of its local hour (UTC)
    day: date  # its local day
    reason: str
    seconds: float | None
    heard: int | None
    duration: float
    source: str = ""
    referrer: str = ""
    country: str = ""
    user_agent: str | None = None
    zone: str = "UTC"

    @property
    def month(self) -> date:
        return self.day.replace(day=1)


def place(moment: datetime, zone: ZoneInfo) -> tuple[datetime, date]:
    """(local hour start, local day) of a moment in a zone."""
    quarter = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return _place_quarter(quarter, zone)


@functools.lru_cache(maxsize=8192)
def _place_quarter(quarter: datetime, zone: ZoneInfo) -> tuple[datetime, date]:
    # Every zone's hours and changes begin on a quarter of a UTC hour: a quarter's moments
    # share their local hour and day.
    return local_hour_floor(quarter, zone), local_day(quarter, zone)


def dimensions_of(p: Placed) -> list[tuple[str, str]]:
    device, browser, system = device_of(p.user_agent or "")
    return [
        ("source", source_of(p.source, p.referrer)),
        ("country", p.country),
        ("device", device),
        ("browser", browser),
        ("os", system),
    ]


def mix_value(dimensions: list[tuple[str, str]]) -> str:
    return SEPARATOR.join(v.replace(SEPARATOR, "/") for _, v in dimensions)


def mix_split(value: str) -> dict[str, str]:
    """A "mix" rollup's value back into its breakdown values, by dimension."""
    return dict(zip(DIMENSIONS, value.split(SEPARATOR), strict=True))


def figures_of(p: Placed) -> list[tuple[str, str]]:
    """The (metric, value) figures one counted event adds 1 to."""
    if p.reason:
        return [("filtered", p.reason)]
    if p.type == EventType.PLAY:
        return [("plays", ""), (MIX, mix_value(dimensions_of(p)))]
    if p.type == EventType.HEARD:
        heard = [("ret", f"{k:02d}") for k in parts_heard(p.heard or 0)]
        return [("heard", ""), (outcome(p.seconds or 0.0, p.duration), ""), *heard]
    return [("likes" if p.type == EventType.LIKE else "unlikes", "")]


# A track's figures its artist's table of tracks reads for every track: kept by month too.
TRACK_MONTHLY = frozenset({"plays", "likes", "heard", "complete", "partial", "skip", "ret"})


def spans(scope: str, day: date, metric: str = "") -> tuple:
    """The buckets a day's figure goes to: its day, and its month for an artist and for the
    figures of a track that its artist's table reads (the rest of a track's are read by
    day: a track has a few rows a day)."""
    if scope == "a" or metric in TRACK_MONTHLY:
        return (("d", day), ("m", day.replace(day=1)))
    return (("d", day),)


def rollup_rows(placed: Iterable[Placed]) -> Counter:
    """(scope, key, span, start, metric, value) -> count, for both scopes."""
    counts: Counter = Counter()
    for p in placed:
        for metric, value in figures_of(p):
            counts[("a", p.artist_id, "d", p.day, metric, value)] += 1
            counts[("a", p.artist_id, "m", p.month, metric, value)] += 1
            counts[("t", p.track_id, "d", p.day, metric, value)] += 1
            if metric in TRACK_MONTHLY:
                counts[("t", p.track_id, "m", p.month, metric, value)] += 1
    return counts


def listener_days(plays: Iterable[Placed]) -> set[tuple[str, int, str, date]]:
    days = set()
    for p in plays:
        days.add(("a", p.artist_id, p.listener, p.day))
        days.add(("t", p.track_id, p.listener, p.day))
    return days


def reach_rows(changes: Counter) -> Counter:
    """Reach cell changes ((scope, key, day, cell) -> n) as rollup rows of both spans."""
    rows: Counter = Counter()
    for (scope, key, day, cell), n in changes.items():
        for span, start in spans(scope, day):
            rows[(scope, key, span, start, "reach", str(cell))] += n
    return Counter({k: n for k, n in rows.items() if n})


def floor_rows(floors: dict[tuple[int, int, date, str, str], int]) -> dict[tuple, int]:
    """Breakdown floors ((artist, track, day, dimension, value) -> listeners, at most
    FLOOR) as rollup rows: the track's day, and the most of any day for the artist's day
    and month (a lower bound of the artist's listeners with that value)."""
    rows: dict[tuple, int] = {}
    for (artist, track, day, dimension, value), n in floors.items():
        metric = f"~{dimension}"
        for scope, key in (("a", artist), ("t", track)):
            for span, start in spans(scope, day):
                k = (scope, key, span, start, metric, value)
                rows[k] = max(rows.get(k, 0), n)
    return rows


# --- writes, inside the counting transaction --------------------------------------------------
def rollups_count(placed: list[Placed]) -> Counter:
    """Add a batch's new events (credited or filtered) to the rollups; returns the
    listeners heard for the first time ever, by (scope, key)."""
    rows = rollup_rows(placed)
    plays = [p for p in placed if p.type == EventType.PLAY and not p.reason]
    first_heard: Counter = Counter()
    if plays:
        changes, first_heard = _reach_changes(plays)
        rows.update(reach_rows(changes))
    _rollups_write(rows, _floors_add(plays) if plays else {})
    return first_heard


def _rollups_write(additive: Counter, floors: dict[tuple, int]) -> None:
    cells = {k: n for k, n in additive.items() if k[4] == "reach"}
    if cells:
        additive = Counter({k: n for k, n in additive.items() if k[4] != "reach"})
        reach_write(cells)
    t = table(Rollup)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    insert_on_conflict(
        Rollup,
        ["scope", "key", "span", "start", "metric", "value", "n"],
        sorted([*((*k, n) for k, n in additive.items()), *((*k, n) for k, n in floors.items())]),
        conflict=["scope", "key", "span", "start", "metric", "value"],
        # Floors keep the most seen ("~" metrics); every other figure adds up.
        update_sql=(
            f"n = CASE WHEN substr({t}.metric, 1, 1) = '~' THEN {greatest}({t}.n, excluded.n) "
            f"ELSE {t}.n + excluded.n END"
        ),
    )


def reach_write(cells: dict[tuple, int]) -> None:
    """Add reach rows ((scope, key, span, start, "reach", cell) -> n) to their cells."""
    t = table(ReachCell)
    insert_on_conflict(
        ReachCell,
        ["scope", "key", "cell", "span", "start", "n"],
        sorted((s, k, int(c), sp, st, n) for (s, k, sp, st, _, c), n in cells.items()),
        conflict=["scope", "key", "cell", "span", "start"],
        update_sql=f"n = {t}.n + excluded.n",
    )


def _reach_changes(plays: list[Placed]) -> tuple[Counter, Counter]:
    """Store the batch's listener days; (the reach cells their new days change, the
    listeners with no day stored before, by scope and key)."""
    found = _listener_days_add(sorted(listener_days(plays)))
    if not found:
        return Counter(), Counter()
    by_listener: dict[tuple, list[date]] = defaultdict(list)
    for scope, key, listener, day in found:
        by_listener[(scope, key, listener)].append(day)
    changes: Counter = Counter()
    first_heard: Counter = Counter()
    for (scope, key, listener), days in by_listener.items():
        days.sort()
        around = {}
        for i, day in enumerate(days):
            # The nearest stored day on each side, the batch's other new days included.
            before, after = found[(scope, key, listener, day)]
            if i and (before is None or days[i - 1] > before):
                before = days[i - 1]
            if i + 1 < len(days) and (after is None or days[i + 1] < after):
                after = days[i + 1]
            around[day] = (before, after)
        for (day, cell), n in reach.pair_cells(reach.insertion_pairs(days, around)).items():
            changes[(scope, key, day, cell)] += n
        # No neighbour outside the batch's own days: no day was stored before.
        if {d for pair in around.values() for d in pair} <= {None, *days}:
            first_heard[(scope, key)] += 1
    return changes, first_heard


def _listener_days_add(rows: list[tuple]) -> dict[tuple, tuple[date | None, date | None]]:
    """Insert listener days; for each one that was new, the listener's nearest stored days
    before and after it (PostgreSQL: in the same statement, so without the batch's other
    new days; elsewhere with them: the caller takes the nearest of both)."""
    fields = ["scope", "key", "listener", "day"]
    t = table(ListenerDay)
    same = "d.scope = k.scope AND d.key = k.key AND d.listener = k.listener"
    around = (
        f"(SELECT MAX(d.day) FROM {t} d WHERE {same} AND d.day < k.day), "  # noqa: S608
        f"(SELECT MIN(d.day) FROM {t} d WHERE {same} AND d.day > k.day)"
    )
    if connection.vendor == "postgresql":
        source, params = rows_source(ListenerDay, fields, rows)
        sql = (
            f"WITH r(scope, key, listener, day) AS ({source}), "  # noqa: S608
            f"k AS (INSERT INTO {t} (scope, key, listener, day) SELECT * FROM r "
            "ON CONFLICT (scope, key, listener, day) DO NOTHING "
            "RETURNING scope, key, listener, day) "
            f"SELECT k.scope, k.key, k.listener, k.day, {around} FROM k"
        )
    else:
        written = insert_on_conflict(ListenerDay, fields, rows, conflict=fields, returning=fields)
        if not written:
            return {}
        source, params = rows_source(ListenerDay, fields, written)
        sql = f"WITH k(scope, key, listener, day) AS ({source}) SELECT k.*, {around} FROM k"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (scope, int(key), listener, _date(day)): (_date(before), _date(after))
            for scope, key, listener, day, before, after in cursor.fetchall()
        }


class _Closed:
    """Floors known to have reached FLOOR, per process: a floor never goes down, so a
    batch skips them without a query. Keyed by zone too (a zone change moves days)."""

    def __init__(self):
        self.keys: set[tuple] = set()

    def clear(self) -> None:
        self.keys.clear()


closed_floors = _Closed()


def _floors_add(plays: list[Placed]) -> dict[tuple, int]:
    """Record up to FLOOR listeners per track, day and breakdown value; the floors the
    batch raised, as rollup rows."""
    artist_of = {p.track_id: p.artist_id for p in plays}
    zone_of = {p.track_id: p.zone for p in plays}
    if len(closed_floors.keys) > 200_000:
        closed_floors.clear()  # a bound on memory: at worst, some floors are read again
    wanted = {
        (p.track_id, p.day, dimension, value, p.listener)
        for p in plays
        for dimension, value in dimensions_of(p)
        if (p.zone, p.track_id, p.day, dimension, value) not in closed_floors.keys
    }
    if not wanted:
        return {}
    keys = {("t", track, "d", day, f"~{dim}", value) for track, day, dim, value, _ in wanted}
    current = {
        key: n
        for key, n in rows_by_keys(
            Rollup, ["scope", "key", "span", "start", "metric", "value"], keys, ["n"]
        )
    }
    open_rows = [
        row
        for row in wanted
        if current.get(("t", row[0], "d", row[1], f"~{row[2]}", row[3]), 0) < FLOOR
    ]
    written = insert_on_conflict(
        BreakdownListener,
        ["track_id", "day", "dimension", "value", "listener"],
        sorted(open_rows),
        conflict=["track_id", "day", "dimension", "value", "listener"],
        returning=["track_id", "day", "dimension", "value"],
    )
    added = Counter((int(t), _date(d), dim, v) for t, d, dim, v in written)
    floors = {
        (artist_of[track], track, day, dim, value): min(
            FLOOR, current.get(("t", track, "d", day, f"~{dim}", value), 0) + n
        )
        for (track, day, dim, value), n in added.items()
    }
    # Closed once this batch commits (a rolled-back batch only makes a later one read).
    reached = {
        (zone_of[track], track, day, dim, value)
        for (_, track, day, dim, value), n in floors.items()
        if n >= FLOOR
    } | {(zone_of[k[1]], k[1], k[3], k[4][1:], k[5]) for k, n in current.items() if n >= FLOOR}
    transaction.on_commit(lambda: closed_floors.keys.update(reached))
    return floor_rows(floors)


def _date(value) -> date | None:
    """A date column's value (SQLite returns text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value
