"""Distinct listeners over any range of days, read from a few rows: the reach index.

A listener's credited days with an artist (or a track) d1 < d2 < ... are stored as the
pairs (d1, none), (d2, d1), (d3, d2), ...: each day with the listener's previous day. A
listener played in [a, b] exactly when one of their days d in [a, b] has its previous day
before a (or none), so

    distinct listeners in [a, b] = pairs with a <= d <= b and previous < a.

For each day the pairs are kept in a Fenwick tree over the previous day, whose cells are
ReachCell rows: a range reads at most 16 cells per day or month summed, and a pair adds 1
to at most 16 cells. Pairs with no previous day, the listeners first heard that day, are
cell 0 alone (the most common pair costs one row). A previous day before EPOCH counts as
EPOCH: ranges start after it.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

EPOCH = date(2000, 1, 1)
SIZE = 1 << 15  # positions: previous days up to 2089
NONE = 0  # the cell of "no previous day", outside the tree


def position(previous: date | None) -> int:
    return NONE if previous is None else max((previous - EPOCH).days + 1, 1)


def update_cells(pos: int) -> list[int]:
    """The cells a pair at `pos` adds to."""
    if pos == NONE:
        return [NONE]
    cells = []
    while pos <= SIZE:
        cells.append(pos)
        pos += pos & -pos
    return cells


def prefix_cells(pos: int) -> list[int]:
    """The cells whose sum counts the pairs at positions up to `pos`."""
    cells = []
    while pos > 0:
        cells.append(pos)
        pos -= pos & -pos
    return cells


def range_cells(first_day: date) -> list[int]:
    """The cells to sum over [first_day, b] for its distinct listeners."""
    return [NONE, *prefix_cells(position(first_day - timedelta(days=1)))]


def pair_cells(pairs: Iterable[tuple[date, date | None, int]]) -> Counter:
    """(day, cell) -> change, for pairs (day, previous day, +1 or -1)."""
    changes: Counter = Counter()
    for day, previous, sign in pairs:
        for cell in update_cells(position(previous)):
            changes[(day, cell)] += sign
    return Counter({key: n for key, n in changes.items() if n})


def sequence_pairs(days: Iterable[date]) -> list[tuple[date, date | None, int]]:
    """The pairs of one listener's whole sequence of days (for rebuilds)."""
    pairs, previous = [], None
    for day in sorted(set(days)):
        pairs.append((day, previous, 1))
        previous = day
    return pairs


def insertion_pairs(
    new_days: Iterable[date], neighbours: dict[date, tuple[date | None, date | None]]
) -> list[tuple[date, date | None, int]]:
    """The pairs that change when one listener's `new_days` join their stored days.

    `neighbours` gives each new day's previous and next day among all days now stored (the
    new ones included). Each new day pairs with its previous day; an old day that follows a
    run of new days loses its pair with the old day before the run and pairs with the
    run's last day instead.
    """
    new = sorted(set(new_days))
    fresh = set(new)
    pairs = []
    run_start_previous = None
    for i, day in enumerate(new):
        previous, following = neighbours[day]
        if i == 0 or previous not in fresh:
            run_start_previous = previous  # an old day (or none) begins this run
        pairs.append((day, previous, 1))
        if following is not None and following not in fresh:
            pairs.append((following, run_start_previous, -1))
            pairs.append((following, day, 1))
    return pairs
