"""Serializers that document the API's shapes in the OpenAPI schema.

Event validation itself is analytics.validation (plain Python, fast on 500-event batches).
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from analytics.models import EventType, FilterReason


@extend_schema_field({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
class IPField(serializers.IPAddressField):
    """An IPv4 or IPv6 address."""


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Client-made UUID; the dedupe key")
    type = serializers.ChoiceField(choices=EventType.choices)
    track = serializers.IntegerField(min_value=1)
    listener = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$",
        required=False,
        help_text="Ingest-key clients only (required for them); browsers are the signed "
        "mvsic_listener cookie, and a listener they send is ignored",
    )
    ts = serializers.DateTimeField(
        required=False,
        help_text="ISO 8601; server time if absent. At most MVSIC_MAX_EVENT_AGE_SECONDS old "
        "and MVSIC_MAX_CLOCK_SKEW_SECONDS ahead",
    )
    seconds = serializers.FloatField(
        min_value=0, required=False, help_text="Required for plays, and only for plays"
    )
    source = serializers.CharField(max_length=64, required=False)
    ip = IPField(
        required=False,
        help_text="Ingest-key clients only: the fan's address (only its hash is kept)",
    )
    ua = serializers.CharField(
        max_length=512, required=False, help_text="Ingest-key clients only: the fan's user agent"
    )


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AcceptanceSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = RejectionSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    """A request refused as a whole: what was wrong."""

    detail = serializers.CharField()


# A 400: events rejected one by one, or a body that is no batch of events at all.
RejectedSerializer = PolymorphicProxySerializer(
    component_name="EventsRejected",
    serializers=[AcceptanceSerializer, DetailSerializer],
    resource_type_field_name=None,
)


class HourSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()


# Events not credited, by reason (a reason with none is left out).
FilteredSerializer = type(
    "FilteredSerializer",
    (serializers.Serializer,),
    {reason: serializers.IntegerField(required=False) for reason in FilterReason.values},
)


class FiguresSerializer(serializers.Serializer):
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()
    listeners = serializers.IntegerField()
    plays_24h = serializers.IntegerField()
    likes_24h = serializers.IntegerField()
    listeners_24h = serializers.IntegerField()
    filtered = FilteredSerializer(help_text="All time, by reason")
    filtered_24h = FilteredSerializer(help_text="The last 24 hours, by reason")
    updated_at = serializers.DateTimeField(allow_null=True)


class TrackStatsSerializer(FiguresSerializer):
    generated_at = serializers.DateTimeField()
    series = HourSerializer(many=True)


class TrackFiguresSerializer(FiguresSerializer):
    """A track's row in its artist's figures (its last 24 h filtered are on its own page)."""

    filtered_24h = None
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration = serializers.FloatField()


class ArtistStatsSerializer(TrackStatsSerializer):
    tracks = TrackFiguresSerializer(many=True)
