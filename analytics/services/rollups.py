"""Counting into the artist's local time: rollups, the reach index and breakdown floors.

Called by counting inside its transaction, after the counter rows are locked, with each
new event placed in its artist's time zone. Every figure is written once per batch:
  - Rollup: additive figures by artist and track, local day and month (models.rollups);
  - ListenerDay and the "reach" cells: distinct listeners over any days (analytics.reach);
  - BreakdownListener and the "~<dimension>" floors: how many listeners (up to FLOOR) a
    breakdown value had on a day, so rows with fewer are folded into "other".
The rows themselves are worked out by analytics.placed.
"""

from collections import Counter, defaultdict
from datetime import date

from django.db import connection, transaction

from analytics import reach
from analytics.closed_days import closed_rows_keys, history_changed
from analytics.models import BreakdownListener, EventType, ListenerDay, ReachCell, Rollup
from analytics.placed import (
    FLOOR,
    Placed,
    dimensions_of,
    floor_rows,
    listener_days,
    reach_rows,
    rollup_rows,
)
from analytics.upsert import insert_on_conflict, rows_by_keys, rows_source, table
from mvsic.models import Track


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
    rollups_write(rows, _floors_add(plays) if plays else {})
    return first_heard


def rollups_write(additive: Counter, floors: dict[tuple, int]) -> None:
    """Add rollup rows ((scope, key, span, start, metric, value) -> n); floors keep the most.
    Rows of closed days raise their artists' history version (analytics.closed_days)."""
    artists, tracks = closed_rows_keys([*additive, *floors])
    if tracks:
        artists |= set(Track.objects.filter(id__in=tracks).values_list("artist_id", flat=True))
    history_changed(artists)
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
