"""analytics.services.integrity: each rule credits what a real listener could do, and files
everything else under its reason (through events_count, as the worker applies them)."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import (
    AddressHour,
    AddressKey,
    Block,
    Event,
    FilteredHour,
    ListenerHourUse,
    TrackStats,
    UserAgent,
)
from analytics.services.counting import events_count
from analytics.services.pruning import integrity_prune
from mvsic.models import ListenerUser
from tests.conftest import make_artist, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def reasons(track) -> dict[str, int]:
    """Stored events of a track by reason ('' is credited)."""
    found: dict[str, int] = {}
    for reason in Event.objects.filter(track=track).values_list("reason", flat=True):
        found[reason] = found.get(reason, 0) + 1
    return found


def plays(track) -> int:
    stats = TrackStats.objects.filter(track=track).first()
    return stats.plays if stats else 0


@pytest.fixture
def track():
    return make_track(duration=40.0)


@pytest.mark.parametrize(
    ("seconds", "reason"),
    [(29.9, "short"), (0.0, "short"), (30.0, ""), (40.0, ""), (45.0, ""), (45.1, "too_long")],
)
def test_a_play_must_reach_the_threshold_and_not_exceed_the_track(track, seconds, reason):
    events_count(payloads=[make_payload(track, seconds=seconds)])
    assert reasons(track) == {reason: 1}
    assert plays(track) == (1 if reason == "" else 0)


def test_a_track_shorter_than_the_threshold_needs_only_its_length():
    jingle = make_track(duration=12.0)
    events_count(
        payloads=[
            make_payload(jingle, seconds=12.0),
            make_payload(jingle, "play", "b", seconds=11.0),
        ]
    )
    assert reasons(jingle) == {"": 1, "short": 1}


def test_a_queued_play_without_seconds_is_short(track):
    """The edge requires seconds; a payload queued by an older release may lack them."""
    events_count(payloads=[make_payload(track, seconds=None)])
    assert reasons(track) == {"short": 1}


@pytest.mark.parametrize("agent", [GOOGLEBOT, "curl/8.5.0", "python-requests/2.32", ""])
def test_crawlers_scripts_and_no_user_agent_are_bots(track, agent):
    events_count(payloads=[make_payload(track, ua=agent), make_payload(track, "like", ua=agent)])
    assert reasons(track) == {"bot": 2}
    assert UserAgent.objects.get(text=agent).bot


def test_the_allow_list_credits_a_flagged_agent(track, settings):
    settings.MVSIC_BOT_ALLOW = ["PartnerApp/"]
    events_count(payloads=[make_payload(track, ua="PartnerApp/1.0 python-requests/2.32")])
    assert reasons(track) == {"": 1}


def test_a_payload_queued_before_user_agents_were_recorded_is_not_a_bot(track):
    payload = make_payload(track)
    del payload["ua"]
    events_count(payloads=[payload])
    assert reasons(track) == {"": 1}
    assert Event.objects.get().user_agent is None


def test_a_member_of_the_tracks_artist_is_not_credited():
    member = make_user()
    artist = make_artist(members=[member])
    own, other = make_track(artist), make_track()
    ListenerUser.objects.create(listener="member-browser", user=member)
    events_count(
        payloads=[
            make_payload(own, listener="member-browser"),
            make_payload(own, "like", listener="member-browser"),
            make_payload(other, listener="member-browser"),  # another artist's: a fan's play
        ]
    )
    assert reasons(own) == {"own_play": 2}
    assert reasons(other) == {"": 1}


@pytest.mark.parametrize(
    ("kind", "value"), [("listener", "fan-1"), ("address", "a1b2c3d4e5f60718")]
)
def test_a_blocked_listener_or_address_is_not_credited(track, kind, value):
    Block.objects.create(kind=kind, value=value)
    events_count(payloads=[make_payload(track, "play", "fan-1", address="a1b2c3d4e5f60718")])
    assert reasons(track) == {"blocked": 1}


def test_replays_faster_than_the_track_plays_are_too_fast(track):
    """40-second track: one credited play per 40-second slot of time per listener."""
    events_count(payloads=[make_payload(track, ts=at(s)) for s in (0, 10, 39, 40, 41, 80, 120)])
    assert reasons(track) == {"": 4, "too_fast": 3}
    # A redelivered or later batch is held to the same slots.
    events_count(payloads=[make_payload(track, ts=at(121))])
    assert reasons(track) == {"": 4, "too_fast": 4}
    assert plays(track) == 4


def test_one_listener_cannot_listen_more_than_an_hour_holds(settings):
    settings.MVSIC_LISTENING_FACTOR = 1.0
    tracks = [make_track(duration=600.0) for _ in range(8)]
    # 8 different tracks at once, 10 minutes each: 80 minutes in one hour.
    events_count(payloads=[make_payload(t, seconds=600.0, ts=at(0)) for t in tracks])
    assert Event.objects.filter(reason="").count() == 6
    assert Event.objects.filter(reason="too_much_listening").count() == 2
    assert ListenerHourUse.objects.get().seconds == 3600.0


def test_one_address_cannot_credit_more_than_the_listener_cap(track, settings):
    settings.MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR = 5
    payloads = [make_payload(track, "play", f"fan-{i}", address="feedfacefeedface", ts=at(i))
                for i in range(8)]  # fmt: skip
    events_count(payloads=payloads)
    # The first five listeners in event time are credited, and go on being credited.
    events_count(
        payloads=[make_payload(track, "play", "fan-0", address="feedfacefeedface", ts=at(60))]
    )
    assert reasons(track) == {"": 6, "too_many_listeners": 3}
    assert AddressHour.objects.get().listeners == 5
    # The next hour starts afresh.
    events_count(
        payloads=[make_payload(track, "play", "fan-7", address="feedfacefeedface", ts=at(3600))]
    )
    assert reasons(track)[""] == 7


def test_likes_from_one_address_are_capped(track, settings):
    settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR = 3
    kinds = ["like", "unlike", "like", "unlike", "like"]
    events_count(
        payloads=[make_payload(track, kind, "fan-1", address="feedfacefeedface", ts=at(i))
                  for i, kind in enumerate(kinds)]
    )  # fmt: skip
    assert reasons(track) == {"": 3, "too_many_likes": 2}
    assert TrackStats.objects.get(track=track).likes == 1  # like, unlike, like


def test_filtered_events_are_kept_counted_once_and_change_no_credited_figure(track):
    short = make_payload(track, seconds=1.0, ts=at(0))
    events_count(payloads=[short, make_payload(track, "play", "fan-2", ts=at(0))])
    events_count(payloads=[short, dict(short)])  # redelivered
    assert reasons(track) == {"": 1, "short": 1}
    stats = TrackStats.objects.get(track=track)
    assert (stats.plays, stats.listeners) == (1, 1)
    assert list(FilteredHour.objects.values_list("hour", "reason", "events")) == [(T0, "short", 1)]


def test_the_rules_see_a_batch_in_event_time_order(track):
    late, early = make_payload(track, ts=at(20)), make_payload(track, ts=at(5))
    events_count(payloads=[late, early])
    assert dict(Event.objects.values_list("id", "reason")) == {
        Event.objects.get(ts=T0 + timedelta(seconds=5)).id: "",
        Event.objects.get(ts=T0 + timedelta(seconds=20)).id: "too_fast",
    }


def test_pruning_forgets_old_working_sets_and_past_address_keys(track):
    now = datetime.now(UTC)
    old = now - timedelta(days=9)
    events_count(payloads=[make_payload(track, ts=old.isoformat(), address="feedfacefeedface")])
    events_count(payloads=[make_payload(track, "play", "fan-2", address="feedfacefeedface")])
    AddressKey.objects.create(day=(now - timedelta(days=3)).date(), key="x")
    AddressKey.objects.create(day=now.date(), key="y")
    deleted = integrity_prune(now=now)
    assert deleted["address_keys"] == 1
    assert list(AddressKey.objects.values_list("key", flat=True)) == ["y"]
    assert AddressHour.objects.count() == 1
    assert ListenerHourUse.objects.count() == 1
    assert Event.objects.count() == 2  # events themselves are kept


def test_a_slot_that_crosses_the_hour_still_holds_one_play():
    """A 7-minute track's slot 10:58-11:05 spans two hours: a replay at 11:01 is too fast."""
    long_track = make_track(duration=420.0)
    plays = [make_payload(long_track, seconds=400.0, ts=at(s)) for s in (59 * 60, 61 * 60)]
    events_count(payloads=plays[:1])
    events_count(payloads=plays[1:])  # a later batch, reading the earlier hour's row
    assert reasons(long_track) == {"": 1, "too_fast": 1}
