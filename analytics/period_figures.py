"""Reads of a period's figures in the artist's time zone: totals, the series, the
comparison, breakdowns and listening. Only rollups and hourly buckets, never raw events:
the rows of days and months come added up from analytics.period_rows."""

import functools
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from django.db.models import Sum

from analytics.hearing import PARTS
from analytics.models import (
    ArtistStats,
    FilterReason,
    ListenerHour,
    Rollup,
    TrackHour,
)
from analytics.period_rows import (
    daily_get,
    floors_get,
    follower_changes_get,
    listeners_get,
    sums_get,
)
from analytics.periods import (
    Period,
    comparison_resolve,
    day_start,
    period_resolve,
)
from analytics.placed import DIMENSIONS, FLOOR, MIX, TRACK_MONTHLY, mix_split
from analytics.services.follows import FILTERED
from analytics.services.super_listeners import super_listeners_get
from mvsic.models import Artist, Track

BREAKDOWNS = {"source": "sources", "country": "countries", "device": "devices",
              "browser": "browsers", "os": "os"}  # fmt: skip
OUTCOMES = ("complete", "partial", "skip")


def _artist_state(artist: Artist) -> tuple[str, int]:
    """(the zone the artist's figures are kept in now, its history version)."""
    state = ArtistStats.objects.filter(artist=artist).values_list("zone", "history_version")
    return state.first() or ("UTC", 0)


def period_get(*, artist: Artist, params: dict, now: datetime) -> tuple[Period, Period | None]:
    """The period and its comparison asked for (raises PeriodError naming the parameter),
    stamped with the artist's history version: read before any of the figures."""
    zone, version = _artist_state(artist)
    name = params.get("period") or "7d"
    earliest = None
    if name == "all":  # only "all" starts at the artist's first month with data
        months = Rollup.objects.filter(scope="a", key=artist.id, span="m")
        earliest = months.order_by("start").values_list("start", flat=True).first()
    period = period_resolve(
        period=name,
        start=params.get("from"),
        end=params.get("to"),
        zone=zone,
        now=now,
        earliest=earliest,
    )
    previous = comparison_resolve(period, params.get("compare") or "previous")
    return (
        replace(period, stamp=version),
        replace(previous, stamp=version) if previous else None,
    )


def _hour_totals(track_filter: dict, period: Period) -> dict:
    """Plays, likes and listeners of an hourly period from the hourly buckets."""
    window = {"hour__gte": period.start, "hour__lt": period.end, **track_filter}
    sums = TrackHour.objects.filter(**window).aggregate(plays=Sum("plays"), likes=Sum("likes"))
    listeners = ListenerHour.objects.filter(**window).values("listener").distinct().count()
    return {"plays": sums["plays"] or 0, "likes": sums["likes"] or 0, "listeners": listeners}


def followers_by_day(key: int, period: Period) -> dict:
    """An artist's followers at the end of each day of the period, from its followers now
    and the daily changes since the period began (kept in the artist's "followers" rollup)."""
    stats = ArtistStats.objects.filter(artist_id=key).only("followers").first()
    changes = follower_changes_get(key, period)
    now = stats.followers if stats else 0
    at_end = now - sum(n for day, n in changes.items() if day > period.last_day)
    out = {}
    for day in reversed(list(period.days())):
        out[day] = at_end
        at_end -= changes.get(day, 0)
    return out


def totals_get(
    scope: str, key: int, period: Period, track_filter: dict, sums: dict | None = None
) -> dict:
    """The period's totals; `sums`: its rollups when the caller has read them already. An
    artist's also have its followers at the period's end and their net change in it (for
    24h: over the local days the 24 hours touch), and its filtered follows and unfollows by
    reason (over the same days)."""
    sums = sums_get(scope, [key], period) if sums is None else sums
    filtered = {r: sums.get((key, "filtered", r), 0) for r in FilterReason.values}
    listeners, new = listeners_get(scope, key, period)
    figures = {
        "plays": sums.get((key, "plays", ""), 0),
        "likes": sums.get((key, "likes", ""), 0),
        "listeners": listeners,
    }
    if period.name == "24h":
        figures = _hour_totals(track_filter, period)  # whole hours, not whole days
        new = min(new, figures["listeners"])
    return {
        "name": period.name,
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        **figures,
        "new_listeners": new,
        "returning_listeners": max(figures["listeners"] - new, 0),
        "filtered": {r: n for r, n in filtered.items() if n},
        **(
            {
                "followers": followers_by_day(key, period)[period.last_day],
                "followers_gained": sums.get((key, "followers", ""), 0),
                "filtered_follows": {
                    r: sums[(key, FILTERED, r)]
                    for r in FilterReason.values
                    if sums.get((key, FILTERED, r))
                },
            }
            if scope == "a"
            else {}
        ),
    }


def series_get(
    scope: str, key: int, period: Period, track_filter: dict, now: datetime | None = None
) -> list[dict]:
    """The period's points (up to the current hour or day when `now` is given)."""
    if period.granularity == "hour":
        rows = (
            TrackHour.objects.filter(hour__gte=period.start, hour__lt=period.end, **track_filter)
            .values_list("hour")
            .annotate(plays=Sum("plays"), likes=Sum("likes"))
        )
        found = {h: (p, li) for h, p, li in rows}
        return [
            {
                "hour": h.isoformat(),
                "plays": found.get(h, (0, 0))[0],
                "likes": found.get(h, (0, 0))[1],
            }
            for h in period.hours()
            if now is None or h <= now
        ]
    found = defaultdict(int, daily_get(scope, key, period))
    followers = followers_by_day(key, period) if scope == "a" else {}
    return [
        {"hour": _day_start(d, period.zone), "day": d.isoformat(),
         "plays": found[(d, "plays")], "likes": found[(d, "likes")],
         **({"followers": followers[d]} if followers else {})}
        for d in period.days()
    ]  # fmt: skip


@functools.lru_cache(maxsize=8192)
def _day_start(day: date, zone: str) -> str:
    """A local day's first instant as the series gives it (a 12-month series has 365)."""
    return day_start(day, zone).isoformat()


def breakdowns_get(scope: str, key: int, period: Period, totals: dict, sums: dict) -> dict:
    """Each dimension's rows by plays (from the period's rollups, `sums`); a value with
    fewer than FLOOR listeners on every day of the period is folded into "other", so no fan
    can be singled out."""
    floors = floors_get(scope, key, period)
    shown = {(metric[1:], value) for (metric, value), most in floors.items() if most >= FLOOR}
    plays: dict = defaultdict(int)
    for (_, metric, value), n in sums.items():
        if metric == MIX:
            for dimension, one in mix_split(value).items():
                plays[(dimension, one)] += n
    out: dict = {}
    for dimension in DIMENSIONS:
        rows, other = [], 0
        for (named, value), n in plays.items():
            if named != dimension:
                continue
            if (dimension, value) in shown and value not in ("", "other", "Other"):
                rows.append({"value": value, "plays": n})
            else:
                other += n
        rows.sort(key=lambda r: (-r["plays"], r["value"]))
        if other:
            rows.append({"value": "other", "plays": other})
        out[BREAKDOWNS[dimension]] = rows
    out["listeners"] = {
        "new": totals["new_listeners"],
        "returning": totals["returning_listeners"],
        # The artist's own, for the periods that end today (worked out every few minutes).
        "super": super_listeners_get(artist_id=key, period=period.name) if scope == "a" else None,
    }
    return out


def listening_get(sums: dict, key: int) -> tuple[dict, list[float]]:
    """(completion counts, retention: the share of playbacks that heard each 5% part)."""
    starts = sums.get((key, "heard", ""), 0)
    completion = {"starts": starts, **{o: sums.get((key, o, ""), 0) for o in OUTCOMES}}
    retention = [
        round(sums.get((key, "ret", f"{k:02d}"), 0) / starts, 4) if starts else 0.0
        for k in range(PARTS)
    ]
    return completion, retention


def period_figures_get(
    *,
    scope: str,
    key: int,
    period: Period,
    previous: Period | None,
    track_filter: dict,
    now: datetime,
) -> dict:
    """Everything the stats API adds for a period, for an artist ("a") or a track ("t")."""
    sums = sums_get(scope, [key], period)  # read once for the totals, breakdowns and listening
    totals = totals_get(scope, key, period, track_filter, sums)
    completion, retention = listening_get(sums, key)
    return {
        "period": totals,
        "timezone": period.zone,
        "granularity": period.granularity,
        "series": series_get(scope, key, period, track_filter, now),
        "previous": totals_get(scope, key, previous, track_filter) if previous else None,
        "previous_series": series_get(scope, key, previous, track_filter) if previous else [],
        "breakdowns": breakdowns_get(scope, key, period, totals, sums),
        "completion": completion,
        "retention": retention,
    }


def track_rows_get(*, tracks: list[Track], period: Period) -> dict[int, dict]:
    """Each track's plays, likes and listening in the period (one read for all)."""
    ids = [t.id for t in tracks]
    sums = sums_get("t", ids, period, metrics=sorted(TRACK_MONTHLY))
    rows = {}
    for track_id in ids:
        completion, retention = listening_get(sums, track_id)
        rows[track_id] = {
            "period_plays": sums.get((track_id, "plays", ""), 0),
            "period_likes": sums.get((track_id, "likes", ""), 0),
            "completion": completion,
            "retention": retention,
        }
    return rows
