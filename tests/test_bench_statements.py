"""The bench's statement profile counts what it is given and times every statement it ran."""

import pytest

from analytics.models import Event, TrackStats
from bench.broker import payloads_make
from bench.statements import profile, report
from tests.conftest import make_artist, make_track

pytestmark = pytest.mark.django_db


def test_the_profile_counts_the_events_and_times_each_statement():
    artist = make_artist()
    tracks = [make_track(artist) for _ in range(3)]
    payloads = payloads_make(120, tracks[0].id, tracks[-1].id, fans=50)

    result = profile(payloads, batch=50)

    assert Event.objects.count() == 120
    credited = Event.objects.filter(type="play", reason="").count()
    assert sum(s.plays for s in TrackStats.objects.all()) == credited > 0
    event_insert = 'INSERT INTO "analytics_event"'
    inserts = [head for head in result["statements"] if head.startswith(event_insert)]
    assert len(inserts) == 1
    assert result["statements"][inserts[0]][0] == 3  # one insert per batch of 50, 50, 20
    assert 0 < result["sql"] <= result["wall"]
    lines = report(result, top=3)
    assert lines[0].startswith("120 events: ") and len(lines) == 4
