"""GET /api/v1/artists/<slug>/stats/ and /api/v1/tracks/<id>/stats/ (JSON or CSV), and
/api/v1/artists/<slug>/events/ (CSV): for an artist's members and staff, by session or
token."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors, serializers
from analytics.api.csv_export import CSVRenderer, wants_csv
from analytics.api.stats_csv import TABLES, events_csv, stats_csv
from analytics.period_figures import period_get
from analytics.periods import COMPARES, PERIODS, PeriodError
from mvsic.models import Artist, Track

REFUSALS = {
    400: serializers.ParameterErrorSerializer,
    401: OpenApiResponse(description="No valid session or token (an expired one included)"),
    403: OpenApiResponse(description="Not a member of the artist"),
    404: OpenApiResponse(description="No such track or artist"),
}
PERIOD_PARAMETERS = [
    OpenApiParameter("period", str, enum=list(PERIODS), default="7d",
                     description="24h and 7d have hourly points, the others daily ones, all "
                     "in the artist's time zone"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (period=custom)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (period=custom)"),
    OpenApiParameter("compare", str, enum=list(COMPARES), default="previous",
                     description="year: 52 weeks before (28d, 12m, custom of 28+ days)"),
    OpenApiParameter("format", str, enum=["json", "csv"], default="json"),
    OpenApiParameter("table", str, enum=list(TABLES), default="series",
                     description="With format=csv: the table to download"),
]  # fmt: skip


def _period_errors(call):
    try:
        return call()
    except PeriodError as exc:
        raise exceptions.ValidationError({exc.param: [exc.message]}) from exc


class _MemberOnly(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, CSVRenderer]

    def check_artist(self, request, artist: Artist) -> None:
        if not selectors.artist_visible(user=request.user, artist=artist):
            raise exceptions.PermissionDenied("You are not a member of this artist.")

    def answer(self, request, data: dict, name: str):
        if wants_csv(request):
            return stats_csv(data, table=request.query_params.get("table", "series"), name=name)
        return Response(data)


class TrackStatsView(_MemberOnly):
    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={200: serializers.TrackStatsSerializer, **REFUSALS},
    )
    def get(self, request, track_id: int):
        track = get_object_or_404(Track.objects.select_related("artist"), pk=track_id)
        self.check_artist(request, track.artist)
        data = _period_errors(
            lambda: selectors.track_stats_get(track=track, params=request.query_params)
        )
        return self.answer(request, data, f"track-{track.id}")


class ArtistStatsView(_MemberOnly):
    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={200: serializers.ArtistStatsSerializer, **REFUSALS},
    )
    def get(self, request, slug: str):
        artist = get_object_or_404(Artist, slug=slug)
        self.check_artist(request, artist)
        data = _period_errors(
            lambda: selectors.artist_stats_get(artist=artist, params=request.query_params)
        )
        return self.answer(request, data, artist.slug)


class ArtistEventsView(_MemberOnly):
    renderer_classes = [CSVRenderer, JSONRenderer]

    @extend_schema(
        parameters=PERIOD_PARAMETERS[:3],
        responses={(200, "text/csv"): OpenApiTypes.STR, **REFUSALS},
        description="The artist's own events of a period, credited and filtered (the "
        "reason), as CSV: plays, likes and summaries of its tracks, and follows and unfollows "
        "of the artist (no track, seconds or referrer); no addresses and no listener ids.",
    )
    def get(self, request, slug: str):
        artist = get_object_or_404(Artist, slug=slug)
        self.check_artist(request, artist)
        period, _ = _period_errors(
            lambda: period_get(
                artist=artist, params={**request.query_params.dict(), "compare": "none"},
                now=timezone.now(),
            )
        )  # fmt: skip
        titles = dict(Track.objects.filter(artist=artist).values_list("id", "title"))
        return events_csv(artist_id=artist.id, titles=titles, period=period, name=artist.slug)
