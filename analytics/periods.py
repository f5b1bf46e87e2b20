"""A stats request's period, compare and time zone as exact ranges over the bucket keys, in
the artist's own IANA zone: hourly buckets keyed by the UTC instant a local hour began, daily
ones by the local date, monthly ones by the month's first local date. No database."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PERIODS = ("24h", "7d", "28d", "12m", "all", "custom")
COMPARES = ("previous", "year", "none")
CUSTOM_MAX_DAYS = 3660
YEAR_SHIFT_DAYS = 364  # 52 weeks: the compared days fall on the same weekdays
YEAR_MIN_DAYS = 28

_AREAS = re.compile(
    r"(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)/"
)
_KNOWN = frozenset(
    name
    for name in zoneinfo.available_timezones()
    if not name.startswith(("posix/", "right/"))
    and name not in ("localtime", "posixrules", "Factory")
)
# What a form offers: the geographic names and UTC, not the legacy aliases (US/Eastern, GB,
# EST5EDT, Etc/GMT+5...), which zone_get still accepts for artists saved with one.
ZONE_CHOICES = sorted(name for name in _KNOWN if _AREAS.match(name) or name == "UTC")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECOND = timedelta(seconds=1)
_HOUR = timedelta(hours=1)


class PeriodError(ValueError):
    """A request parameter that cannot be turned into a period; `param` names it."""

    def __init__(self, message: str, *, param: str):
        super().__init__(message)
        self.param = param
        self.message = message


def zone_get(name: str) -> ZoneInfo:
    if not isinstance(name, str) or name not in _KNOWN:
        raise PeriodError(f"unknown time zone {name!r}: use an IANA name", param="timezone")
    return ZoneInfo(name)


def _tz(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else zone_get(zone)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is needed")
    return moment.astimezone(UTC)


def _first_true(lo: datetime, hi: datetime, pred) -> datetime:
    """The first whole second after `lo` (pred false) up to `hi` (pred true) where pred holds;
    zone transitions fall on whole seconds."""
    low, high = 0, max(1, -(-(hi - lo) // _SECOND))
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if pred(lo + mid * _SECOND) else (mid, high)
    return min(lo + high * _SECOND, hi)


def local_hour_floor(moment: datetime, zone: ZoneInfo | str) -> datetime:
    """The UTC instant at which the local hour containing `moment` began."""
    tz, moment = _tz(zone), _utc(moment)
    local = moment.astimezone(tz)
    offset = local.utcoffset()
    floor = moment - (local - local.replace(minute=0, second=0, microsecond=0))
    if (offset - floor.astimezone(tz).utcoffset()) % _HOUR == timedelta(0):
        # Usually the same offset; after a shift by whole hours (DST, Chatham's at :45 too)
        # both offsets share this hour boundary, so the bucket stays one plain hour.
        return floor
    # A shift by a part of an hour (Lord Howe's 30 minutes) inside this local hour moved the
    # hour boundaries: this hour began at the shift.
    return _first_true(floor, moment, lambda t: t.astimezone(tz).utcoffset() == offset)


def _next_hour(hour: datetime, tz: ZoneInfo) -> datetime:
    """The first hour bucket start after `hour` (itself a bucket start)."""
    local = hour.astimezone(tz)
    candidate = hour - timedelta(minutes=local.minute, seconds=local.second) + _HOUR
    nxt = local_hour_floor(candidate, tz)
    if nxt <= hour:
        return candidate
    while (before := local_hour_floor(nxt - timedelta(microseconds=1), tz)) > hour:
        nxt = before  # a shift inside the hour started a bucket of its own
    return nxt


def _hours_back(hour: datetime, count: int, tz: ZoneInfo) -> datetime:
    """The start of the hour bucket `count` buckets before the one starting at `hour`."""
    for _ in range(count):
        hour = local_hour_floor(hour - timedelta(microseconds=1), tz)
    return hour


def local_day(moment: datetime, zone: ZoneInfo | str) -> date:
    return _utc(moment).astimezone(_tz(zone)).date()


def day_start(day: date, zone: ZoneInfo | str) -> datetime:
    """The UTC instant at which the local `day` began: local midnight, or the first instant
    after it where midnight was skipped (a whole skipped day gives the next day's start)."""
    tz = _tz(zone)
    midnight = datetime.combine(day, time(), tzinfo=tz)  # fold=0: the first of a repeated one
    start = midnight.astimezone(UTC)
    if start.astimezone(tz).replace(tzinfo=None) == midnight.replace(tzinfo=None):
        return start
    naive = datetime.combine(day, time(), tzinfo=UTC)
    lo, hi = naive - timedelta(hours=17), naive + timedelta(hours=41)
    return _first_true(lo, hi, lambda t: t.astimezone(tz).date() >= day)


@dataclass(frozen=True)
class Period:
    name: str
    zone: str
    first_day: date  # local dates, inclusive
    last_day: date
    start: datetime  # UTC instants, end exclusive
    end: datetime
    granularity: str  # "hour" or "day"
    stamp: int = 0  # the artist's history version when read (analytics.closed_days)

    @property
    def tz(self) -> ZoneInfo:
        return zone_get(self.zone)

    @property
    def length_days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def hours(self) -> list[datetime]:
        """The start instants of the local hours in [start, end), the hourly bucket keys."""
        return list(_hour_starts(self.start, self.end, self.zone))

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.length_days)]


@lru_cache(maxsize=512)
def _hour_starts(start: datetime, end: datetime, zone: str) -> tuple[datetime, ...]:
    """Kept: every read of a period in the same hour asks for the same buckets."""
    tz, hour, out = zone_get(zone), start, []
    while hour < end:
        out.append(hour)
        hour = _next_hour(hour, tz)
    return tuple(out)


def _days(name: str, zone: str, first: date, last: date, granularity: str = "day") -> Period:
    tz = zone_get(zone)
    start, end = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    return Period(name, zone, first, last, start, end, granularity)


def _hours(name: str, zone: str, start: datetime, end: datetime) -> Period:
    last = local_day(end - timedelta(microseconds=1), zone)
    return Period(name, zone, local_day(start, zone), last, start, end, "hour")


def _parse_day(value: str, param: str) -> date:
    if not _ISO_DATE.fullmatch(value):
        raise PeriodError(f"{param} must be a date as YYYY-MM-DD, not {value!r}", param=param)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"{param} is not a real date: {value!r}", param=param) from None


def period_resolve(
    *,
    period: str = "7d",
    start: str | None = None,
    end: str | None = None,
    zone: str = "UTC",
    now: datetime,
    earliest: date | None = None,
) -> Period:
    """The period a request asks for. `start`/`end` are the `from`/`to` query parameters
    (dates in the artist's zone, custom only); `earliest` is the first day with data, for
    "all"."""
    tz = zone_get(zone)
    today = local_day(now, tz)
    if period not in PERIODS:
        raise PeriodError(f"period must be one of {', '.join(PERIODS)}", param="period")
    if period != "custom":
        for param, value in (("from", start), ("to", end)):
            if value:
                raise PeriodError(f"{param} is only allowed with period=custom", param=param)
    if period == "24h":
        last = local_hour_floor(now, tz)
        return _hours(period, zone, _hours_back(last, 23, tz), _next_hour(last, tz))
    if period in ("7d", "28d", "12m"):
        days = {"7d": 7, "28d": 28, "12m": 365}[period]
        granularity = "hour" if period == "7d" else "day"
        return _days(period, zone, today - timedelta(days=days - 1), today, granularity)
    if period == "all":
        return _days(period, zone, min(earliest or today, today), today)
    if not start:
        raise PeriodError("from is required with period=custom", param="from")
    if not end:
        raise PeriodError("to is required with period=custom", param="to")
    first, last = _parse_day(start, "from"), _parse_day(end, "to")
    if last > today:
        raise PeriodError(f"to cannot be after today ({today.isoformat()})", param="to")
    if first > last:
        raise PeriodError("from must be on or before to", param="from")
    if (last - first).days + 1 > CUSTOM_MAX_DAYS:
        raise PeriodError(f"a custom period spans at most {CUSTOM_MAX_DAYS} days", param="from")
    return _days(period, zone, first, last)


def comparison_resolve(period: Period, compare: str) -> Period | None:
    """The period to compare `period` with: none, the one just before it, or 52 weeks back."""
    if compare not in COMPARES:
        raise PeriodError(f"compare must be one of {', '.join(COMPARES)}", param="compare")
    if compare == "none":
        return None
    if compare == "previous":
        if period.name == "24h":
            first = _hours_back(period.start, len(period.hours()), period.tz)
            return _hours(period.name, period.zone, first, period.start)
        shift = timedelta(days=period.length_days)
        first, last = period.first_day - shift, period.last_day - shift
        return _days(period.name, period.zone, first, last, period.granularity)
    if period.name not in ("28d", "12m", "custom") or period.length_days < YEAR_MIN_DAYS:
        needs = f"year comparison needs period 28d, 12m or custom of {YEAR_MIN_DAYS}+ days"
        raise PeriodError(needs, param="compare")
    shift = timedelta(days=YEAR_SHIFT_DAYS)
    return _days(period.name, period.zone, period.first_day - shift, period.last_day - shift)


def month_split(first_day: date, last_day: date) -> tuple[list[date], list[date]]:
    """(first days of the calendar months wholly inside first_day..last_day, the other days
    of the range), both in order: monthly buckets for the first, daily ones for the rest."""
    if first_day > last_day:
        raise ValueError("first_day is after last_day")
    months, days, day = [], [], first_day
    while day <= last_day:
        month_start = day.replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        if day == month_start and next_month - timedelta(days=1) <= last_day:
            months.append(month_start)
            day = next_month
        else:
            stop = min(next_month - timedelta(days=1), last_day)
            days.extend(day + timedelta(days=i) for i in range((stop - day).days + 1))
            day = stop + timedelta(days=1)
    return months, days
