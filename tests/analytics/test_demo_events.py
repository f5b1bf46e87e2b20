"""The demo fans' events of one day: deterministic, and shaped like a real audience."""

from collections import Counter
from datetime import date, timedelta

from analytics.demo_events import Plan, day_events
from mvsic.models import Artist, Track

LAST = date(2025, 3, 20)  # a Thursday
FIRST = LAST - timedelta(days=27)
RELEASE = LAST - timedelta(weeks=2)


def _plan() -> Plan:
    """An artist of three tracks (not stored: a day's events need no database), the newest
    released two weeks before LAST."""
    artist = Artist(id=7, name="Night Bus", slug="night-bus")
    tracks = [Track(id=70 + i, artist=artist, duration=180 + 30 * i) for i in range(3)]
    return Plan(artist=artist, tracks=tracks, base=40, release=RELEASE)


def _days(seed: int = 1) -> dict[date, list[dict]]:
    plan = _plan()
    days = (FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1))
    return {day: list(day_events(plan, day, FIRST, LAST, seed)) for day in days}


def test_a_seed_makes_the_same_events_with_unique_ids():
    first, again, other = _days(), _days(), _days(seed=2)
    assert first == again and first != other
    ids = [e["id"] for events in first.values() for e in events]
    assert len(ids) == len(set(ids)) > 1000


def test_weekends_are_busier_and_the_newest_track_plays_from_its_release():
    plays = {day: [e for e in events if e["type"] == "play"] for day, events in _days().items()}
    weekend = [len(p) for day, p in plays.items() if day.weekday() >= 5]
    weekday = [len(p) for day, p in plays.items() if day.weekday() < 5]
    assert sum(weekend) / len(weekend) > sum(weekday) / len(weekday)
    newest = Counter(day >= RELEASE for day, p in plays.items() for e in p if e["track"] == 72)
    assert newest[True] > 0 and newest[False] == 0
