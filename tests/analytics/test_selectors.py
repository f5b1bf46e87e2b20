"""analytics.selectors: totals, 24-hour figures and the 7-day hourly series."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from analytics import selectors
from analytics.services.counting import events_count
from mvsic.models import Track
from tests.conftest import make_artist, make_overseer, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
HOUR = NOW.replace(minute=0)


def ago(hours: float) -> str:
    return (NOW - timedelta(hours=hours)).isoformat()


def counted(*payloads) -> None:
    events_count(payloads=list(payloads))


def test_a_track_without_events_has_zeros_and_a_full_series():
    track = make_track()
    stats = selectors.track_stats_get(track=track, now=NOW)
    assert stats["track"] == {"id": track.id, "title": track.title, "artist": track.artist.slug}
    figures = ("plays", "likes", "listeners", "plays_24h", "likes_24h", "listeners_24h")
    assert {k: stats[k] for k in figures} == dict.fromkeys(figures, 0)
    assert stats["updated_at"] is None
    series = stats["series"]
    # The default period: today and the 6 days before, by the hour, up to the current one.
    midnight = HOUR.replace(hour=0)
    assert len(series) == 6 * 24 + HOUR.hour + 1
    hours = [datetime.fromisoformat(point["hour"]) for point in series]
    assert hours[-1] == HOUR
    assert hours[0] == midnight - timedelta(days=6)
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:], strict=False))
    assert all(point["plays"] == point["likes"] == 0 for point in series)


def test_track_figures_window_the_last_24_hours():
    track = make_track()
    counted(
        make_payload(track, "play", "fan-1", ts=ago(0.2)),
        make_payload(track, "play", "fan-2", ts=ago(1)),
        make_payload(track, "play", "fan-1", ts=ago(22.9)),  # hour 13:00 yesterday: inside
        make_payload(track, "play", "fan-3", ts=ago(25)),  # outside 24 h, inside 7 days
        make_payload(track, "play", "fan-4", ts=ago(24 * 3)),
        make_payload(track, "play", "fan-5", ts=ago(24 * 8)),  # outside the chart too
        make_payload(track, "like", "fan-1", ts=ago(2)),
        make_payload(track, "like", "fan-3", ts=ago(30)),
    )
    stats = selectors.track_stats_get(track=track, now=NOW)
    assert (stats["plays"], stats["likes"], stats["listeners"]) == (6, 2, 5)
    assert (stats["plays_24h"], stats["likes_24h"], stats["listeners_24h"]) == (3, 1, 2)
    assert stats["updated_at"] is not None
    by_hour = {datetime.fromisoformat(p["hour"]): (p["plays"], p["likes"]) for p in stats["series"]}
    assert by_hour[HOUR] == (1, 0)
    assert by_hour[HOUR - timedelta(hours=1)] == (1, 0)
    assert by_hour[HOUR - timedelta(hours=2)] == (0, 1)
    assert by_hour[HOUR - timedelta(hours=72)] == (1, 0)
    assert sum(p["plays"] for p in stats["series"]) == 5  # the 8-day-old play is off the chart


def test_artist_figures_add_tracks_and_union_listeners():
    artist = make_artist()
    b_side = make_track(artist, title="B side")
    a_side = make_track(artist, title="A side")
    other = make_track(title="Someone else's")
    counted(
        make_payload(a_side, "play", "fan-1", ts=ago(1)),
        make_payload(a_side, "play", "fan-2", ts=ago(1)),
        make_payload(b_side, "play", "fan-1", ts=ago(1)),  # fan-1 plays both tracks
        make_payload(b_side, "play", "fan-3", ts=ago(48)),
        make_payload(a_side, "like", "fan-1", ts=ago(3)),
        make_payload(b_side, "like", "fan-1", ts=ago(3)),
        make_payload(other, "play", "fan-9", ts=ago(1)),
    )
    stats = selectors.artist_stats_get(artist=artist, now=NOW)
    assert stats["artist"] == {"slug": artist.slug, "name": artist.name}
    assert (stats["plays"], stats["likes"], stats["listeners"]) == (4, 2, 3)
    assert (stats["plays_24h"], stats["likes_24h"], stats["listeners_24h"]) == (3, 2, 2)
    by_hour = {datetime.fromisoformat(p["hour"]): (p["plays"], p["likes"]) for p in stats["series"]}
    assert len(stats["series"]) == 6 * 24 + HOUR.hour + 1
    assert by_hour[HOUR - timedelta(hours=1)] == (3, 0)
    assert by_hour[HOUR - timedelta(hours=3)] == (0, 2)
    assert by_hour[HOUR - timedelta(hours=48)] == (1, 0)

    rows = {t["title"]: t for t in stats["tracks"]}
    assert [t["title"] for t in stats["tracks"]] == ["A side", "B side"]
    assert rows["A side"]["id"] == a_side.id
    picked = ("plays", "likes", "listeners", "plays_24h", "likes_24h", "listeners_24h")
    assert tuple(rows["A side"][k] for k in picked) == (2, 1, 2, 2, 1, 2)
    assert tuple(rows["B side"][k] for k in picked) == (2, 1, 2, 1, 1, 1)


def test_an_artist_without_events_lists_its_tracks_with_zeros():
    artist = make_artist()
    track = make_track(artist, duration=123.0)
    stats = selectors.artist_stats_get(artist=artist, now=NOW)
    assert (stats["plays"], stats["likes"], stats["listeners"], stats["updated_at"]) == (
        0,
        0,
        0,
        None,
    )
    assert stats["tracks"] == [
        {
            "id": track.id,
            "title": track.title,
            "duration": 123.0,
            "plays": 0,
            "likes": 0,
            "listeners": 0,
            "updated_at": None,
            "plays_24h": 0,
            "likes_24h": 0,
            "listeners_24h": 0,
            "filtered": {},
            "period_plays": 0,
            "period_likes": 0,
            "completion": {"starts": 0, "complete": 0, "partial": 0, "skip": 0},
            "retention": [0.0] * 20,
        }
    ]
    assert (stats["filtered"], stats["filtered_24h"]) == ({}, {})


def test_members_and_staff_see_an_artist_others_do_not():
    member, stranger, staff = make_user(), make_user(), make_overseer()
    artist, other = make_artist(members=[member]), make_artist(members=[stranger])
    assert selectors.artist_visible(user=member, artist=artist)
    assert selectors.artist_visible(user=staff, artist=artist)
    assert not selectors.artist_visible(user=stranger, artist=artist)
    assert not selectors.artist_visible(user=AnonymousUser(), artist=artist)
    assert list(selectors.artist_list_for_user(user=member)) == [artist]
    assert set(selectors.artist_list_for_user(user=staff)) == {artist, other}


def test_being_staff_is_not_enough_to_see_other_artists():
    member = make_user(is_staff=True)
    artist, other = make_artist(members=[member]), make_artist()
    assert selectors.artist_visible(user=member, artist=artist)
    assert not selectors.artist_visible(user=member, artist=other)
    assert list(selectors.artist_list_for_user(user=member)) == [artist]


def test_filtered_events_are_reported_by_reason_per_track_and_period():
    artist = make_artist()
    one, two = make_track(artist), make_track(artist)
    now = timezone.now()
    old = (now - timedelta(days=3)).isoformat()
    events_count(
        payloads=[
            make_payload(one, "play", "fan-1", seconds=2.0),
            make_payload(one, "play", "fan-2", seconds=2.0, ts=old),
            make_payload(
                one, "play", "fan-3", ua="Googlebot/2.1 (+http://www.google.com/bot.html)"
            ),
            make_payload(two, "play", "fan-4", seconds=500.0),
            make_payload(two, "play", "fan-5"),
        ]
    )
    stats = selectors.artist_stats_get(artist=artist, now=now)
    assert stats["plays"] == 1
    assert stats["filtered"] == {"bot": 1, "short": 2, "too_long": 1}
    assert stats["filtered_24h"] == {"bot": 1, "short": 1, "too_long": 1}
    rows = {row["id"]: row["filtered"] for row in stats["tracks"]}
    assert rows == {one.id: {"bot": 1, "short": 2}, two.id: {"too_long": 1}}
    track_stats = selectors.track_stats_get(track=two, now=now)
    assert (track_stats["plays"], track_stats["filtered"]) == (1, {"too_long": 1})


def test_an_upload_still_processing_or_failed_is_not_in_the_tracks_table():
    artist = make_artist()
    ready = make_track(artist, "Ready")
    for title, status in (("Processing", "processing"), ("Failed", "failed")):
        Track.objects.filter(pk=make_track(artist, title).pk).update(status=status)
    rows = selectors.artist_stats_get(artist=artist)["tracks"]
    assert [row["id"] for row in rows] == [ready.id]
