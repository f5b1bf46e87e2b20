"""The stats API (analytics.api.stats) and the tokens that open it."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from analytics.selectors import SERIES_HOURS
from analytics.services.counting import events_count
from tests.conftest import make_artist, make_overseer, make_payload, make_track, make_user

pytestmark = pytest.mark.django_db


# --- tokens -----------------------------------------------------------------------------------
def test_a_token_is_issued_for_good_credentials_and_works(client):
    user = make_user("ada", password="pw-secret-1")
    artist = make_artist(members=[user])
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "ada", "password": "pw-secret-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=user).key
    stats = Client().get(
        f"/api/v1/artists/{artist.slug}/stats/", headers={"authorization": f"Token {token}"}
    )
    assert stats.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "ada", "password": "wrong"},
        {"username": "nobody", "password": "pw-secret-1"},
        {"username": "ada"},
        {},
    ],
)
def test_bad_credentials_are_a_400(client, credentials):
    make_user("ada", password="pw-secret-1")
    response = client.post("/api/v1/auth/token/", credentials, content_type="application/json")
    assert response.status_code == 400
    assert "token" not in response.json()
    assert not Token.objects.exists()


# --- stats --------------------------------------------------------------------------------------
@pytest.fixture
def scene():
    member, stranger, staff = make_user(), make_user(), make_overseer()
    artist = make_artist(members=[member])
    make_artist(members=[stranger])
    first, second = make_track(artist, title="A"), make_track(artist, title="B")
    events_count(
        payloads=[
            make_payload(first, "play", "fan-1"),
            make_payload(first, "play", "fan-2"),
            make_payload(second, "play", "fan-1"),
            make_payload(first, "like", "fan-1"),
        ]
    )
    return {
        "member": member,
        "stranger": stranger,
        "staff": staff,
        "artist": artist,
        "first": first,
        "second": second,
    }


def stats_urls(scene) -> dict[str, str]:
    return {
        "track": f"/api/v1/tracks/{scene['first'].id}/stats/",
        "artist": f"/api/v1/artists/{scene['artist'].slug}/stats/",
    }


def session_client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def token_client(user) -> Client:
    token = Token.objects.create(user=user).key
    return Client(raise_request_exception=False, headers={"authorization": f"Token {token}"})


@pytest.mark.parametrize("who", ["member", "staff"])
@pytest.mark.parametrize("login", [session_client, token_client], ids=["session", "token"])
def test_members_and_staff_read_stats(scene, who, login):
    client = login(scene[who])
    urls = stats_urls(scene)

    track = client.get(urls["track"])
    assert track.status_code == 200
    body = track.json()
    assert (body["plays"], body["likes"], body["listeners"]) == (2, 1, 2)
    assert body["updated_at"] is not None
    assert len(body["series"]) == SERIES_HOURS == 168
    assert sum(point["plays"] for point in body["series"]) == 2

    artist = client.get(urls["artist"])
    assert artist.status_code == 200
    body = artist.json()
    assert (body["plays"], body["likes"], body["listeners"]) == (3, 1, 2)
    assert len(body["series"]) == 168
    assert [(t["title"], t["plays"], t["listeners"]) for t in body["tracks"]] == [
        ("A", 2, 2),
        ("B", 1, 1),
    ]


@pytest.mark.parametrize("login", [session_client, token_client], ids=["session", "token"])
@pytest.mark.parametrize("kind", ["track", "artist"])
def test_another_artists_member_is_forbidden(scene, login, kind):
    response = login(scene["stranger"]).get(stats_urls(scene)[kind])
    assert response.status_code == 403
    assert "plays" not in response.json()


@pytest.mark.parametrize("kind", ["track", "artist"])
def test_anonymous_is_refused(scene, kind):
    response = Client().get(stats_urls(scene)[kind])
    assert response.status_code in (401, 403)
    assert "plays" not in response.json()


@pytest.mark.parametrize("kind", ["track", "artist"])
def test_a_bad_token_is_refused(scene, kind):
    client = Client(headers={"authorization": "Token not-a-real-token"})
    assert client.get(stats_urls(scene)[kind]).status_code in (401, 403)


@pytest.mark.parametrize("who", ["member", "staff"])
@pytest.mark.parametrize(
    "url", ["/api/v1/tracks/999999999/stats/", "/api/v1/artists/no-such-artist/stats/"]
)
def test_unknown_track_or_artist_is_a_404(scene, who, url):
    assert session_client(scene[who]).get(url).status_code == 404


def test_a_huge_track_id_in_the_url_is_a_404(scene):
    response = session_client(scene["staff"]).get(f"/api/v1/tracks/{10**30}/stats/")
    assert response.status_code == 404
