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


def _artist_for(request, slug: str) -> Artist:
    artist = get_object_or_404(Artist, slug=slug)
    if not selectors.artist_visible(user=request.user, artist=artist):
        raise PermissionDenied("You are not a member of this artist.")
    return artist


@login_required
def artist_dashboard(request, slug: str):
    artist = _artist_for(request, slug)
    stats = selectors.artist_stats_get(artist=artist)
    for row in stats["tracks"]:
        row["filtered_total"] = sum(row["filtered"].values())
    return render(
        request,
        "analytics/dashboard.html",
        {
            "artist": artist,
            "stats": stats,
            "filtered_total": sum(stats["filtered"].values()),
            "artists": selectors.artist_list_for_user(user=request.user),
            "refresh_ms": int(settings.MVSIC_DASHBOARD_REFRESH_SECONDS * 1000),
        },
    )


@login_required
def artist_filtered(request, slug: str):
    """What was not credited to the artist's tracks, by reason, and what each reason means."""
    artist = _artist_for(request, slug)
    return render(
        request,
        "analytics/filtered.html",
        {
            "artist": artist,
            **selectors.artist_filtered_get(artist=artist),
            "settings": {
                "threshold": settings.MVSIC_PLAY_THRESHOLD_SECONDS,
                "slack": settings.MVSIC_PLAY_SLACK_SECONDS,
                "factor": settings.MVSIC_LISTENING_FACTOR,
                "listeners": settings.MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR,
                "likes": settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR,
            },
        },
    )
