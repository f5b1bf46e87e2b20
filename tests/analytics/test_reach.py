"""analytics.reach: distinct listeners over any days from the pairs' cells."""

import random
from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import reach

D0 = date(2026, 1, 1)


def distinct_from_cells(cells: Counter, first: date, last: date) -> int:
    wanted = set(reach.range_cells(first))
    return sum(n for (day, cell), n in cells.items() if first <= day <= last and cell in wanted)


def incremental(histories: dict[str, list[list[date]]]) -> Counter:
    """Cells after each listener's days arrive in the given batches (any order)."""
    cells: Counter = Counter()
    for batches in histories.values():
        stored: set[date] = set()
        for batch in batches:
            new = sorted(set(batch) - stored)
            stored |= set(new)
            ordered = sorted(stored)
            around = {}
            for d in new:
                i = ordered.index(d)
                around[d] = (
                    ordered[i - 1] if i else None,
                    ordered[i + 1] if i + 1 < len(ordered) else None,
                )
            cells.update(reach.pair_cells(reach.insertion_pairs(new, around)))
    return Counter({k: n for k, n in cells.items() if n})


days = st.lists(st.integers(0, 60).map(lambda i: D0 + timedelta(days=i)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from("abcdef"), st.lists(days, min_size=1, max_size=4), min_size=1)
)
def test_incremental_cells_equal_the_rebuilt_ones_and_count_exactly(histories):
    cells = incremental(histories)
    rebuilt: Counter = Counter()
    for batches in histories.values():
        rebuilt.update(reach.pair_cells(reach.sequence_pairs(d for b in batches for d in b)))
    assert cells == Counter({k: n for k, n in rebuilt.items() if n})
    rng = random.Random(len(histories))
    for _ in range(20):
        a, b = sorted(rng.sample(range(62), 2))
        first, last = D0 + timedelta(days=a), D0 + timedelta(days=b)
        expected = sum(
            any(first <= d <= last for batch in batches for d in batch)
            for batches in histories.values()
        )
        assert distinct_from_cells(cells, first, last) == expected


def test_new_listeners_are_cell_one():
    cells = reach.pair_cells(reach.sequence_pairs([D0, D0 + timedelta(days=3)]))
    assert cells[(D0, reach.NONE)] == 1
    assert (D0 + timedelta(days=3), reach.NONE) not in cells


def test_a_late_day_moves_the_next_days_pair():
    later = D0 + timedelta(days=5)
    cells = reach.pair_cells(reach.sequence_pairs([later]))
    cells.update(reach.pair_cells(reach.insertion_pairs([D0], {D0: (None, later)})))
    assert distinct_from_cells(cells, later, later) == 1
    assert distinct_from_cells(cells, D0, later) == 1
    # The listener is new on D0 now, not on the later day.
    assert cells.get((later, reach.NONE), 0) == 0
