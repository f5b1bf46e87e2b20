"""The artist dashboard: server-rendered, refreshed in place from the stats API."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from analytics import selectors
from mvsic.models import Artist


@login_required
def dashboard(request):
    artists = list(selectors.artist_list_for_user(user=request.user))
    if len(artists) == 1:
        return redirect("analytics:artist_dashboard", slug=artists[0].slug)
    return render(request, "analytics/dashboard_index.html", {"artists": artists})


@login_required
def artist_dashboard(request, slug: str):
    artist = get_object_or_404(Artist, slug=slug)
    if not selectors.artist_visible(user=request.user, artist=artist):
        raise PermissionDenied("You are not a member of this artist.")
    return render(
        request,
        "analytics/dashboard.html",
        {
            "artist": artist,
            "stats": selectors.artist_stats_get(artist=artist),
            "artists": selectors.artist_list_for_user(user=request.user),
            "refresh_ms": int(settings.MVSIC_DASHBOARD_REFRESH_SECONDS * 1000),
        },
    )
