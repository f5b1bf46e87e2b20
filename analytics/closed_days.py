"""What the stats reads keep of closed days, so a long period reads as fast as a short one.

A day is closed once no event from now on can land on it in any zone: local days run at
most a day behind UTC, so every day up to two days before today's UTC date. A period's
rollups, reach cells and series over its closed days are read once and kept in Django's
cache; only the days after them are read on each request. The cache key carries the
artist's `history_version`, which every write to a closed day raises in the same
transaction (a late event, a rebuild, a deleted track), so a kept answer is never stale.
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from analytics.models import ArtistStats

LIVE_DAYS = 2  # today's UTC date and the day before can still change
KEPT_SECONDS = 36 * 3600  # past the next day's cut, when the key changes anyway


def last_closed_day(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(UTC).date() - timedelta(days=LIVE_DAYS)


def added(closed: dict, live: dict) -> dict:
    out = dict(closed)
    for key, n in live.items():
        out[key] = out.get(key, 0) + n
    return out


def greatest(closed: dict, live: dict) -> dict:
    out = dict(closed)
    for key, n in live.items():
        out[key] = max(out.get(key, n), n)
    return out


def closed_read(
    stamp: tuple,
    first: date,
    last: date,
    read: Callable[[date, date], dict],
    merge: Callable[[dict, dict], dict] = added,
) -> dict:
    """read(first, last), its closed days' part from the cache.

    `stamp` names the figures (what, whose, the zone and the artist's history version);
    `read` answers for any range of days and `merge` joins two ranges' answers.
    """
    cut = last_closed_day()
    if first > cut:
        return read(first, last)
    end = min(last, cut)
    digest = hashlib.sha256(repr((stamp, first, end)).encode()).hexdigest()
    key = f"mvsic:closed:{digest}"
    closed = cache.get(key)
    if closed is None:
        closed = read(first, end)
        cache.set(key, closed, KEPT_SECONDS)
    if last <= cut:
        return closed
    return merge(closed, read(cut + timedelta(days=1), last))


def closed_rows_keys(rows: Iterable[tuple]) -> tuple[set[int], set[int]]:
    """(artists, tracks) with rollup rows ((scope, key, span, start, ...)) of closed days:
    a day on or before the cut, or a month that ended by then."""
    cut = last_closed_day()
    artists, tracks = set(), set()
    for scope, key, span, start, *_ in rows:
        if span == "m":  # its last day
            start = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if start <= cut:
            (artists if scope == "a" else tracks).add(key)
    return artists, tracks


def history_changed(artist_ids: Iterable[int]) -> None:
    """Raise the artists' history version: what was kept of their closed days is stale.
    Call it in the transaction that changes them, holding their counter rows."""
    ids = sorted(set(artist_ids))
    if ids:
        ArtistStats.objects.filter(artist_id__in=ids).update(
            history_version=F("history_version") + 1
        )
