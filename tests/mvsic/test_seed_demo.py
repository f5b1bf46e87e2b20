"""`manage.py seed_demo`: an idempotent demo catalog with logins and real, playable audio."""

import io
import json
import wave

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mvsic import demo
from mvsic.models import Artist, Track

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def seed_json() -> dict:
    out, _ = seed("--json")
    return json.loads(out)  # stdout holds the JSON document and nothing else


def test_json_lists_artists_logins_and_tracks_in_the_documented_shape():
    body = seed_json()

    assert list(body) == ["artists"]
    assert len(body["artists"]) >= 3
    for artist in body["artists"]:
        assert set(artist) == {"slug", "username", "password", "tracks"}
        assert len(artist["tracks"]) >= 3
        for track in artist["tracks"]:
            assert set(track) == {"id", "title", "duration"}
        durations = [t["duration"] for t in artist["tracks"]]
        # Every artist has a track longer than the default 30 s threshold.
        assert max(durations) > 30
        assert all(20 <= d <= 45 for d in durations)
    all_durations = [t["duration"] for a in body["artists"] for t in a["tracks"]]
    assert min(all_durations) < 30  # some tracks count as played only when heard in full


def test_demo_artists_have_tags_and_share_one(client):
    seed()
    page = client.get("/tags/electronic/")
    names = [a.name for a in page.context["artists"].object_list]
    assert names == ["Aurora Lanes", "Mira Vale"]
    assert sorted(Artist.objects.get(slug="copper-foxes").tags.values_list("slug", flat=True)) == [
        "jazz",
        "minimal",
    ]


def test_a_second_run_creates_nothing_and_keeps_every_id():
    first = seed_json()
    counts = (Artist.objects.count(), Track.objects.count(), get_user_model().objects.count())
    files = sorted(Track.objects.values_list("audio", flat=True))

    second = seed_json()

    assert second == first
    assert (
        Artist.objects.count(),
        Track.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert sorted(Track.objects.values_list("audio", flat=True)) == files


def test_audio_files_are_16khz_mono_16bit_wav_of_the_stated_duration(media_root):
    body = seed_json()

    for artist in body["artists"]:
        for row in artist["tracks"]:
            track = Track.objects.get(pk=row["id"])
            # Processed like an upload: the WAV is its original, fans get an MP3.
            assert (track.status, track.audio.name[-4:]) == ("ready", ".mp3")
            assert len(track.peaks) > 100 and -30 < track.loudness < -5
            assert track.original.path.startswith(str(media_root))
            with wave.open(track.original.path, "rb") as wav:
                assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (
                    1,
                    2,
                    16_000,
                )
                assert wav.getnframes() / wav.getframerate() == pytest.approx(row["duration"])
                frames = wav.readframes(wav.getnframes())
            # Not silence: a tune at a sensible level.
            samples = memoryview(frames).cast("h")
            assert max(abs(s) for s in samples[::97]) > 10_000


def test_a_missing_audio_file_is_synthesised_again_for_the_same_track():
    body = seed_json()
    track = Track.objects.get(pk=body["artists"][0]["tracks"][0]["id"])
    original = track.audio.read()
    track.audio.close()
    track.audio.storage.delete(track.audio.name)

    again = seed_json()

    assert again == body
    track.refresh_from_db()
    assert track.audio.storage.exists(track.audio.name)
    with track.audio.open("rb") as handle:
        assert handle.read() == original  # the same seed gives the same tune


def test_every_printed_login_works(client):
    body = seed_json()

    for artist in body["artists"]:
        assert client.login(username=artist["username"], password=artist["password"])
        response = client.get(f"/dashboard/{artist['slug']}/")
        assert response.status_code == 200
        client.logout()
    admin = get_user_model().objects.get(username=demo.DEMO_ADMIN_USERNAME)
    assert admin.is_superuser and admin.is_staff
    assert client.login(username="admin", password=demo.DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_readable_output_names_every_login_and_says_they_are_demo_only():
    out, _ = seed()

    assert "demo" in out.lower()
    assert "admin" in out
    for artist in Artist.objects.all():
        assert artist.slug in out
    again, _ = seed()
    assert "Nothing new" in again


def test_json_mode_tells_the_admin_login_on_stderr_only():
    out, err = seed("--json")

    assert "admin" not in json.loads(out)
    assert "admin" in err


def test_it_refuses_to_run_outside_debug_without_force(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DJANGO_DEBUG=true, or with --force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not get_user_model().objects.exists()
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert get_user_model().objects.filter(username=demo.DEMO_ADMIN_USERNAME).exists()


def test_existing_users_are_never_changed():
    User = get_user_model()
    admin = User.objects.create_user(username="admin", password="a-real-secret-9")
    artist_login = User.objects.create_user(username="aurora-lanes", password="another-1")
    hashes = {u.username: u.password for u in (admin, artist_login)}

    out, _ = seed()

    for user in User.objects.filter(username__in=hashes):
        assert user.password == hashes[user.username]
        assert not user.is_staff and not user.is_superuser
    assert not Artist.objects.get(slug="aurora-lanes").members.filter(pk=artist_login.pk).exists()
    assert "(existing user, password unchanged)" in out
    body = json.loads(seed("--json")[0])
    aurora = next(a for a in body["artists"] if a["slug"] == "aurora-lanes")
    assert aurora["password"] is None
