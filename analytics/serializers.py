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
    track = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Track id: required for play, like, unlike and heard; absent for follows",
    )
    artist = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Artist id: required for follow and unfollow, and only for them",
    )
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
    hour = serializers.DateTimeField(help_text="Start of the local hour or day")
    day = serializers.DateField(required=False, help_text="The local day (daily points)")
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()
    followers = serializers.IntegerField(
        required=False, help_text="An artist's daily points: its followers at the day's end"
    )


# A query parameter that was wrong, by its name.
ParameterErrorSerializer = type(
    "ParameterErrorSerializer",
    (serializers.Serializer,),
    {
        name: serializers.ListField(child=serializers.CharField(), required=False)
        for name in ("period", "from", "to", "compare", "table", "timezone")
    },
)


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


PeriodTotalsSerializer = type(
    "PeriodTotalsSerializer",
    (serializers.Serializer,),
    {
        "name": serializers.CharField(),
        "from": serializers.DateField(help_text="First local day"),
        "to": serializers.DateField(help_text="Last local day, inclusive"),
        "plays": serializers.IntegerField(),
        "likes": serializers.IntegerField(),
        "listeners": serializers.IntegerField(help_text="Distinct listeners"),
        "new_listeners": serializers.IntegerField(help_text="First heard in the period"),
        "returning_listeners": serializers.IntegerField(),
        "filtered": FilteredSerializer(),
        "followers": serializers.IntegerField(
            required=False, help_text="An artist's: its followers at the period's end"
        ),
        "followers_gained": serializers.IntegerField(
            required=False,
            help_text="An artist's: the net change of its followers over the period's local "
            "days (follows minus unfollows, each fan's latest state counted)",
        ),
        "filtered_follows": FilteredSerializer(
            required=False,
            help_text="An artist's: its follows and unfollows not credited, by reason, over "
            "the period's local days",
        ),
    },
)


class BreakdownRowSerializer(serializers.Serializer):
    value = serializers.CharField(help_text='"other": values with fewer than 5 listeners')
    plays = serializers.IntegerField()


SuperListenersSerializer = type(
    "SuperListenersSerializer",
    (serializers.Serializer,),
    {
        "share": serializers.FloatField(help_text="Of the period's plays, 0 to 1"),
        "listeners": serializers.IntegerField(help_text="The top 1% (at least one)"),
        "plays": serializers.IntegerField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "computed_at": serializers.DateTimeField(),
    },
)


class ListenersSplitSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    returning = serializers.IntegerField()
    super = SuperListenersSerializer(
        allow_null=True,
        help_text="Plays from the top 1% of the artist's listeners by plays (7d, 28d and "
        "12m, worked out every 10 minutes; null otherwise)",
    )


class BreakdownsSerializer(serializers.Serializer):
    sources = BreakdownRowSerializer(many=True)
    countries = BreakdownRowSerializer(many=True)
    devices = BreakdownRowSerializer(many=True)
    browsers = BreakdownRowSerializer(many=True)
    os = BreakdownRowSerializer(many=True)
    listeners = ListenersSplitSerializer()


class CompletionSerializer(serializers.Serializer):
    starts = serializers.IntegerField(help_text="Playback summaries")
    complete = serializers.IntegerField(help_text="Heard at least 90%")
    partial = serializers.IntegerField()
    skip = serializers.IntegerField(help_text="Under 10% or under 5 s")


RETENTION = serializers.ListField(
    child=serializers.FloatField(),
    help_text="Share of summaries that heard each 5% of the track (20 values)",
)


class TrackStatsSerializer(FiguresSerializer):
    generated_at = serializers.DateTimeField()
    period = PeriodTotalsSerializer()
    timezone = serializers.CharField()
    granularity = serializers.ChoiceField(choices=["hour", "day"])
    series = HourSerializer(many=True)
    previous = PeriodTotalsSerializer(allow_null=True)
    previous_series = HourSerializer(many=True)
    breakdowns = BreakdownsSerializer()
    completion = CompletionSerializer()
    retention = RETENTION


class TrackFiguresSerializer(FiguresSerializer):
    """A track's row in its artist's figures (its last 24 h filtered are on its own page)."""

    filtered_24h = None
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration = serializers.FloatField()
    period_plays = serializers.IntegerField()
    period_likes = serializers.IntegerField()
    completion = CompletionSerializer()
    retention = RETENTION


class ArtistStatsSerializer(TrackStatsSerializer):
    followers = serializers.IntegerField(help_text="Fans following the artist now")
    filtered_follows = FilteredSerializer(
        help_text="Follows and unfollows of the artist not credited, all time, by reason"
    )
    tracks = TrackFiguresSerializer(many=True)
