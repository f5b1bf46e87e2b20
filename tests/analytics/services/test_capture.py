"""analytics.services.capture: validation at the edge, unknown tracks, the track cache."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.clients import Client
from analytics.services import capture
from tests.conftest import BROWSER_UA, make_event, make_track

BROWSER = Client(ip="203.0.113.5", user_agent=BROWSER_UA, listener="fan-cookie")

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_over(monkeypatch):
    """What events_accept handed over, instead of the relay (tests/analytics/api covers the
    real hand-over to the broker)."""
    taken: list[list[dict]] = []
    monkeypatch.setattr(capture.relay, "events_hand_over", taken.append)
    monkeypatch.setattr(capture, "track_cache", capture._TrackCache())
    return taken


def test_track_ids_existing_keeps_only_known_ids(handed_over):
    track = make_track()
    assert capture.track_ids_existing(ids={track.id, track.id + 1000, 2**63 - 1}) == {track.id}
    assert capture.track_ids_existing(ids=set()) == set()


def test_known_tracks_are_cached_and_a_forgotten_one_is_asked_again(handed_over):
    track = make_track()
    capture.track_ids_existing(ids={track.id})
    with CaptureQueriesContext(connection) as queries:
        assert capture.track_ids_existing(ids={track.id}) == {track.id}
    assert len(queries) == 0
    capture.track_cache.forget(track.id)
    with CaptureQueriesContext(connection) as queries:
        capture.track_ids_existing(ids={track.id})
    assert len(queries) == 1


def test_valid_events_are_handed_over_in_one_group_and_the_rest_rejected_by_index(
    handed_over,
):
    track = make_track()
    events = [
        make_event(track),
        {"type": "play"},
        make_event(track.id + 1000),
        make_event(track, "like", listener=None),
    ]
    result = capture.events_accept(raw_events=events, client=BROWSER)
    assert result.accepted == 2
    assert [r["index"] for r in result.rejected] == [1, 2]
    assert result.rejected[1]["errors"] == {"track": ["Unknown track."]}
    [group] = handed_over
    assert [p["id"] for p in group] == [events[0]["id"], events[3]["id"]]
    assert group[1]["listener"] == "fan-cookie"


def test_nothing_is_handed_over_when_nothing_is_valid(handed_over):
    result = capture.events_accept(raw_events=[{}, "x"], client=BROWSER)
    assert (result.accepted, handed_over) == (0, [])
    assert [r["index"] for r in result.rejected] == [0, 1]


def test_the_address_is_handed_over_only_as_its_hash(handed_over):
    track = make_track()
    capture.events_accept(raw_events=[make_event(track)], client=BROWSER)
    [[payload]] = handed_over
    assert "203.0.113.5" not in repr(payload)
    assert len(payload["address"]) == 16 and payload["ua"] == BROWSER_UA


def test_the_same_address_hashes_alike_within_a_day_only(handed_over):
    from datetime import UTC, datetime, timedelta

    from analytics.addresses import address_hash

    day = datetime(2026, 3, 1, 1, tzinfo=UTC)
    assert address_hash("203.0.113.5", now=day) == address_hash("203.0.113.5", now=day)
    assert address_hash("203.0.113.5", now=day) != address_hash("203.0.113.6", now=day)
    next_day = day + timedelta(days=1)
    assert address_hash("203.0.113.5", now=day) != address_hash("203.0.113.5", now=next_day)


def test_a_follow_of_a_known_artist_is_handed_over_and_of_an_unknown_one_rejected(
    handed_over, monkeypatch
):
    monkeypatch.setattr(capture, "artist_cache", capture._TrackCache())
    track = make_track()
    follow = {"id": "6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11", "type": "follow"}
    events = [
        {**follow, "artist": track.artist_id},
        {**follow, "artist": track.artist_id + 1000, "id": "7f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11"},
        make_event(track),
    ]

    result = capture.events_accept(raw_events=events, client=BROWSER)

    assert result.accepted == 2
    assert result.rejected == [{"index": 1, "errors": {"artist": ["Unknown artist."]}}]
    [group] = handed_over
    assert group[0]["artist"] == track.artist_id and group[0]["track"] is None
    assert "artist" not in group[1]  # plays are queued as before


def test_a_request_without_follows_asks_nothing_about_artists(handed_over):
    track = make_track()
    capture.track_ids_existing(ids={track.id})
    with CaptureQueriesContext(connection) as queries:
        capture.events_accept(raw_events=[make_event(track)], client=BROWSER)
    assert not any("mvsic_artist" in q["sql"] for q in queries)
