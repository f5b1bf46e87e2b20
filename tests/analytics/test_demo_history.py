"""The demo history: months of plausible events counted by the real counting code."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from analytics.demo_history import history_fill
from analytics.models import ArtistStats, Event, FollowEvent, Rollup, TrackStats
from analytics.placed import MIX, mix_split
from mvsic.demo import DEMO_ARTISTS
from tests.conftest import make_artist, make_track

pytestmark = pytest.mark.django_db

END = datetime(2025, 3, 20, 15, tzinfo=UTC)


@pytest.fixture
def catalog():
    """The demo artists and tracks (without synthesising audio)."""
    for spec in DEMO_ARTISTS:
        artist = make_artist(spec.name)
        assert artist.slug == spec.slug
        for track in spec.tracks:
            make_track(artist, title=track.title, duration=track.seconds)


def _values(dimension: str) -> set[str]:
    """The values a breakdown dimension took, from the plays' "mix" rollups."""
    return {
        mix_split(mix)[dimension]
        for mix in Rollup.objects.filter(scope="a", span="d", metric=MIX, n__gt=0).values_list(
            "value", flat=True
        )
    }


def test_history_counts_plausible_events_once(catalog):
    result = history_fill(days=20, end=END)
    events = Event.objects.count()
    assert result.events == events + FollowEvent.objects.count() and events > 1000
    assert ArtistStats.objects.filter(followers__gt=0).exists()
    assert TrackStats.objects.aggregate(plays=Sum("plays"))["plays"] > 500
    assert len(_values("country")) >= 5
    assert {"desktop", "mobile", "tablet"} <= _values("device")
    assert {"track", "artist", "home", "embed"} <= _values("source")
    assert Event.objects.filter(type="heard").count() > events / 3
    assert Event.objects.filter(type="like").exists()
    filtered = Event.objects.exclude(reason="")
    reasons = set(filtered.values_list("reason", flat=True))
    assert {"bot", "short"} <= reasons, reasons
    assert 0 < filtered.count() < events / 10, (filtered.count(), reasons)
    outcomes = {m for m in ("complete", "partial", "skip") if Rollup.objects.filter(metric=m)}
    assert outcomes == {"complete", "partial", "skip"}
    assert result.filtered == filtered.count()

    again = history_fill(days=20, end=END)
    assert again.events == 0
    assert Event.objects.count() == events


def test_weekends_and_evenings_are_busier(catalog):
    history_fill(days=28, end=END)
    plays = Event.objects.filter(type="play", reason="")
    weekend = sum(1 for ts in plays.values_list("ts", flat=True) if ts.weekday() >= 5) / 8
    weekday = sum(1 for ts in plays.values_list("ts", flat=True) if ts.weekday() < 5) / 20
    assert weekend > weekday


def test_command_rejects_bad_days_in_one_line(catalog):
    for days in ("0", "801", "many"):
        with pytest.raises(CommandError) as raised:
            call_command("demo_history", days=days, force=True)
        assert "\n" not in str(raised.value) and "--days" in str(raised.value)


def test_command_needs_the_demo_artists():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("demo_history", days=3, force=True)


def test_seed_demo_history_runs_the_generator(catalog, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "analytics.management.commands.demo_history.history_fill",
        lambda **kw: calls.append(kw) or history_fill(days=kw["days"], end=END),
    )
    monkeypatch.setattr("mvsic.demo.demo_catalog_ensure", _catalog_stub)
    call_command("seed_demo", history=2, force=True)
    assert [c["days"] for c in calls] == [2]
    assert Event.objects.exists()
    call_command("seed_demo", force=True)  # no --history: no history
    assert len(calls) == 1


def _catalog_stub():
    from mvsic.demo import DemoCatalog, DemoLogin

    return DemoCatalog(admin=DemoLogin("admin", None), artists=[])
