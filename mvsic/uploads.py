"""Artists' own tracks: an upload is stored as it came, processed in the background
(mvsic.track_process) into the file fans play, and shown to fans only once it is ready."""

import logging
import os
import tempfile
import traceback
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from mvsic.audio import OUTPUT_EXTENSION, AudioRejected, audio_process
from mvsic.background import task_send, task_send_on_commit
from mvsic.models import Artist, Track, TrackProcessing
from mvsic.selectors import track_position_next

log = logging.getLogger(__name__)

EXTENSIONS = (".wav", ".flac", ".mp3", ".aac", ".m4a", ".mp4", ".ogg", ".oga", ".opus")
# Runs started without an end (the worker died in them) before a track is given up on.
MAX_UNFINISHED_RUNS = 2
INTERNAL_FAILURE = (
    "Something went wrong on our side while processing this file. Try again; if it fails "
    "again, export the file once more (WAV or FLAC is safest) and upload it."
)


def track_upload(*, artist: Artist, title: str, upload) -> Track:
    """Create a track from an uploaded file (on disk: moved, never read into memory) and
    queue its processing once the transaction commits."""
    position = track_position_next(artist=artist)  # last on the artist's page
    track = Track(artist=artist, title=title, status=Track.Status.PROCESSING, position=position)
    extension = os.path.splitext(upload.name)[1].lower()
    track.original.save(_file_name(track, extension), upload, save=False)
    track.save()
    _process_queue(track)
    return track


def track_stored_process(*, track: Track) -> Track:
    """Process, here and now, a track whose audio was stored directly (the demo's synthesised
    WAVs): that file becomes its original, and it gets its MP3, loudness and waveform the
    way an upload does."""
    track.original, track.status, track.failure = track.audio.name, Track.Status.PROCESSING, ""
    track.save(update_fields=["original", "status", "failure"])
    track_process(track_id=track.pk)
    track.refresh_from_db()
    return track


def track_process_retry(*, track: Track) -> bool:
    """Process a failed track again (a worker may have been lost, or a fix deployed)."""
    if track.status != Track.Status.FAILED or not track.original:
        return False
    track.status, track.failure = Track.Status.PROCESSING, ""
    track.save(update_fields=["status", "failure"])
    track.processings.filter(outcome=TrackProcessing.Outcome.RUNNING).update(
        outcome=TrackProcessing.Outcome.FAILED, finished_at=timezone.now(), error="Abandoned"
    )
    _process_queue(track)
    return True


def track_remove(*, track: Track) -> None:
    """An artist deletes a track: one fans never saw goes with its files; one that was
    played is hidden, its history kept (as the admin's delete does)."""
    if track.status == Track.Status.READY:
        track.hidden_at = track.hidden_at or timezone.now()
        track.save(update_fields=["hidden_at"])
        return
    files = [f for f in (track.original, track.audio) if f]
    track.delete()
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])


def track_process(*, track_id: int) -> str:
    """Process an uploaded track: check it, make the MP3 fans play, measure its duration,
    loudness and waveform. A file that cannot be a track fails with a reason for the artist;
    nothing here raises for a bad file. Returns the track's status."""
    with transaction.atomic():
        track = Track.objects.select_for_update().filter(pk=track_id).first()
        if track is None or track.status != Track.Status.PROCESSING:
            return track.status if track else "gone"  # a redelivery, or deleted meanwhile
        unfinished = track.processings.filter(outcome=TrackProcessing.Outcome.RUNNING).count()
        if unfinished >= MAX_UNFINISHED_RUNS:
            # Processing this file stopped its worker (crash or time limit) more than once.
            reason = "Processing this file took too long or failed repeatedly. " + INTERNAL_FAILURE
            _fail(track, None, reason=reason, error="Worker lost during earlier runs")
            return track.status
        run = TrackProcessing.objects.create(track=track)
    with tempfile.TemporaryDirectory(prefix="mvsic-track-") as work:
        target = os.path.join(work, "out" + OUTPUT_EXTENSION)
        try:
            with track.original.open("rb") as original:
                source = _local_path(original, work)
                result = audio_process(
                    source=source, target=target, max_seconds=settings.MVSIC_TRACK_MAX_SECONDS
                )
        except AudioRejected as exc:
            _fail(track, run, reason=str(exc), error=str(exc))
            return track.status
        except Exception:
            log.exception("processing track %s failed", track_id)
            _fail(track, run, reason=INTERNAL_FAILURE, error=traceback.format_exc())
            return track.status
        with transaction.atomic():
            track.refresh_from_db()
            if track.status != Track.Status.PROCESSING:
                return track.status
            old = track.audio.name if track.audio else None
            with open(target, "rb") as handle:
                track.audio.save(_file_name(track, OUTPUT_EXTENSION), File(handle), save=False)
            track.duration = round(result.duration, 3)
            track.loudness, track.peaks = result.loudness, result.peaks
            track.status, track.failure = Track.Status.READY, ""
            track.save()
            run.outcome, run.finished_at, run.probe = "ready", timezone.now(), result.probe
            run.save(update_fields=["outcome", "finished_at", "probe"])
            if old and old not in (track.audio.name, track.original.name):
                storage = track.audio.storage
                transaction.on_commit(lambda: storage.delete(old))
    return track.status


def tracks_stalled_requeue(*, older_than: timedelta) -> int:
    """Send processing again for uploads waiting longer than `older_than` with no run going
    (their task never reached the broker, or was lost). A second message for a track still
    queued is harmless: the first run to start ends its processing, the other finds it done."""
    since = timezone.now() - older_than
    stalled = (
        Track.objects.filter(status=Track.Status.PROCESSING, created_at__lt=since)
        .exclude(processings__outcome=TrackProcessing.Outcome.RUNNING)
        .exclude(processings__started_at__gte=since)
        .values_list("pk", flat=True)
    )
    return sum(task_send("mvsic.track_process", kwargs={"track_id": pk}) for pk in stalled)


def tracks_in_work_list(*, artist: Artist) -> QuerySet[Track]:
    """The artist's tracks that are not deleted, newest first, whatever their status."""
    return artist.tracks.filter(hidden_at__isnull=True).order_by("-created_at")


def tracks_panel_context(*, artist: Artist) -> dict:
    """What the uploads panel shows: the tracks, and whether any is still processing."""
    tracks = list(tracks_in_work_list(artist=artist))
    processing = any(t.status == Track.Status.PROCESSING for t in tracks)
    return {"artist": artist, "tracks": tracks, "processing": processing}


def _fail(track: Track, run: TrackProcessing | None, *, reason: str, error: str) -> None:
    Track.objects.filter(pk=track.pk, status=Track.Status.PROCESSING).update(
        status=Track.Status.FAILED, failure=reason
    )
    track.status, track.failure = Track.Status.FAILED, reason
    if run is not None:
        run.outcome, run.finished_at, run.error = "failed", timezone.now(), error
        run.save(update_fields=["outcome", "finished_at", "error"])
    track.processings.filter(outcome=TrackProcessing.Outcome.RUNNING).update(
        outcome=TrackProcessing.Outcome.FAILED, finished_at=timezone.now(), error=error
    )


def _local_path(handle, work: str) -> str:
    """A path FFmpeg can open: the stored file itself, or a copy for a remote storage."""
    try:
        return handle.file.name if os.path.exists(handle.file.name) else _copy(handle, work)
    except AttributeError:
        return _copy(handle, work)


def _copy(handle, work: str) -> str:
    path = os.path.join(work, "source")
    with open(path, "wb") as out:
        for chunk in handle.chunks():
            out.write(chunk)
    return path


def _file_name(track: Track, extension: str) -> str:
    return f"{track.artist.slug}-{slugify(track.title) or 'track'}{extension}"


def _process_queue(track: Track) -> None:
    task_send_on_commit("mvsic.track_process", kwargs={"track_id": track.pk})
