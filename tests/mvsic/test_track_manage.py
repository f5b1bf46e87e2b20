"""Members rename, reorder, unpublish and republish their artist's tracks."""

import pytest
from django.test import Client

from mvsic.models import Track
from mvsic.selectors import artist_tracks_list
from tests.conftest import make_artist, make_track, make_user

pytestmark = pytest.mark.django_db


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def band():
    member = make_user("member")
    artist = make_artist("Band", members=[member])
    tracks = [make_track(artist, title) for title in ("A", "B", "C", "D")]
    return member, artist, tracks


def fan_titles(artist) -> list[str]:
    return [t.title for t in artist_tracks_list(artist=artist)]


def test_a_member_renames_a_track_and_a_clash_is_a_form_error(band):
    member, artist, (a, b, *_) = band
    client = logged_in(member)
    response = client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": "  Anthem "})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.title == "Anthem"
    clash = client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": "b"})
    assert clash.status_code == 400
    assert "Band already has a track called “b”." in clash.content.decode()
    assert (
        client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": "ANTHEM"}).status_code == 302
    )
    empty = client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": " "})
    assert empty.status_code == 400 and b"This field is required" in empty.content
    a.refresh_from_db()
    assert a.title == "ANTHEM"  # its own title in another case is no clash


def test_tracks_move_up_and_down_on_the_artist_page_without_javascript(band):
    member, artist, (a, b, c, d) = band
    client = logged_in(member)
    page = client.get(f"/artists/{artist.slug}/")
    assert f'action="/tracks/{c.id}/order/"'.encode() in page.content  # members see the buttons
    assert b"/order/" not in Client().get(f"/artists/{artist.slug}/").content  # fans do not
    response = client.post(
        f"/tracks/{c.id}/order/", {"direction": "up", "next": f"/artists/{artist.slug}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/artists/{artist.slug}/"
    assert fan_titles(artist) == ["A", "C", "B", "D"]
    client.post(f"/tracks/{a.id}/order/", {"direction": "down"})
    client.post(f"/tracks/{d.id}/order/", {"direction": "down"})  # already last: stays
    client.post(f"/tracks/{c.id}/order/", {"direction": "up"})  # now first already: stays
    assert fan_titles(artist) == ["C", "A", "B", "D"]
    assert list(artist.tracks.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
    ]
    offsite = client.post(
        f"/tracks/{a.id}/order/", {"direction": "up", "next": "https://evil.example/"}
    )
    assert offsite["Location"] == f"/artists/{artist.slug}/tracks/"
    assert client.post(f"/tracks/{a.id}/order/", {"direction": "sideways"}).status_code == 400


def test_a_published_track_moves_past_unpublished_ones(band):
    member, artist, (a, b, c, d) = band
    client = logged_in(member)
    client.post(f"/tracks/{b.id}/publish/", {"published": "0"})
    client.post(f"/tracks/{c.id}/order/", {"direction": "up"})
    assert fan_titles(artist) == ["C", "A", "D"]  # one step for fans, past the hidden B


def test_unpublishing_hides_a_track_from_fans_and_republishing_brings_it_back(band):
    member, artist, (a, b, *_) = band
    client = logged_in(member)
    response = client.post(f"/tracks/{b.id}/publish/", {"published": "0"})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.hidden_at is not None
    assert fan_titles(artist) == ["A", "C", "D"]
    assert Client().get(f"/tracks/{b.id}/").status_code == 404
    manage = client.get(f"/artists/{artist.slug}/tracks/")
    assert manage.status_code == 200 and b"Publish again" in manage.content
    client.post(f"/tracks/{b.id}/publish/", {"published": "1"})
    b.refresh_from_db()
    assert b.hidden_at is None
    assert fan_titles(artist) == ["A", "B", "C", "D"]
    assert Track.objects.filter(artist=artist).count() == 4  # nothing was deleted


def test_a_member_of_another_artist_cannot_touch_these_tracks(band):
    _, artist, (a, *_) = band
    other = make_user("other")
    make_artist("Other", members=[other])
    client = logged_in(other)
    assert client.get(f"/artists/{artist.slug}/tracks/").status_code == 403
    assert client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": "Mine"}).status_code == 403
    assert client.post(f"/tracks/{a.id}/order/", {"direction": "down"}).status_code == 403
    assert client.post(f"/tracks/{a.id}/publish/", {"published": "0"}).status_code == 403
    assert client.post("/tracks/999999/publish/", {"published": "0"}).status_code == 404
    assert Client().post(f"/tracks/{a.id}/publish/", {"published": "0"}).status_code == 302
    assert logged_in(other).get(f"/tracks/{a.id}/publish/").status_code == 405
    a.refresh_from_db()
    assert (a.title, a.position, a.hidden_at) == ("A", 0, None)
    assert fan_titles(artist) == ["A", "B", "C", "D"]


def test_track_changes_need_the_csrf_token(band):
    member, artist, (a, *_) = band
    client = logged_in(member, enforce_csrf_checks=True)
    assert client.post(f"/tracks/{a.id}/publish/", {"published": "0"}).status_code == 403
    assert client.post(f"/tracks/{a.id}/title/", {f"track-{a.id}-title": "X"}).status_code == 403
    token = str(client.get(f"/artists/{artist.slug}/tracks/").context["csrf_token"])
    response = client.post(
        f"/tracks/{a.id}/publish/", {"published": "0", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.hidden_at is not None


def test_a_new_track_goes_last(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from mvsic.services import track_create

    artist = make_artist("Growing")
    make_track(artist, "Zed")
    track = track_create(artist=artist, title="Alpha", audio=b"RIFF", duration=1.0)
    assert fan_titles(artist) == ["Zed", "Alpha"]
    assert track.position == 1


def test_an_upload_goes_last_and_tracks_not_ready_are_shown_as_such(band, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mvsic.uploads import track_upload

    settings.MEDIA_ROOT = tmp_path
    member, artist, (a, b, c, d) = band
    upload = SimpleUploadedFile("new.wav", b"RIFF....WAVE", content_type="audio/wav")
    new = track_upload(artist=artist, title="Fresh", upload=upload)
    assert new.position == 1 + max(t.position for t in (a, b, c, d))
    client = logged_in(member)
    page = client.get(f"/artists/{artist.slug}/tracks/").content.decode()
    assert "Processing: fans hear it once it is processed" in page
    assert f'action="/tracks/{new.id}/publish/"' not in page
    # D is already the last track fans see: it stays, the unready track does not count.
    client.post(f"/tracks/{d.id}/order/", {"direction": "down"})
    assert [t.title for t in artist.tracks.order_by("position")] == ["A", "B", "C", "D", "Fresh"]
    client.post(f"/tracks/{new.id}/order/", {"direction": "up"})  # among unready ones: stays
    assert fan_titles(artist) == ["A", "B", "C", "D"]
