"""A counted event placed in its artist's time, and the rollup rows it makes.

Pure functions shared by counting (analytics.services.rollups), the rebuild from stored
events (analytics.services.rebuild), the reads (analytics.period_figures) and the bench's
SQL rebuild: the figures an event adds 1 to, the buckets they go to, the reach cells of
listener days and the breakdown floors as rows.
"""

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from analytics.dimensions import device_of, source_of
from analytics.hearing import outcome, parts_heard
from analytics.models import EventType
from analytics.periods import local_day, local_hour_floor

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
