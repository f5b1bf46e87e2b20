"""Serializers that document the API's shapes in the OpenAPI schema.

Event validation itself is analytics.validation (plain Python, fast on 500-event batches).
"""

from rest_framework import serializers

from analytics.models import EventType


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Client-made UUID; the dedupe key")
    type = serializers.ChoiceField(choices=EventType.choices)
    track = serializers.IntegerField(min_value=1)
    listener = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$", required=False, help_text="Defaults to the listener cookie"
    )
    ts = serializers.DateTimeField(required=False, help_text="ISO 8601; server time if absent")
    seconds = serializers.FloatField(min_value=0, required=False, help_text="Plays only")
    source = serializers.CharField(max_length=64, required=False)


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AcceptanceSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = RejectionSerializer(many=True)


class HourSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    plays = serializers.IntegerField()
    likes = serializers.IntegerField()
    listeners = serializers.IntegerField()
    plays_24h = serializers.IntegerField()
    likes_24h = serializers.IntegerField()
    listeners_24h = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)


class TrackStatsSerializer(FiguresSerializer):
    generated_at = serializers.DateTimeField()
    series = HourSerializer(many=True)


class TrackFiguresSerializer(FiguresSerializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration = serializers.FloatField()


class ArtistStatsSerializer(TrackStatsSerializer):
    tracks = TrackFiguresSerializer(many=True)
