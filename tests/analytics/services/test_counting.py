"""analytics.services.events_count: the counting rules, exactly once per event id."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import ArtistStats, Event, LikeState, PoisonEvent, TrackHour, TrackStats
from analytics.services.counting import events_count
from tests.conftest import make_artist, make_payload, make_track

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def track_figures(track) -> tuple[int, int, int]:
    stats = TrackStats.objects.filter(track=track).first()
    return (stats.plays, stats.likes, stats.listeners) if stats else (0, 0, 0)


def artist_figures(artist) -> tuple[int, int, int]:
    stats = ArtistStats.objects.filter(artist=artist).first()
    return (stats.plays, stats.likes, stats.listeners) if stats else (0, 0, 0)


def test_plays_are_distinct_event_ids(track):
    # A track's length apart: each play is one a listener could really make.
    payloads = [make_payload(track, "play", f"fan-{i % 3}", ts=at(i)) for i in range(10)]
    assert events_count(payloads=payloads) == 10
    assert track_figures(track) == (10, 0, 3)
    assert Event.objects.filter(track=track).count() == 10


def test_duplicates_within_a_batch_count_once(track):
    play = make_payload(track)
    assert events_count(payloads=[play, play, dict(play)]) == 1
    assert track_figures(track) == (1, 0, 1)


def test_redelivered_batches_change_nothing(track):
    payloads = [make_payload(track, "play", f"fan-{i}") for i in range(5)]
    payloads += [make_payload(track, "like", "fan-1"), make_payload(track, "unlike", "fan-2")]
    assert events_count(payloads=payloads) == 7
    before = (track_figures(track), list(TrackHour.objects.values_list("plays", "likes")))

    shuffled = payloads * 2
    random.Random(3).shuffle(shuffled)
    assert events_count(payloads=shuffled) == 0
    for payload in payloads:
        assert events_count(payloads=[payload]) == 0

    after = (track_figures(track), list(TrackHour.objects.values_list("plays", "likes")))
    assert after == before == ((5, 1, 5), [(5, 1)])


def test_a_duplicate_with_changed_fields_is_still_a_duplicate(track):
    play = make_payload(track, "play", "fan-1")
    events_count(payloads=[play])
    assert events_count(payloads=[{**play, "listener": "fan-2", "type": "like"}]) == 0
    assert track_figures(track) == (1, 0, 1)


@pytest.mark.parametrize("order", ["in order", "reversed"])
@pytest.mark.parametrize("batching", ["one batch", "one per batch"])
@pytest.mark.parametrize(
    ("history", "liked"),
    [
        ([("like", 0)], True),
        ([("like", 0), ("unlike", 1)], False),
        ([("unlike", 0), ("like", 1)], True),
        ([("like", 0), ("unlike", 1), ("like", 2)], True),
        ([("unlike", 0)], False),
        ([("like", 0), ("like", 1)], True),
    ],
)
def test_latest_like_or_unlike_by_timestamp_wins(track, history, liked, order, batching):
    payloads = [make_payload(track, kind, "fan-1", ts=at(m)) for kind, m in history]
    if order == "reversed":
        payloads.reverse()
    if batching == "one batch":
        events_count(payloads=payloads)
    else:
        for payload in payloads:
            events_count(payloads=[payload])
    assert track_figures(track) == (0, int(liked), 0)
    assert artist_figures(track.artist) == (0, int(liked), 0)


@pytest.mark.parametrize("order", ["in order", "reversed"])
def test_same_timestamp_is_decided_by_arrival(track, order):
    like = make_payload(track, "like", "fan-1", ts=at(0), received_at=at(1))
    unlike = make_payload(track, "unlike", "fan-1", ts=at(0), received_at=at(2))
    for payload in [like, unlike] if order == "in order" else [unlike, like]:
        events_count(payloads=[payload])
    assert track_figures(track)[1] == 0
    assert LikeState.objects.get(track=track, listener="fan-1").liked is False


def test_likes_count_listeners_not_events(track):
    payloads = [
        make_payload(track, "like", "fan-1", ts=at(0)),
        make_payload(track, "like", "fan-1", ts=at(1)),
        make_payload(track, "like", "fan-2", ts=at(2)),
        make_payload(track, "unlike", "fan-3", ts=at(3)),
    ]
    events_count(payloads=payloads)
    assert track_figures(track) == (0, 2, 0)


def test_listeners_are_distinct_listeners_who_played(track):
    events_count(payloads=[make_payload(track, "play", "fan-1", ts=at(0))])
    events_count(
        payloads=[make_payload(track, "play", "fan-1", ts=at(1)), make_payload(track, "like", "x")]
    )
    events_count(payloads=[make_payload(track, "play", "fan-2", ts=at(1))])
    assert track_figures(track) == (3, 1, 2)


def test_artist_totals_add_tracks_and_union_listeners():
    artist = make_artist()
    first, second = make_track(artist), make_track(artist)
    other = make_track()
    events_count(
        payloads=[
            make_payload(first, "play", "fan-1"),
            make_payload(first, "play", "fan-2"),
            make_payload(second, "play", "fan-1"),  # same listener, second track
            make_payload(first, "like", "fan-1"),
            make_payload(second, "like", "fan-1"),
            make_payload(other, "play", "fan-9"),
        ]
    )
    events_count(payloads=[make_payload(second, "play", "fan-3")])
    assert track_figures(first) == (2, 1, 2)
    assert track_figures(second) == (2, 1, 2)
    assert artist_figures(artist) == (4, 2, 3)
    assert artist_figures(other.artist) == (1, 0, 1)


def test_unlike_on_one_track_keeps_likes_on_the_others():
    artist = make_artist()
    first, second = make_track(artist), make_track(artist)
    events_count(payloads=[make_payload(t, "like", "fan-1", ts=at(0)) for t in (first, second)])
    events_count(payloads=[make_payload(first, "unlike", "fan-1", ts=at(1))])
    assert artist_figures(artist) == (0, 1, 0)


def test_events_land_in_hourly_buckets_by_their_timestamp(track):
    events_count(
        payloads=[
            make_payload(track, "play", "fan-1", ts=at(5)),
            make_payload(track, "play", "fan-2", ts=at(59.9)),
            make_payload(track, "play", "fan-1", ts=at(60)),
            make_payload(track, "like", "fan-1", ts=at(61)),
            make_payload(track, "unlike", "fan-2", ts=at(125)),
        ]
    )
    buckets = {
        row[0]: row[1:]
        for row in TrackHour.objects.filter(track=track).values_list(
            "hour", "plays", "likes", "unlikes"
        )
    }
    assert buckets == {
        T0: (2, 0, 0),
        T0 + timedelta(hours=1): (1, 1, 0),
        T0 + timedelta(hours=2): (0, 0, 1),
    }


def test_timestamps_in_other_zones_are_bucketed_in_utc(track):
    events_count(payloads=[make_payload(track, ts="2026-03-01T12:30:00+02:00")])
    assert list(TrackHour.objects.values_list("hour", flat=True)) == [T0]


def test_unknown_track_is_parked_with_its_reason_and_counts_nothing(track):
    missing = track.id + 1000
    good = make_payload(track)
    bad = make_payload(missing)
    assert events_count(payloads=[bad, good]) == 1
    poison = PoisonEvent.objects.get()
    assert poison.event_id == bad["id"]
    assert f"track {missing} does not exist" in poison.reason
    assert poison.payload["track"] == missing
    assert track_figures(track) == (1, 0, 1)
    assert not TrackStats.objects.filter(track_id=missing).exists()
    assert not Event.objects.filter(id=bad["id"]).exists()


def test_track_deleted_after_acceptance_is_parked(track):
    payload = make_payload(track)
    artist = track.artist
    track.delete()
    assert events_count(payloads=[payload]) == 0
    assert "does not exist" in PoisonEvent.objects.get(event_id=payload["id"]).reason
    assert artist_figures(artist) == (0, 0, 0)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("ts"),
        lambda p: p.pop("received_at"),
        lambda p: p.pop("type"),
        lambda p: p.pop("track"),
        lambda p: p.pop("listener"),
        lambda p: p.update(ts="not a date"),
        lambda p: p.update(ts="2026-03-01T10:00:00"),  # no zone
        lambda p: p.update(ts=12345),
        lambda p: p.update(type="skip"),
        lambda p: p.update(id="not-a-uuid"),
        lambda p: p.update(track="seven"),
        lambda p: p.update(seconds="long"),
    ],
    ids=[
        "no-ts",
        "no-received_at",
        "no-type",
        "no-track",
        "no-listener",
        "bad-ts",
        "naive-ts",
        "int-ts",
        "bad-type",
        "bad-id",
        "bad-track",
        "bad-seconds",
    ],
)
def test_malformed_payload_is_parked(track, mutate):
    payload = make_payload(track)
    mutate(payload)
    assert events_count(payloads=[payload, make_payload(track)]) == 1
    poison = PoisonEvent.objects.get()
    assert poison.reason.startswith("malformed payload")
    assert poison.payload == payload
    assert track_figures(track) == (1, 0, 1)


@pytest.mark.parametrize("payload", [None, "play", 7, ["a", "b"]])
def test_payload_that_is_not_an_object_is_parked(track, payload):
    assert events_count(payloads=[payload]) == 0
    assert PoisonEvent.objects.get().payload == payload
    assert track_figures(track) == (0, 0, 0)


def test_parking_the_same_poison_twice_keeps_one_row(track):
    bad = make_payload(track.id + 1000)
    events_count(payloads=[bad])
    events_count(payloads=[bad])
    assert PoisonEvent.objects.count() == 1


@pytest.mark.parametrize(
    "extra",
    [{"listener": "x" * 65}, {"source": "s" * 65}, {"listener": "fan\x00"}, {"source": "\x00"}],
    ids=["long-listener", "long-source", "nul-listener", "nul-source"],
)
def test_payload_the_database_cannot_store_is_parked(track, extra):
    payload = {**make_payload(track), **extra}
    assert events_count(payloads=[payload, make_payload(track)]) == 1
    poison = PoisonEvent.objects.get()
    assert poison.event_id == payload["id"]
    assert poison.reason.startswith("malformed payload")
    assert track_figures(track) == (1, 0, 1)
