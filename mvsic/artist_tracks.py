"""An artist's own tracks for its members: upload, see processing live, retry, delete.

An upload streams to a temporary file on disk (never into memory) and is refused before its
body is read when it declares more than MVSIC_UPLOAD_MAX_BYTES, or as soon as it passes that.
"""

import os

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from mvsic import uploads
from mvsic.audio import ACCEPTED
from mvsic.models import Artist, Track

# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class UploadForm(forms.Form):
    title = forms.CharField(max_length=200)
    audio = forms.FileField(label="Audio file", help_text=f"{ACCEPTED}")

    def __init__(self, *args, artist: Artist, **kwargs):
        super().__init__(*args, **kwargs)
        self.artist = artist
        limit = filesizeformat(settings.MVSIC_UPLOAD_MAX_BYTES)
        self.fields["audio"].help_text = f"{ACCEPTED}, up to {limit}."
        self.fields["audio"].widget.attrs["accept"] = ",".join(uploads.EXTENSIONS) + ",audio/*"

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if self.artist.tracks.filter(title__iexact=title).exists():
            raise forms.ValidationError(f"You already have a track called “{title}”.")
        return title

    def clean_audio(self):
        audio = self.cleaned_data["audio"]
        extension = os.path.splitext(audio.name)[1].lower()
        if extension not in uploads.EXTENSIONS:
            raise forms.ValidationError(f"“{audio.name}” is not an audio file. Upload {ACCEPTED}.")
        if audio.size == 0:
            raise forms.ValidationError("The file is empty (0 bytes).")
        return audio


class UploadLimitHandler(FileUploadHandler):
    """Stops reading the request as soon as a file passes the limit (a body sent without a
    Content-Length, or one that lies)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _member_artist(request, slug: str) -> Artist:
    artist = get_object_or_404(Artist, slug=slug)
    user = request.user
    if not (user.has_perm("mvsic.view_all_artists") or artist.members.filter(pk=user.pk).exists()):
        raise PermissionDenied("You are not a member of this artist.")
    return artist


def _too_large(request, artist: Artist):
    limit = filesizeformat(settings.MVSIC_UPLOAD_MAX_BYTES)
    message = f"The file is larger than {limit}, the largest upload we take."
    return _answer_error(request, artist, UploadForm(artist=artist), message, status=413)


def _answer_error(request, artist, form, message: str, *, status: int):
    if _wants_json(request):
        return JsonResponse({"error": message, "fields": form.errors}, status=status)
    context = {"artist": artist, "form": form, "error": message}
    return render(request, "mvsic/track_upload.html", context, status=status)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@csrf_exempt  # checked by _track_upload, once the upload handlers are in place
@login_required
def track_upload(request, slug: str):
    """POST title + audio: 202 (JSON) or a redirect to the dashboard; the track processes
    in the background."""
    artist = _member_artist(request, slug)
    if request.method != "POST":
        context = {"artist": artist, "form": UploadForm(artist=artist)}
        return render(request, "mvsic/track_upload.html", context)
    limit = settings.MVSIC_UPLOAD_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + FORM_OVERHEAD_BYTES:
        return _too_large(request, artist)
    request.upload_handlers = [
        UploadLimitHandler(request, limit),
        TemporaryFileUploadHandler(request),
    ]
    return _track_upload(request, artist)


@csrf_protect
def _track_upload(request, artist: Artist):
    form = UploadForm(request.POST, request.FILES, artist=artist)
    if getattr(request, "upload_too_large", False):
        return _too_large(request, artist)
    if not form.is_valid():
        return _answer_error(request, artist, form, "The track was not uploaded.", status=400)
    track = uploads.track_upload(
        artist=artist, title=form.cleaned_data["title"], upload=form.cleaned_data["audio"]
    )
    if _wants_json(request):
        panel = reverse("artist_tracks", args=[artist.slug])
        return JsonResponse({"id": track.id, "status": track.status, "tracks": panel}, status=202)
    messages.success(request, f"“{track.title}” uploaded: it is being processed.")
    return redirect("analytics:artist_dashboard", slug=artist.slug)


@login_required
def artist_tracks(request, slug: str):
    """The uploads panel alone (the dashboard refreshes it in place while tracks process)."""
    artist = _member_artist(request, slug)
    return render(request, "mvsic/_uploads_panel.html", uploads.tracks_panel_context(artist=artist))


@require_POST
@login_required
def track_retry(request, slug: str, track_id: int):
    artist = _member_artist(request, slug)
    track = get_object_or_404(Track, pk=track_id, artist=artist)
    if uploads.track_process_retry(track=track):
        messages.success(request, f"“{track.title}” is being processed again.")
    return redirect("analytics:artist_dashboard", slug=artist.slug)


@require_POST
@login_required
def track_delete(request, slug: str, track_id: int):
    artist = _member_artist(request, slug)
    track = get_object_or_404(Track, pk=track_id, artist=artist, hidden_at__isnull=True)
    uploads.track_remove(track=track)
    messages.success(request, f"“{track.title}” deleted.")
    return redirect("analytics:artist_dashboard", slug=artist.slug)
