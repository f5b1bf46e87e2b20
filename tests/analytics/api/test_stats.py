"""The stats API (analytics.api.stats) and the tokens that open it."""

import pytest
from django.test import Client
from knox.models import AuthToken

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
    assert response.json()["expiry"]  # tokens expire
    assert AuthToken.objects.get(user=user).token_key == token[:15]  # stored hashed
    stats = Client().get(
        f"/api/v1/artists/{artist.slug}/stats/", headers={"authorization": f"Token {token}"}
    )
    assert stats.status_code == 200


@pytest.mark.parametrize(
    ("credentials", "status"),
    [
        ({"username": "ada", "password": "wrong"}, 401),
        ({"username": "nobody", "password": "pw-secret-1"}, 401),
        ({"username": "ada"}, 400),
        ({}, 400),
    ],
)
def test_wrong_credentials_are_a_401_and_missing_ones_a_400(client, credentials, status):
    """(The `client` fixture's ingest key does not open the token endpoint.)"""
    make_user("ada", password="pw-secret-1")
    response = client.post("/api/v1/auth/token/", credentials, content_type="application/json")
    assert response.status_code == status
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


def stats_with(token: str, artist) -> int:
    url = f"/api/v1/artists/{artist.slug}/stats/"
    return Client().get(url, headers={"authorization": f"Token {token}"}).status_code


def test_an_expired_token_is_a_401():
    from datetime import timedelta

    user = make_user()
    artist = make_artist(members=[user])
    _, token = AuthToken.objects.create(user=user, expiry=timedelta(seconds=-1))
    assert stats_with(token, artist) == 401


def test_logout_revokes_the_token_in_use():
    user = make_user()
    artist = make_artist(members=[user])
    _, token = AuthToken.objects.create(user=user)
    headers = {"authorization": f"Token {token}"}
    assert Client().post("/api/v1/auth/logout/", headers=headers).status_code == 204
    assert stats_with(token, artist) == 401


def test_a_password_change_revokes_every_token():
    user = make_user()
    artist = make_artist(members=[user])
    tokens = [AuthToken.objects.create(user=user)[1] for _ in range(2)]
    other = make_user()
    _, kept = AuthToken.objects.create(user=other)
    user.set_password("a-new-secret-42")
    user.save()
    assert [stats_with(t, artist) for t in tokens] == [401, 401]
    assert AuthToken.objects.filter(user=other).count() == 1
    user.first_name = "Ada"
    user.save()  # other changes keep tokens
    assert AuthToken.objects.filter(user=other).exists() and kept


def test_the_sixth_wrong_password_is_locked_out_and_an_admin_lifts_it(client, settings):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    make_user("ada", password="pw-secret-1")

    def attempt(password: str):
        return client.post(
            "/api/v1/auth/token/",
            {"username": "ada", "password": password},
            content_type="application/json",
        )

    assert [attempt("wrong").status_code for _ in range(5)] == [401] * 5
    assert attempt("wrong").status_code == 429  # the sixth
    locked = attempt("pw-secret-1")  # even the right password, while locked out
    assert locked.status_code == 429
    assert "too many" in locked.content.decode().lower()
    page = Client().post("/accounts/login/", {"username": "ada", "password": "pw-secret-1"})
    assert page.status_code == 429  # the login page shares the lockout
    AccessAttempt.objects.all().delete()  # what an admin does in Axes > Access attempts
    assert attempt("pw-secret-1").status_code == 200


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
    _, token = AuthToken.objects.create(user=user)
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
    # Today and the 6 days before (UTC here), by the hour, up to the current one.
    assert 6 * 24 < len(body["series"]) <= SERIES_HOURS == 168
    assert sum(point["plays"] for point in body["series"]) == 2

    artist = client.get(urls["artist"])
    assert artist.status_code == 200
    body = artist.json()
    assert (body["plays"], body["likes"], body["listeners"]) == (3, 1, 2)
    assert 6 * 24 < len(body["series"]) <= 168
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


@pytest.mark.parametrize("login", [session_client, token_client], ids=["session", "token"])
@pytest.mark.parametrize("kind", ["track", "artist"])
def test_a_staff_member_of_another_artist_is_forbidden(scene, login, kind):
    """Being staff is not the permission to see every artist (mvsic.view_all_artists)."""
    staff = make_user(is_staff=True)
    make_artist(members=[staff])
    response = login(staff).get(stats_urls(scene)[kind])
    assert response.status_code == 403


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
