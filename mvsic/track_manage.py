"""An artist's members manage its tracks: titles, order on the artist page, unpublishing.

Every change is a POST form (CSRF protected) that works without JavaScript and comes back to
the page it was made on.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mvsic import selectors
from mvsic.members import artist_is_managed_by, artist_member_get
from mvsic.models import Track
from mvsic.services import track_move, track_publish_set, track_title_set


class TitleForm(forms.Form):
    title = forms.CharField(max_length=Track._meta.get_field("title").max_length, strip=True)

    def __init__(self, *args, track: Track, **kwargs):
        kwargs.setdefault("prefix", f"track-{track.id}")
        kwargs.setdefault("initial", {"title": track.title})
        super().__init__(*args, **kwargs)
        self.track = track

    def clean_title(self) -> str:
        title = self.cleaned_data["title"]
        if selectors.track_title_taken(track=self.track, title=title):
            raise forms.ValidationError(
                f"{self.track.artist.name} already has a track called “{title}”."
            )
        return title


@login_required
def artist_tracks_manage(request, slug: str):
    artist = artist_member_get(user=request.user, slug=slug)
    return _page(request, artist)


@login_required
@require_POST
def track_title(request, track_id: int):
    track = _track_for_member(request, track_id)
    form = TitleForm(request.POST, track=track)
    if not form.is_valid():
        return _page(request, track.artist, invalid=form)
    track_title_set(track=track, title=form.cleaned_data["title"])
    messages.success(request, f"Renamed to “{track.title}”.")
    return _back(request, track)


@login_required
@require_POST
def track_order(request, track_id: int):
    track = _track_for_member(request, track_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return _page(request, track.artist, error="Move a track up or down.")
    track_move(track=track, offset=-1 if direction == "up" else 1)
    return _back(request, track)


@login_required
@require_POST
def track_publish(request, track_id: int):
    track = _track_for_member(request, track_id)
    published = request.POST.get("published")
    if published not in ("0", "1"):
        return _page(request, track.artist, error="Publish or unpublish a track.")
    track_publish_set(track=track, published=published == "1")
    if published == "1":
        messages.success(request, f"“{track.title}” is published again.")
    else:
        messages.success(request, f"“{track.title}” is hidden from fans; its figures are kept.")
    return _back(request, track)


def _track_for_member(request, track_id: int) -> Track:
    track = get_object_or_404(Track.objects.select_related("artist"), pk=track_id)
    if not artist_is_managed_by(artist=track.artist, user=request.user):
        raise PermissionDenied("You are not a member of this track's artist.")
    return track


def _back(request, track: Track):
    """To the page the form was on (the artist page or this one), never to another site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("artist_tracks_manage", slug=track.artist.slug)


def _page(request, artist, *, invalid: TitleForm | None = None, error: str = ""):
    tracks = selectors.artist_tracks_manage_list(artist=artist)
    rows = [
        (track, invalid if invalid and invalid.track.id == track.id else TitleForm(track=track))
        for track in tracks
    ]
    status = 400 if invalid or error else 200
    context = {"artist": artist, "rows": rows, "error": error}
    return render(request, "mvsic/artist_tracks_manage.html", context, status=status)
