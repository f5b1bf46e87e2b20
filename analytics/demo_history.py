"""Plausible listening history for the demo artists, counted by the real counting code.

`history_fill` makes the events fans of the demo artists (mvsic.demo) would have sent over
the last DAYS days (analytics/demo_events.py) and counts them with `events_count` in batches,
as the worker does (the API refuses events older than a week; the worker takes any age).
Events are deterministic, so a second run for the same end hour counts nothing new (counting
is exactly once per event id).
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from analytics.demo_events import day_events, plans_make
from analytics.models import Event
from analytics.services.counting import events_count
from analytics.services.trending import trending_refresh
from mvsic.demo import DEMO_ARTISTS
from mvsic.models import Artist

MAX_DAYS = 800
BATCH = 1000


@dataclass
class Result:
    days: int = 0
    events: int = 0  # newly counted (credited or filtered)
    generated: int = 0
    seconds: float = 0.0
    filtered: int = 0


def demo_artists() -> list[Artist]:
    """The demo artists that exist, in the order of mvsic.demo."""
    by_slug = {a.slug: a for a in Artist.objects.filter(slug__in=[s.slug for s in DEMO_ARTISTS])}
    return [by_slug[s.slug] for s in DEMO_ARTISTS if s.slug in by_slug]


def history_fill(
    *, days: int, seed: int = 1, end: datetime | None = None, artists=None, log=None
) -> Result:
    """Count `days` days of history up to `end` (default: the start of the current hour)
    for `artists` (default: the demo artists). Raises ValueError on bad input."""
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}, not {days!r}")
    artists = demo_artists() if artists is None else list(artists)
    if not artists:
        raise ValueError("no demo artists: run `manage.py seed_demo` first")
    end = (end or timezone.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = end.date()
    first = last - timedelta(days=days - 1)
    plans = plans_make(artists, last=last)
    result = Result(days=days)
    started = time.monotonic()
    batch: list[dict] = []
    before = Event.objects.exclude(reason="").count()
    for n in range(days):
        day = first + timedelta(days=n)
        for plan in plans:
            for payload in day_events(plan, day, first, last, seed):
                if datetime.fromisoformat(payload["ts"]) >= end:
                    continue
                batch.append(payload)
                if len(batch) >= BATCH:
                    result.events += events_count(payloads=batch)
                    result.generated += len(batch)
                    batch = []
        if log and (n + 1) % 50 == 0:
            log(f"  {n + 1}/{days} days, {result.events} events counted")
    if batch:
        result.events += events_count(payloads=batch)
        result.generated += len(batch)
    result.filtered = Event.objects.exclude(reason="").count() - before
    trending_refresh()  # the home page shows it now, not at the workers' next minute
    result.seconds = time.monotonic() - started
    return result
