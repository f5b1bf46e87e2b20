"""The artist's settings page: members pick the time zone, the figures follow."""

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from analytics.models import ArtistStats, Rollup
from analytics.services.counting import events_count
from analytics.services.rebuild import zones_sync
from tests.conftest import make_artist, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_sets_the_zone_and_the_figures_move_to_it(django_capture_on_commit_callbacks):
    member = make_user("member")
    artist = make_artist(members=[member])
    track = make_track(artist)
    ts = datetime(2026, 3, 1, 20, tzinfo=UTC).isoformat()  # 01:30 on March 2 in India
    events_count(payloads=[make_payload(track, "play", "fan", ts=ts, received_at=ts)])
    with django_capture_on_commit_callbacks() as sent:
        response = logged_in(member).post(
            f"/artists/{artist.slug}/settings/", {"timezone": "Asia/Kolkata"}
        )
    assert response.status_code == 302
    artist.refresh_from_db()
    assert artist.timezone == "Asia/Kolkata"
    assert len(sent) == 1  # the rebuild task, sent once the change is committed
    assert zones_sync() == [artist.id]  # what the task (or the minute's sync) does
    assert ArtistStats.objects.get(artist=artist).zone == "Asia/Kolkata"
    days = set(
        Rollup.objects.filter(scope="a", key=artist.id, span="d").values_list("start", flat=True)
    )
    assert days == {date(2026, 3, 2)}
    assert zones_sync() == []


def test_an_unknown_zone_is_refused_and_strangers_are_forbidden():
    member, stranger = make_user("member"), make_user("stranger")
    artist = make_artist(members=[member])
    response = logged_in(member).post(
        f"/artists/{artist.slug}/settings/", {"timezone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert logged_in(stranger).get(f"/artists/{artist.slug}/settings/").status_code == 403
    artist.refresh_from_db()
    assert artist.timezone == "UTC"
