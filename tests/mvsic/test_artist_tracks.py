"""An artist's tracks page: upload (authorised, CSRF, size limits), status, retry, delete."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mvsic.models import Track
from mvsic.uploads import track_process
from tests.conftest import make_artist, make_user
from tests.mvsic import audio_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def member_client(artist=None, **client_options):
    user = make_user()
    artist = artist or make_artist(members=[user])
    artist.members.add(user)
    client = Client(**client_options)
    client.force_login(user)
    return client, artist


def wav_upload(name="take.wav"):
    return SimpleUploadedFile(name, audio_files.wav_bytes(seconds=1.5), content_type="audio/wav")


def test_a_member_uploads_and_sees_it_processing_then_ready(django_capture_on_commit_callbacks):
    client, artist = member_client()
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"/artists/{artist.slug}/tracks/upload/", {"title": "Take One", "audio": wav_upload()}
        )
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/{artist.slug}/"
    assert len(queued) == 1
    track = Track.objects.get(artist=artist, title="Take One")
    panel = client.get(f"/artists/{artist.slug}/tracks/status/").content.decode()
    assert "Processing…" in panel and "data-processing" in panel
    track_process(track_id=track.id)
    panel = client.get(f"/artists/{artist.slug}/tracks/status/").content.decode()
    assert "Ready" in panel and "data-processing" not in panel


def test_json_clients_get_a_202_with_the_track():
    client, artist = member_client()
    response = client.post(
        f"/artists/{artist.slug}/tracks/upload/",
        {"title": "Api", "audio": wav_upload()},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 202
    assert response.json()["status"] == "processing"


def test_a_member_of_another_artist_cannot_upload_or_see_its_tracks():
    client, _ = member_client()
    other = make_artist()
    response = client.post(
        f"/artists/{other.slug}/tracks/upload/", {"title": "Intruder", "audio": wav_upload()}
    )
    assert response.status_code == 403
    assert client.get(f"/artists/{other.slug}/tracks/status/").status_code == 403
    assert not Track.objects.filter(artist=other).exists()


def test_logged_out_uploads_go_to_the_login_page():
    artist = make_artist()
    response = Client().post(f"/artists/{artist.slug}/tracks/upload/", {"title": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_upload_without_the_csrf_token_is_refused():
    client, artist = member_client(enforce_csrf_checks=True)
    response = client.post(
        f"/artists/{artist.slug}/tracks/upload/", {"title": "Forged", "audio": wav_upload()}
    )
    assert response.status_code == 403
    assert not Track.objects.exists()


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(settings):
    settings.MVSIC_UPLOAD_MAX_BYTES = 10_000
    client, artist = member_client()
    response = client.generic(
        "POST",
        f"/artists/{artist.slug}/tracks/upload/",
        data=b"",  # nothing is sent: the refusal comes from the declared length alone
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(100 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "larger than 9.8\xa0KB" in response.content.decode()


def test_a_file_passing_the_limit_is_stopped_while_it_streams(settings):
    settings.MVSIC_UPLOAD_MAX_BYTES = 10_000
    client, artist = member_client()
    big = SimpleUploadedFile("big.wav", audio_files.wav_bytes(seconds=2.0))  # 32 KB
    response = client.post(
        f"/artists/{artist.slug}/tracks/upload/",
        {"title": "Big", "audio": big},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert not Track.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "Notes", "audio": SimpleUploadedFile("notes.txt", b"la la")}, "not an audio"),
        ({"title": "Empty", "audio": SimpleUploadedFile("empty.wav", b"")}, "empty"),
        ({"title": "", "audio": None}, "required"),
    ],
)
def test_a_bad_form_answers_400_with_the_reason(data, message):
    client, artist = member_client()
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(f"/artists/{artist.slug}/tracks/upload/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_second_track_of_the_same_title_is_refused():
    client, artist = member_client()
    url = f"/artists/{artist.slug}/tracks/upload/"
    assert client.post(url, {"title": "Same", "audio": wav_upload()}).status_code == 302
    response = client.post(url, {"title": "same", "audio": wav_upload()})
    assert response.status_code == 400
    assert "already have a track called" in response.content.decode()


def test_a_failed_track_shows_its_reason_and_can_be_retried_or_deleted(
    django_capture_on_commit_callbacks,
):
    client, artist = member_client()
    text = SimpleUploadedFile("song.mp3", b"not audio at all " * 50)
    client.post(f"/artists/{artist.slug}/tracks/upload/", {"title": "Song", "audio": text})
    track = Track.objects.get(title="Song")
    track_process(track_id=track.id)
    panel = client.get(f"/artists/{artist.slug}/tracks/status/").content.decode()
    assert "Failed" in panel and "is not audio we can read" in panel
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"/artists/{artist.slug}/tracks/{track.id}/retry/")
    assert response.status_code == 302 and len(queued) == 1
    track.refresh_from_db()
    assert track.status == "processing"
    track_process(track_id=track.id)
    client.post(f"/artists/{artist.slug}/tracks/{track.id}/delete/")
    assert not Track.objects.filter(pk=track.pk).exists()


def test_retry_and_delete_need_a_member_and_a_post():
    client, artist = member_client()
    other_client, _ = member_client()
    track = Track.objects.create(artist=artist, title="T", status="failed", original="u/x.wav")
    assert client.get(f"/artists/{artist.slug}/tracks/{track.id}/retry/").status_code == 405
    assert other_client.post(f"/artists/{artist.slug}/tracks/{track.id}/delete/").status_code == 403
    assert Track.objects.filter(pk=track.pk).exists()
