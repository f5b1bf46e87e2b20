"""Fan pages: browse artists and tracks, listen, like. No login needed."""

import mimetypes
import os
import re

from django import forms
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from mvsic import search as catalog_search
from mvsic import selectors
from mvsic.members import artist_is_managed_by
from mvsic.models import Artist, Track

# The home page's list of new artists is rendered once per this many seconds (and process):
# its cards, tags and pictures are most of the page's work.
NEW_ARTISTS_CACHE_SECONDS = 30


def home(request):
    return render(
        request,
        "mvsic/home.html",
        {
            # A callable: the template reads it only when its cached part has expired.
            "artists": selectors.artists_new_list,
            "artists_cache_seconds": NEW_ARTISTS_CACHE_SECONDS,
            "trending": selectors.tracks_trending_list(),
        },
    )


def artist_index(request):
    return render(
        request,
        "mvsic/artist_index.html",
        {"artists": selectors.artists_page_get(number=request.GET.get("page"))},
    )


def artist_detail(request, slug: str):
    artist = get_object_or_404(Artist.objects.select_related("stats"), slug=slug)
    return render(
        request,
        "mvsic/artist_detail.html",
        {
            "artist": artist,
            "followed": selectors.artist_followed_get(artist=artist, listener=request.listener_id),
            "tags": artist.tags.all(),
            "tracks": selectors.artist_tracks_page_get(
                artist=artist, number=request.GET.get("page")
            ),
            "can_manage": artist_is_managed_by(artist=artist, user=request.user),
        },
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=catalog_search.MAX_QUERY_LENGTH,
        error_messages={
            "max_length": "That is a long search: try a few words "
            f"(at most {catalog_search.MAX_QUERY_LENGTH} characters)."
        },
    )


def search(request):
    """Artists and tracks matching `q`, each list a page at a time (`artists_page`,
    `tracks_page`); an empty query asks for one, a bad one says why (400)."""
    form = SearchForm(request.GET)
    context = {
        "form": form,
        "q": "",
        "artists": None,
        "tracks": None,
        "full_text": catalog_search.full_text(),
    }
    if not form.is_valid():
        return render(request, "mvsic/search.html", context, status=400)
    query = form.cleaned_data["q"]
    if query:
        context.update(
            q=query,
            artists=catalog_search.artists_search_page_get(
                query=query, number=request.GET.get("artists_page")
            ),
            tracks=catalog_search.tracks_search_page_get(
                query=query, number=request.GET.get("tracks_page")
            ),
        )
    return render(request, "mvsic/search.html", context)


def tag_detail(request, slug: str):
    tag = selectors.tag_get(slug=slug)
    if tag is None:
        raise Http404("No such tag")
    artists = selectors.tag_artists_page_get(tag=tag, number=request.GET.get("page"))
    return render(request, "mvsic/tag_detail.html", {"tag": tag, "artists": artists})


def artist_picture(request, slug: str):
    """The artist's picture (a WebP made on upload); its URL carries a version, so it is
    cached for long."""
    artist = get_object_or_404(Artist, slug=slug)
    if not artist.picture:
        raise Http404("No picture")
    try:
        handle = artist.picture.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("Picture file is missing") from exc
    response = FileResponse(handle, content_type="image/webp")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def track_detail(request, track_id: int):
    track = get_object_or_404(
        Track.objects.visible().select_related("artist", "stats"), pk=track_id
    )
    return render(request, "mvsic/track_detail.html", {"track": track})


def track_audio(request, track_id: int):
    """The track's playable audio (MP3; WAV for older tracks); honours a single
    `Range: bytes=` so players can seek (206)."""
    track = get_object_or_404(Track.objects.visible(), pk=track_id)
    try:
        handle = track.audio.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("Audio file is missing") from exc
    size = handle.size
    content_type = _content_type(track.audio.name)
    try:
        byte_range = _byte_range_parse(request.headers.get("Range"), size=size)
    except ValueError:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        response = FileResponse(handle, content_type=content_type)
    else:
        first, last = byte_range
        handle.seek(first)
        response = FileResponse(
            _FileSlice(handle, last - first + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "public, max-age=3600"
    return response


_CONTENT_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4"}


def _content_type(name: str) -> str:
    extension = os.path.splitext(name)[1].lower()
    return _CONTENT_TYPES.get(extension) or mimetypes.guess_type(name)[0] or "audio/mpeg"


_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _byte_range_parse(header: str | None, *, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single range, or None to send the whole file (RFC 9110 allows
    ignoring a Range header, which is what we do for multiple or malformed ranges).

    Raises ValueError when the range starts beyond the end of the file (416).
    """
    match = _BYTE_RANGE.fullmatch((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    start, end = match.groups()
    if not start:  # a suffix: the last `end` bytes
        if int(end) == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(size - int(end), 0), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if end and int(end) < first:
        return None
    if first >= size:
        raise ValueError("range starts after the end of the file")
    return first, last


class _FileSlice:
    """Reads at most `length` bytes of an open file (FileResponse streams and closes it)."""

    def __init__(self, handle, length: int):
        self.handle = handle
        self.left = length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()
