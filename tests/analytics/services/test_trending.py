"""The trending ranking the workers keep: order, visible tracks only, the 24-hour window."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import TrackHour, TrendingTrack
from analytics.services.trending import trending_refresh
from mvsic.selectors import tracks_trending_list
from tests.conftest import make_artist, make_track

pytestmark = [pytest.mark.django_db]

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
HOUR = NOW.replace(minute=0)


def played(track, plays: int, hours_ago: int = 0) -> None:
    TrackHour.objects.create(track=track, hour=HOUR - timedelta(hours=hours_ago), plays=plays)


def ranking() -> list[tuple[str, int]]:
    return [(t.title, t.recent_plays) for t in tracks_trending_list()]


def test_tracks_are_ranked_by_plays_of_the_last_24_hours_ties_by_title():
    artist = make_artist("Band")
    first, second, tie_b, tie_a = (make_track(artist, n) for n in ("One", "Two", "B", "A"))
    played(first, 5)
    played(first, 4, hours_ago=23)  # the oldest hour of the window: counted
    played(second, 7, hours_ago=2)
    played(tie_b, 3)
    played(tie_a, 3)

    assert trending_refresh(now=NOW) == 4

    assert ranking() == [("One", 9), ("Two", 7), ("A", 3), ("B", 3)]


def test_hours_before_the_window_and_tracks_without_plays_are_left_out():
    artist = make_artist("Band")
    old, silent, recent = (make_track(artist, n) for n in ("Old", "Silent", "Recent"))
    played(old, 50, hours_ago=24)  # just outside
    played(silent, 0)
    played(recent, 1)

    trending_refresh(now=NOW)

    assert ranking() == [("Recent", 1)]


def test_hidden_tracks_are_not_ranked_and_a_later_run_replaces_the_ranking():
    artist = make_artist("Band")
    hidden, shown = make_track(artist, "Hidden"), make_track(artist, "Shown")
    hidden.hidden_at = NOW
    hidden.save()
    played(hidden, 10)
    played(shown, 2)
    trending_refresh(now=NOW)
    assert list(TrendingTrack.objects.values_list("track__title", flat=True)) == ["Shown"]

    # An hour later "Shown" has more plays; a day later it has left the window.
    played(shown, 3, hours_ago=-1)
    trending_refresh(now=NOW + timedelta(hours=1))
    assert ranking() == [("Shown", 5)]
    trending_refresh(now=NOW + timedelta(hours=25))
    assert ranking() == []


def test_the_home_page_shows_at_most_ten_and_the_ranking_keeps_a_few_more():
    artist = make_artist("Band")
    for n in range(60):
        played(make_track(artist, f"Song {n:02d}"), n + 1)

    assert trending_refresh(now=NOW) == 50

    assert [t for t, _ in ranking()] == [f"Song {n:02d}" for n in range(59, 49, -1)]
