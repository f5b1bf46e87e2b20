"""GET /api/v1/artists/<slug>/stats/ and /api/v1/tracks/<id>/stats/: for an artist's members
and staff, by session or token."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors, serializers
from mvsic.models import Artist, Track

REFUSALS = {
    401: OpenApiResponse(description="No valid session or token (an expired one included)"),
    403: OpenApiResponse(description="Not a member of the artist"),
    404: OpenApiResponse(description="No such track or artist"),
}


class _MemberOnly(APIView):
    permission_classes = [IsAuthenticated]

    def check_artist(self, request, artist: Artist) -> None:
        if not selectors.artist_visible(user=request.user, artist=artist):
            raise exceptions.PermissionDenied("You are not a member of this artist.")


class TrackStatsView(_MemberOnly):
    @extend_schema(responses={200: serializers.TrackStatsSerializer, **REFUSALS})
    def get(self, request, track_id: int):
        track = get_object_or_404(Track.objects.select_related("artist"), pk=track_id)
        self.check_artist(request, track.artist)
        return Response(selectors.track_stats_get(track=track))


class ArtistStatsView(_MemberOnly):
    @extend_schema(responses={200: serializers.ArtistStatsSerializer, **REFUSALS})
    def get(self, request, slug: str):
        artist = get_object_or_404(Artist, slug=slug)
        self.check_artist(request, artist)
        return Response(selectors.artist_stats_get(artist=artist))
