"""Fan pages: browse artists and tracks, listen, like. No login needed."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from mvsic import selectors
from mvsic.models import Artist, Track


def home(request):
    return render(
        request,
        "mvsic/home.html",
        {"artists": selectors.artist_list(), "trending": selectors.tracks_trending_list()},
    )


def artist_detail(request, slug: str):
    artist = get_object_or_404(Artist, slug=slug)
    return render(
        request,
        "mvsic/artist_detail.html",
        {"artist": artist, "tracks": selectors.artist_tracks_list(artist=artist)},
    )


def track_detail(request, track_id: int):
    track = get_object_or_404(Track.objects.select_related("artist", "stats"), pk=track_id)
    return render(request, "mvsic/track_detail.html", {"track": track})


def track_audio(request, track_id: int):
    track = get_object_or_404(Track, pk=track_id)
    try:
        handle = track.audio.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("Audio file is missing") from exc
    response = FileResponse(handle, content_type="audio/wav")
    response["Accept-Ranges"] = "none"
    response["Cache-Control"] = "public, max-age=3600"
    return response
