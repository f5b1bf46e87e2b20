"""analytics.services.follows: follows and unfollows counted exactly once, latest wins,
followers now and by local day, the rules likes obey, and reconciliation."""

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.models import (
    ArtistStats,
    Block,
    Event,
    FollowEvent,
    FollowState,
    PoisonEvent,
    Rollup,
)
from analytics.services.counting import events_count
from analytics.services.follows import day_changes
from analytics.services.integrity import lists_changed
from analytics.services.rebuild import artist_zone_rebuild
from analytics.services.reconciliation import counts_reconcile
from mvsic.models import ListenerUser
from tests.conftest import BROWSER_UA, make_artist, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def follow(artist, kind="follow", listener="fan-1", ts=None, **extra) -> dict:
    payload = make_payload(None, kind, listener, **extra)
    payload.update({"track": None, "artist": artist.id, "ts": ts or at(0)})
    return payload


def followers(artist) -> int:
    stats = ArtistStats.objects.filter(artist=artist).first()
    return stats.followers if stats else 0


def daily(artist) -> dict[date, int]:
    return dict(
        Rollup.objects.filter(scope="a", key=artist.id, span="d", metric="followers")
        .exclude(n=0)
        .values_list("start", "n")
    )


# --- the day-by-day change -------------------------------------------------------------------
def test_day_changes_follow_the_state_at_the_end_of_each_day():
    d1, d2, d3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    assert day_changes([(d1, True)]) == {d1: 1}
    assert day_changes([(d1, True), (d1, False)]) == {}
    assert day_changes([(d1, True), (d2, False), (d3, True)]) == {d1: 1, d2: -1, d3: 1}
    assert day_changes([(d1, False), (d2, False)]) == {}


# --- counting --------------------------------------------------------------------------------
def test_follows_count_once_each_however_often_delivered():
    artist = make_artist()
    payloads = [follow(artist, listener=f"fan-{i}") for i in range(4)]
    payloads.append(follow(artist, "unfollow", "fan-0", ts=at(1)))

    assert events_count(payloads=payloads) == 5
    shuffled = payloads * 2
    random.Random(5).shuffle(shuffled)
    assert events_count(payloads=shuffled) == 0
    for payload in payloads:
        assert events_count(payloads=[payload]) == 0

    assert followers(artist) == 3
    assert FollowEvent.objects.count() == 5
    assert not Event.objects.exists()
    assert daily(artist) == {date(2026, 3, 1): 3}
    assert FollowState.objects.filter(artist=artist, following=True).count() == 3
    assert counts_reconcile().drift == 0


def test_the_latest_follow_or_unfollow_wins_in_any_order_of_arrival():
    artist = make_artist()
    history = [
        follow(artist, "follow", ts=at(0)),
        follow(artist, "unfollow", ts=at(30)),  # the next day
        follow(artist, "follow", ts=at(50)),  # the day after
    ]
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2]):
        ArtistStats.objects.all().delete()
        FollowEvent.objects.all().delete()
        FollowState.objects.all().delete()
        Rollup.objects.all().delete()
        for i in order:
            events_count(payloads=[{**history[i], "id": str(uuid.uuid4())}])

        assert followers(artist) == 1
        assert FollowState.objects.get().following is True
        assert daily(artist) == {date(2026, 3, 1): 1, date(2026, 3, 2): -1, date(2026, 3, 3): 1}
        assert counts_reconcile().drift == 0


def test_a_late_unfollow_before_a_later_follow_changes_only_its_day():
    artist = make_artist()
    events_count(payloads=[follow(artist, ts=at(0)), follow(artist, ts=at(48))])
    assert daily(artist) == {date(2026, 3, 1): 1}

    events_count(payloads=[follow(artist, "unfollow", ts=at(24))])

    assert followers(artist) == 1
    assert daily(artist) == {date(2026, 3, 1): 1, date(2026, 3, 2): -1, date(2026, 3, 3): 1}
    assert counts_reconcile().drift == 0


def test_followers_by_day_are_kept_in_the_artists_zone():
    artist = make_artist()
    artist.timezone = "America/New_York"
    artist.save()
    ArtistStats.objects.create(artist=artist, zone="America/New_York")

    events_count(payloads=[follow(artist, ts=datetime(2026, 3, 2, 3, tzinfo=UTC).isoformat())])

    assert daily(artist) == {date(2026, 3, 1): 1}  # 22:00 the day before in New York
    assert Rollup.objects.get(span="m", metric="followers").start == date(2026, 3, 1)


def test_a_batch_of_plays_and_follows_counts_both():
    track = make_track()
    payloads = [make_payload(track, "play", "fan-1"), follow(track.artist, listener="fan-1")]
    assert events_count(payloads=payloads) == 2
    assert followers(track.artist) == 1
    assert ArtistStats.objects.get(artist=track.artist).plays == 1
    assert counts_reconcile().drift == 0


def test_follows_obey_the_rules_likes_obey(settings):
    settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = 2
    member = make_user()
    artist = make_artist(members=[member])
    ListenerUser.objects.create(listener="member-browser", user=member)
    Block.objects.create(kind="listener", value="blocked-fan")
    lists_changed()
    payloads = [
        follow(artist, listener="member-browser"),
        follow(artist, listener="blocked-fan"),
        follow(artist, listener="crawler", ua="Googlebot/2.1 (+http://www.google.com/bot.html)"),
        *(follow(artist, listener=f"fan-{i}", address="addr1", ts=at(i / 10)) for i in range(3)),
    ]

    assert events_count(payloads=payloads) == 6

    reasons = dict(FollowEvent.objects.values_list("listener", "reason"))
    assert reasons == {
        "member-browser": "own_play",
        "blocked-fan": "blocked",
        "crawler": "bot",
        "fan-0": "",
        "fan-1": "",
        "fan-2": "too_many_follows",
    }
    assert followers(artist) == 2
    assert counts_reconcile().drift == 0


def test_a_follow_of_an_unknown_artist_is_parked():
    payload = follow(make_artist())
    payload["artist"] = 999_999

    assert events_count(payloads=[payload]) == 0

    assert "artist 999999 does not exist" in PoisonEvent.objects.get().reason


@pytest.mark.parametrize(
    "change",
    [
        {"artist": None},
        {"artist": "x"},
        {"track": 1},
    ],
)
def test_a_malformed_follow_payload_is_parked(change):
    payload = {**follow(make_artist()), **change}

    assert events_count(payloads=[payload]) == 0

    assert PoisonEvent.objects.count() == 1


# --- reconciliation --------------------------------------------------------------------------
def test_drift_in_followers_is_reported_and_fixed():
    artist = make_artist()
    events_count(payloads=[follow(artist, listener=f"fan-{i}", ua=BROWSER_UA) for i in range(3)])
    ArtistStats.objects.filter(artist=artist).update(followers=7)
    FollowState.objects.filter(listener="fan-0").update(following=False)
    Rollup.objects.filter(metric="followers", span="d").update(n=1)

    run = counts_reconcile()
    assert run.drift == 3
    assert {d["table"] for d in run.details} == {"artist", "follow_state", "rollup"}

    assert counts_reconcile(fix=True).fixed
    assert followers(artist) == 3
    assert daily(artist) == {date(2026, 3, 1): 3}
    assert counts_reconcile().drift == 0


def test_fix_re_applies_the_rules_to_stored_follows():
    """A block added later filters the follows the listener sent before, once --fix runs."""
    artist = make_artist()
    events_count(payloads=[follow(artist, listener=f"fan-{i}") for i in range(3)])
    Block.objects.create(kind="listener", value="fan-0")
    lists_changed()
    assert counts_reconcile().drift == 0  # the check trusts the stored reasons

    assert counts_reconcile(fix=True).fixed

    assert FollowEvent.objects.get(listener="fan-0").reason == "blocked"
    assert followers(artist) == 2
    assert daily(artist) == {date(2026, 3, 1): 2}
    assert not FollowState.objects.filter(listener="fan-0").exists()
    assert counts_reconcile().drift == 0


def test_filtered_follows_are_counted_by_local_day_and_reason_once_each(settings):
    settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR = 1
    artist = make_artist()
    ArtistStats.objects.create(artist=artist, zone="Pacific/Auckland")  # 23:00 local at T0
    payloads = [
        follow(artist, listener="fan-1", address="addr1"),
        follow(artist, listener="fan-2", address="addr1", ts=at(0.5)),
        follow(artist, "unfollow", listener="crawler", ua="Googlebot/2.1", ts=at(2)),
    ]
    assert events_count(payloads=payloads) == 3
    assert events_count(payloads=payloads) == 0  # delivered again: nothing more

    rows = set(
        Rollup.objects.filter(scope="a", key=artist.id, metric="filtered_follows").values_list(
            "span", "start", "value", "n"
        )
    )
    assert rows == {
        ("d", date(2026, 3, 1), "too_many_follows", 1),
        ("d", date(2026, 3, 2), "bot", 1),
        ("m", date(2026, 3, 1), "too_many_follows", 1),
        ("m", date(2026, 3, 1), "bot", 1),
    }
    assert followers(artist) == 1
    assert counts_reconcile().drift == 0


def test_a_batch_of_only_filtered_follows_counts_them():
    artist = make_artist()
    assert events_count(payloads=[follow(artist, listener="c", ua="Googlebot/2.1")]) == 1
    assert Rollup.objects.get(metric="filtered_follows", span="m").value == "bot"
    assert followers(artist) == 0
    assert counts_reconcile().drift == 0


def test_drift_in_filtered_follows_is_reported_and_fixed():
    artist = make_artist()
    events_count(payloads=[follow(artist, listener=f"c-{i}", ua="Googlebot/2.1") for i in range(3)])
    Rollup.objects.filter(metric="filtered_follows", span="d").update(n=1)
    Rollup.objects.filter(metric="filtered_follows", span="m").delete()

    run = counts_reconcile()
    assert run.drift == 2
    assert {d["table"] for d in run.details} == {"rollup"}

    assert counts_reconcile(fix=True).fixed
    assert set(Rollup.objects.filter(metric="filtered_follows").values_list("span", "n")) == {
        ("d", 3),
        ("m", 3),
    }
    assert counts_reconcile().drift == 0


def test_fix_counts_the_follows_a_later_block_filters():
    artist = make_artist()
    events_count(payloads=[follow(artist, listener=f"fan-{i}") for i in range(3)])
    Block.objects.create(kind="listener", value="fan-0")
    lists_changed()

    assert counts_reconcile(fix=True).fixed

    assert set(
        Rollup.objects.filter(metric="filtered_follows").values_list("span", "value", "n")
    ) == {
        ("d", "blocked", 1),
        ("m", "blocked", 1),
    }
    assert counts_reconcile().drift == 0


def test_a_zone_change_moves_filtered_follows_to_their_new_local_day():
    artist = make_artist()
    late = datetime(2026, 3, 2, 3, tzinfo=UTC).isoformat()
    events_count(payloads=[follow(artist, listener="c", ua="Googlebot/2.1", ts=late)])
    assert Rollup.objects.get(span="d", metric="filtered_follows").start == date(2026, 3, 2)
    artist.timezone = "America/New_York"
    artist.save()

    assert artist_zone_rebuild(artist_id=artist.id)

    assert Rollup.objects.get(span="d", metric="filtered_follows").start == date(2026, 3, 1)
    assert counts_reconcile().drift == 0
