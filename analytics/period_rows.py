"""A period's rows from the rollups and the reach cells, added up: what period_figures
shapes. A period reads whole months plus the days left over (analytics.models.rollups), and
its closed days once (analytics.closed_days)."""

from datetime import date

from django.db.models import Max, Q, Sum

from analytics import reach
from analytics.closed_days import added, closed_read, greatest
from analytics.models import ReachCell, Rollup
from analytics.periods import Period, month_split


def _spans(first: date, last: date, scope: str = "a") -> Q:
    """An artist's days: their whole months and the days left over; a track's: its days."""
    if scope == "t":
        return Q(span="d", start__gte=first, start__lte=last)
    months, days = month_split(first, last)
    return Q(span="m", start__in=months) | Q(span="d", start__in=days)


def _kept(period: Period, what: tuple, read, merge=added, *, last: date | None = None) -> dict:
    """read(first, last) over the period's days (or to `last`), its closed days from the
    cache (analytics.closed_days)."""
    stamp = (*what, period.zone, period.stamp)
    return closed_read(stamp, period.first_day, last or period.last_day, read, merge)


def sums_get(
    scope: str, keys: list[int], period: Period, metrics=None
) -> dict[tuple[int, str, str], int]:
    """(key, metric, value) -> sum over the period; with `metrics` (kept by month for
    tracks too), only those, read by month."""

    def read(first: date, last: date) -> dict:
        rows = (
            Rollup.objects.filter(
                _spans(first, last) if metrics else _spans(first, last, scope),
                scope=scope,
                key__in=keys,
            )
            .exclude(metric__startswith="~")
            .filter(**({"metric__in": metrics} if metrics else {}))
            .values_list("key", "metric", "value")
            .annotate(n=Sum("n"))
        )
        return {(k, m, v): n for k, m, v, n in rows}

    return _kept(period, ("sums", scope, tuple(keys), tuple(metrics or ())), read)


def listeners_get(scope: str, key: int, period: Period) -> tuple[int, int]:
    """(distinct listeners, listeners first heard) in the period's days."""
    cells = reach.range_cells(period.first_day)  # the same cells for every part of the days

    def read(first: date, last: date) -> dict:
        return dict(
            ReachCell.objects.filter(_spans(first, last, scope), scope=scope, key=key)
            .filter(cell__in=cells)
            .values_list("cell")
            .annotate(n=Sum("n"))
        )

    found = _kept(period, ("reach", scope, key), read)
    return sum(found.get(c, 0) for c in cells), found.get(reach.NONE, 0)


def daily_get(scope: str, key: int, period: Period) -> dict[tuple[date, str], int]:
    """(day, "plays" or "likes") -> count, for the period's days that have any."""

    def read(first: date, last: date) -> dict:
        rows = Rollup.objects.filter(
            scope=scope, key=key, span="d", metric__in=("plays", "likes"),
            start__gte=first, start__lte=last,
        ).values_list("start", "metric").annotate(n=Sum("n"))  # fmt: skip
        return {(day, metric): n for day, metric, n in rows}

    return _kept(period, ("series", scope, key), read)


def follower_changes_get(key: int, period: Period) -> dict[date, int]:
    """An artist's net follows by day, from the period's first day to today."""

    def read(first: date, last: date) -> dict:
        days = Rollup.objects.filter(
            scope="a", key=key, span="d", metric="followers", start__gte=first, start__lte=last
        )
        return dict(days.values_list("start", "n"))

    return _kept(period, ("followers", key), read, last=date.max)


def floors_get(scope: str, key: int, period: Period) -> dict[tuple[str, str], int]:
    """("~<dimension>", value) -> the most listeners the value had on one day of the period
    (kept up to FLOOR)."""

    def read(first: date, last: date) -> dict:
        rows = Rollup.objects.filter(
            _spans(first, last, scope), scope=scope, key=key, metric__startswith="~"
        )
        return {(m, v): most for m, v, most in rows.values_list("metric", "value").annotate(
            most=Max("n"))}  # fmt: skip

    return _kept(period, ("floors", scope, key), read, greatest)
