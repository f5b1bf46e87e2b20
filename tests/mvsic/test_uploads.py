"""Uploaded tracks: stored, processed into what fans play, refused with a reason
(mvsic/uploads.py), and processed by the real task on a real worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mvsic.models import Track, TrackProcessing
from mvsic.uploads import (
    INTERNAL_FAILURE,
    track_process,
    track_process_retry,
    track_remove,
    track_upload,
)
from tests.conftest import make_artist, make_track, wait_for
from tests.mvsic import audio_files
from tests.mvsic.test_audio import REASONS, bad_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def uploaded(path, name=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def test_an_upload_is_hidden_from_fans_until_processed_then_plays_as_mp3(
    tmp_path, django_capture_on_commit_callbacks
):
    artist = make_artist()
    source = audio_files.tone(tmp_path / "song.flac", seconds=4)
    with django_capture_on_commit_callbacks() as queued:
        track = track_upload(artist=artist, title="Song", upload=uploaded(source))
    assert len(queued) == 1  # the processing task, sent once the track is committed
    assert track.status == "processing" and track.original.name.endswith(".flac")
    assert not Track.objects.visible().filter(pk=track.pk).exists()

    assert track_process(track_id=track.id) == "ready"
    track.refresh_from_db()
    assert Track.objects.visible().filter(pk=track.pk).exists()
    assert track.audio.name.endswith(".mp3") and track.audio.size > 0
    assert track.duration == pytest.approx(4.0)
    assert track.loudness == pytest.approx(-11.2, abs=0.6)
    assert len(track.peaks) > 100
    assert track.original.storage.exists(track.original.name)  # kept as it came
    run = TrackProcessing.objects.get(track=track)
    assert (run.outcome, run.probe["codec"]) == ("ready", "flac")
    assert run.finished_at is not None


def test_a_redelivered_task_does_nothing_twice(tmp_path):
    track = track_upload(
        artist=make_artist(),
        title="Twice",
        upload=uploaded(audio_files.tone(tmp_path / "a.wav", fmt="wav", codec="pcm_s16le")),
    )
    assert track_process(track_id=track.id) == "ready"
    assert track_process(track_id=track.id) == "ready"
    assert TrackProcessing.objects.filter(track=track).count() == 1
    assert track_process(track_id=999_999) == "gone"


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_a_bad_upload_fails_with_its_reason_and_never_reaches_fans(tmp_path, kind):
    track = track_upload(
        artist=make_artist(), title=kind, upload=uploaded(bad_file(kind, tmp_path))
    )
    assert track_process(track_id=track.id) == "failed"
    track.refresh_from_db()
    assert track.status == "failed"
    assert REASONS[kind] in track.failure
    assert not Track.objects.visible().filter(pk=track.pk).exists()
    run = TrackProcessing.objects.get(track=track)
    assert run.outcome == "failed" and REASONS[kind] in run.error


def test_an_unexpected_error_fails_the_track_with_a_retry_hint_and_the_traceback_in_admin(
    tmp_path, monkeypatch
):
    from mvsic import uploads

    def broken(**kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(uploads, "audio_process", broken)
    track = track_upload(
        artist=make_artist(), title="Boom", upload=uploaded(audio_files.tone(tmp_path / "a.flac"))
    )
    assert track_process(track_id=track.id) == "failed"
    track.refresh_from_db()
    assert track.failure == INTERNAL_FAILURE
    assert "decoder exploded" in TrackProcessing.objects.get(track=track).error

    monkeypatch.undo()
    assert track_process_retry(track=track)
    assert track_process(track_id=track.id) == "ready"


def test_a_file_that_keeps_stopping_workers_is_given_up_on(tmp_path):
    track = track_upload(
        artist=make_artist(), title="Crash", upload=uploaded(audio_files.tone(tmp_path / "a.flac"))
    )
    # Two runs that never finished: their workers died in them.
    TrackProcessing.objects.create(track=track)
    TrackProcessing.objects.create(track=track)
    assert track_process(track_id=track.id) == "failed"
    track.refresh_from_db()
    assert "failed repeatedly" in track.failure
    assert not TrackProcessing.objects.filter(track=track, outcome="running").exists()


def test_deleting_a_failed_upload_removes_it_and_a_ready_track_is_hidden(tmp_path):
    artist = make_artist()
    failed = track_upload(artist=artist, title="Bad", upload=uploaded(bad_file("text", tmp_path)))
    track_process(track_id=failed.id)
    failed.refresh_from_db()
    original = failed.original.name
    track_remove(track=failed)
    assert not Track.objects.filter(pk=failed.pk).exists()
    ready = make_track(artist)
    track_remove(track=ready)
    ready.refresh_from_db()
    assert ready.hidden_at is not None
    assert original  # removed from storage once the deletion commits


def test_existing_tracks_are_ready():
    assert make_track().status == "ready"


@pytest.mark.integration
def test_the_real_task_processes_an_upload_on_a_real_worker(
    tmp_path, settings, broker_queues, transactional_db
):
    from tests.conftest import worker_running

    settings.MEDIA_ROOT = tmp_path / "media"
    artist = make_artist()
    good = track_upload(
        artist=artist, title="Good", upload=uploaded(audio_files.tone(tmp_path / "good.flac"))
    )
    bad = track_upload(artist=artist, title="Bad", upload=uploaded(bad_file("image", tmp_path)))
    with worker_running(tmp_path / "worker.log", MVSIC_MEDIA_ROOT=settings.MEDIA_ROOT):
        from celery import current_app

        # Queued before the worker started (track_upload sends after commit; send again
        # in case the commit hook ran before the queues were purged).
        for track in (good, bad):
            current_app.send_task("mvsic.track_process", kwargs={"track_id": track.id})
        wait_for(
            lambda: (
                set(Track.objects.filter(pk__in=[good.pk, bad.pk]).values_list("status", flat=True))
                == {"ready", "failed"}
            ),
            timeout=60,
        )
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == "ready" and good.audio.name.endswith(".mp3")
    assert bad.status == "failed" and "holds no audio" in bad.failure
