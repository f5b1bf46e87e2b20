"""An artist's settings page for its members: the time zone its figures are kept in."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from mvsic.models import Artist, zone_names
from mvsic.services import artist_timezone_set


class ZoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Your dashboard's hours, days and months follow it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(n for n in zone_names() if "/" in n and not n.startswith("Etc/"))
        self.fields["timezone"].choices = [(n, n) for n in ["UTC", *names]]


@login_required
def artist_settings(request, slug: str):
    artist = get_object_or_404(Artist, slug=slug)
    user = request.user
    if not (user.has_perm("mvsic.view_all_artists") or artist.members.filter(pk=user.pk).exists()):
        raise PermissionDenied("You are not a member of this artist.")
    form = ZoneForm(request.POST or None, initial={"timezone": artist.timezone})
    if request.method == "POST" and form.is_valid():
        if artist_timezone_set(artist=artist, zone=form.cleaned_data["timezone"]):
            messages.success(
                request,
                f"Time zone set to {artist.timezone}: your figures move to it in a moment.",
            )
        return redirect("artist_settings", slug=artist.slug)
    status = 400 if form.errors else 200
    return render(
        request, "mvsic/artist_settings.html", {"artist": artist, "form": form}, status=status
    )
