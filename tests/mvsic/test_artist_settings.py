"""The artist's settings page: members pick the time zone, the figures follow."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.test import Client

from analytics.models import ArtistStats, Rollup
from analytics.services.counting import events_count
from analytics.services.rebuild import zones_sync
from tests.conftest import make_artist, make_overseer, make_payload, make_track, make_user

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


# --- the profile: name, bio, picture ---------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(data: bytes, name: str = "me.jpg", content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_member_edits_the_profile_and_the_picture_is_shown_without_metadata(
    media, django_capture_on_commit_callbacks
):
    import io

    from PIL import Image

    from tests.mvsic.test_pictures import image_bytes

    member = make_user("member")
    artist = make_artist("Old Name", members=[member])
    client = logged_in(member)
    data = {"name": "New Name", "bio": "From the coast.", "picture": upload(image_bytes())}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/artists/{artist.slug}/profile/", data)
    assert response.status_code == 302
    artist.refresh_from_db()
    assert (artist.name, artist.bio, artist.slug) == ("New Name", "From the coast.", "old-name")
    stored = Image.open(artist.picture.path)
    assert stored.format == "WEBP" and max(stored.size) == 512 and not stored.getexif()

    picture_url = f"/artists/{artist.slug}/picture/?v={artist.picture_version}"
    assert picture_url.encode() in Client().get(f"/artists/{artist.slug}/").content
    assert picture_url.encode() in Client().get("/").content
    served = Client().get(picture_url)
    assert served["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == stored.size

    # A new picture replaces the old file; removing it leaves none.
    old_path = artist.picture.path
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/artists/{artist.slug}/profile/",
            {"name": "New Name", "picture": upload(image_bytes((300, 300)))},
        )
    artist.refresh_from_db()
    assert artist.picture.path != old_path and not Path(old_path).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/artists/{artist.slug}/profile/", {"name": "New Name", "picture_remove": "on"}
        )
    artist.refresh_from_db()
    assert not artist.picture and list(media.rglob("*.webp")) == []
    assert Client().get(f"/artists/{artist.slug}/picture/").status_code == 404


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7 not a picture", b"not an image we can read"),
        (b"\xff\xd8\xff" + b"\0" * 1000, b"not an image we can read"),
        ("big", b"the largest is 2.0\xc2\xa0KB"),
    ],
    ids=["pdf", "fake-jpeg", "oversize"],
)
def test_a_bad_picture_is_refused_with_a_reason_and_nothing_changes(media, settings, data, reason):
    from tests.mvsic.test_pictures import image_bytes

    settings.MVSIC_PICTURE_MAX_BYTES = 2048
    member = make_user("member")
    artist = make_artist("Keep", members=[member])
    if data == "big":
        data = image_bytes()
    response = logged_in(member).post(
        f"/artists/{artist.slug}/profile/", {"name": "Changed", "picture": upload(data)}
    )
    assert response.status_code == 400
    assert reason in response.content
    artist.refresh_from_db()
    assert artist.name == "Keep" and not artist.picture
    assert list(media.rglob("*")) == []


def test_a_body_declared_larger_than_a_picture_is_refused_before_it_is_read(media, settings):
    settings.MVSIC_PICTURE_MAX_BYTES = 1024
    member = make_user("member")
    artist = make_artist("Keep", members=[member])
    response = logged_in(member).post(
        f"/artists/{artist.slug}/profile/",
        {"name": "Changed"},
        CONTENT_LENGTH=str(1024 + 64 * 1024 + 1),
    )
    assert response.status_code == 413
    assert "The picture is larger than 1.0\xa0KB, the largest we take." in response.content.decode()
    artist.refresh_from_db()
    assert artist.name == "Keep"


def test_a_member_of_one_artist_cannot_touch_another(media):
    member_a = make_user("a")
    artist_a, artist_b = make_artist("A", members=[member_a]), make_artist("B")
    client = logged_in(member_a)
    assert client.get(f"/artists/{artist_a.slug}/settings/").status_code == 200
    assert client.get(f"/artists/{artist_b.slug}/settings/").status_code == 403
    assert client.post(f"/artists/{artist_b.slug}/profile/", {"name": "Hacked"}).status_code == 403
    assert (
        client.post(f"/artists/{artist_b.slug}/settings/", {"timezone": "Asia/Tokyo"}).status_code
        == 403
    )
    assert client.post("/artists/nobody/profile/", {"name": "x"}).status_code == 404
    anonymous = Client().post(f"/artists/{artist_a.slug}/profile/", {"name": "Hacked"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    artist_b.refresh_from_db()
    assert (artist_b.name, artist_b.timezone) == ("B", "UTC")
    overseer = logged_in(make_overseer())
    assert overseer.post(f"/artists/{artist_b.slug}/profile/", {"name": "B2"}).status_code == 302


def test_the_profile_form_needs_its_csrf_token(media):
    member = make_user("member")
    artist = make_artist("Guarded", members=[member])
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    refused = client.post(f"/artists/{artist.slug}/profile/", {"name": "Forged"})
    assert refused.status_code == 403
    artist.refresh_from_db()
    assert artist.name == "Guarded"
    page = client.get(f"/artists/{artist.slug}/settings/")
    token = page.context["csrf_token"]
    accepted = client.post(
        f"/artists/{artist.slug}/profile/", {"name": "Mine", "csrfmiddlewaretoken": str(token)}
    )
    assert accepted.status_code == 302
    artist.refresh_from_db()
    assert artist.name == "Mine"


def test_the_dashboard_links_to_the_profile_and_tracks_pages():
    member = make_user("member")
    artist = make_artist("Linked", members=[member])
    page = logged_in(member).get(f"/dashboard/{artist.slug}/").content.decode()
    for url in (f"/artists/{artist.slug}/settings/", f"/artists/{artist.slug}/tracks/"):
        assert f'href="{url}"' in page
