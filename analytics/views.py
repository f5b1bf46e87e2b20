"""The artist dashboard: server-rendered, refreshed in place from the stats API."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from analytics import selectors
from analytics.periods import COMPARES, PERIODS, PeriodError
from mvsic.models import Artist


@login_required
def dashboard(request):
    artists = list(selectors.artist_list_for_user(user=request.user))
    if len(artists) == 1:
        return redirect("analytics:artist_dashboard", slug=artists[0].slug)
    if not artists and not request.user.is_staff:
        return redirect("analytics:fan")  # a fan's account: their own page
    return render(request, "analytics/dashboard_index.html", {"artists": artists})


def _artist_for(request, slug: str) -> Artist:
    artist = get_object_or_404(Artist, slug=slug)
    if not selectors.artist_visible(user=request.user, artist=artist):
        raise PermissionDenied("You are not a member of this artist.")
    return artist


PERIOD_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "28d": "Last 28 days",
    "12m": "Last 12 months",
    "all": "All time",
    "custom": "Custom dates",
}
BREAKDOWNS = (
    ("sources", "Sources"),
    ("countries", "Countries"),
    ("devices", "Devices"),
    ("browsers", "Browsers"),
    ("os", "Operating systems"),
)


def _period_params(query) -> dict:
    """The picker's non-empty values; the dates only count for a custom period (so a form
    sent without script, with dates left in, still means what its period says)."""
    params = {key: query.get(key, "").strip() for key in ("period", "from", "to", "compare")}
    if params["period"] != "custom":
        params["from"] = params["to"] = ""
    return {key: value for key, value in params.items() if value}


@login_required
def artist_dashboard(request, slug: str):
    artist = _artist_for(request, slug)
    params, error = _period_params(request.GET), None
    try:
        stats = selectors.artist_stats_get(artist=artist, params=params)
    except PeriodError as exc:
        params, error = {}, exc
        stats = selectors.artist_stats_get(artist=artist, params=params)
    for row in stats["tracks"]:
        row["filtered_total"] = sum(row["filtered"].values())
    query = urlencode(params)
    stats_url = reverse("api:artist_stats", args=[artist.slug])
    events_params = {k: v for k, v in params.items() if k != "compare"}
    return render(
        request,
        "analytics/dashboard.html",
        {
            "artist": artist,
            "stats": stats,
            "filtered_total": sum(stats["filtered"].values())
            + sum(stats["filtered_follows"].values()),
            "artists": selectors.artist_list_for_user(user=request.user),
            "refresh_ms": int(settings.MVSIC_DASHBOARD_REFRESH_SECONDS * 1000),
            "error": error,
            "query": query,
            "csv_base": f"{stats_url}?{query + '&' if query else ''}format=csv&table=",
            "events_url": f"{reverse('api:artist_events', args=[artist.slug])}?"
            + urlencode(events_params),
            "period_label": PERIOD_LABELS.get(stats["period"]["name"], ""),
            "compare": params.get("compare", "previous"),
            "periods": [(name, PERIOD_LABELS[name]) for name in PERIODS],
            "compares": COMPARES,
            "breakdowns": [
                (name, label, stats["breakdowns"].get(name, [])) for name, label in BREAKDOWNS
            ],
        },
        status=400 if error else 200,
    )


@login_required
def artist_filtered(request, slug: str):
    """What was not credited to the artist's tracks and follows, by reason, and what each
    reason means."""
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
                "follows": settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR,
            },
        },
    )
