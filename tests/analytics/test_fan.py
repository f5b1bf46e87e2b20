"""The fan's page: likes and follows, their data as JSON or CSV, and forgetting it with
every counter keeping its totals and reconciliation at drift 0."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from analytics.models import (
    ArtistStats,
    Block,
    Event,
    FollowEvent,
    FollowState,
    LikeState,
    ListenerDay,
    ListenerHour,
    ListenerHourUse,
    TrackStats,
)
from analytics.services.counting import events_count
from analytics.services.reconciliation import counts_reconcile
from mvsic.models import AccountListener
from tests.conftest import make_artist, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


def listener_of(client) -> str:
    client.get("/")
    return client.cookies[settings.MVSIC_LISTENER_COOKIE].value.split(":")[0]


def ago(minutes: float) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


def follow(artist, listener, kind="follow", minutes=0.0) -> dict:
    payload = make_payload(None, kind, listener, ts=ago(minutes))
    payload.update({"track": None, "artist": artist.id})
    return payload


@pytest.fixture
def history():
    """Two tracks of one artist and another artist; the fan and two other fans."""
    artist, other = make_artist("Liked Band"), make_artist("Followed Band")
    first, second = make_track(artist, "First"), make_track(artist, "Second")

    def count(fan: str) -> None:
        events_count(
            payloads=[
                make_payload(first, "play", fan, ts=ago(90)),
                make_payload(second, "play", fan, ts=ago(60)),
                make_payload(first, "like", fan, ts=ago(50)),
                make_payload(second, "like", fan, ts=ago(40)),
                make_payload(second, "unlike", fan, ts=ago(30)),
                follow(other, fan, minutes=20),
                follow(artist, fan, minutes=10),
                follow(artist, fan, "unfollow", minutes=5),
                make_payload(first, "play", fan, ts=ago(89), seconds=2.0),  # filtered: short
            ]
        )

    for fan in ("someone", "someone-else"):
        count(fan)
    return count, artist, other, first, second


def test_the_fan_page_lists_liked_tracks_and_followed_artists(client, history):
    count, *_ = history
    count(listener_of(client))

    page = client.get("/me/").content.decode()

    likes = page.split("data-likes")[1].split("</ul>")[0]
    follows = page.split("data-follows")[1].split("</ul>")[0]
    assert "First" in likes and "Second" not in likes
    assert "Followed Band" in follows and "Liked Band" not in follows


def test_a_new_fan_sees_empty_lists(client):
    page = client.get("/me/").content.decode()
    assert "No artist yet" in page and "No track yet" in page


def test_the_fan_downloads_their_own_data_as_json_and_csv(client, history):
    count, *_ = history
    me = listener_of(client)
    count(me)

    body = json.loads(client.get("/me/data/").content)

    assert body["listener"] == me
    assert len(body["events"]) == 6 and len(body["follow_events"]) == 3
    assert {e["status"] for e in body["events"]} == {"credited", "short"}
    assert [like["title"] for like in body["likes"]] == ["First"]
    assert [f["artist"] for f in body["follows"]] == ["followed-band"]
    assert Event.objects.filter(listener="someone").count() == 6  # only the fan's own

    response = client.get("/me/data/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1 + 9
    assert {row[2] for row in rows[1:]} == {"play", "like", "unlike", "follow", "unfollow"}
    assert client.get("/me/data/", {"format": "xml"}).status_code == 400


def figures() -> tuple:
    return (
        sorted(TrackStats.objects.values_list("track_id", "plays", "likes", "listeners")),
        sorted(ArtistStats.objects.values_list("artist_id", "plays", "likes", "listeners",
                                               "followers")),
    )  # fmt: skip


def test_deleting_an_account_pseudonymises_its_events_and_keeps_every_total(client, history):
    count, *_ = history
    client.post(
        "/accounts/signup/",
        {"email": "fan@example.com", "password1": "a-Long-tune-42", "password2": "a-Long-tune-42"},
    )
    me = listener_of(client)
    count(me)
    Block.objects.create(kind="listener", value=me)
    before = figures()
    assert counts_reconcile().drift == 0

    response = client.post("/me/delete/", {"confirm": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.exists()
    assert not AccountListener.objects.exists()
    for model in (Event, FollowEvent, LikeState, FollowState, ListenerHour, ListenerDay,
                  ListenerHourUse):  # fmt: skip
        assert not model.objects.filter(listener=me).exists(), model
    pseudonym = Event.objects.exclude(listener__startswith="someone").values("listener")
    assert {row["listener"] for row in pseudonym} != set()
    assert not Block.objects.filter(value=me).exists()
    assert figures() == before
    assert counts_reconcile().drift == 0
    assert listener_of(client) != me  # this browser is someone new
    assert client.get("/me/").wsgi_request.user.is_anonymous


def test_an_anonymous_fan_forgets_this_browsers_data(client, history):
    count, *_ = history
    me = listener_of(client)
    count(me)
    before = figures()

    client.post("/me/delete/", {"confirm": "yes"})

    assert not Event.objects.filter(listener=me).exists()
    assert figures() == before
    assert counts_reconcile().drift == 0


def test_deleting_needs_the_confirmation(client, history):
    count, *_ = history
    me = listener_of(client)
    count(me)

    response = client.post("/me/delete/", follow=True)

    assert "Tick the box" in response.content.decode()
    assert Event.objects.filter(listener=me).exists()


def test_an_artists_member_cannot_delete_their_account_here(client):
    member = make_user()
    make_artist(members=[member])
    client.force_login(member)

    response = client.post("/me/delete/", {"confirm": "yes"}, follow=True)

    assert "deleted by an admin" in response.content.decode()
    assert get_user_model().objects.filter(pk=member.pk).exists()


def test_a_fans_account_goes_to_their_page_after_login(client):
    client.force_login(make_user())
    assert client.get("/dashboard/")["Location"] == "/me/"
