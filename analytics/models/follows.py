"""Follows: fans following artists, stored apart from track events (an event about an
artist has no track), counted by the same pipeline, exactly once per event id."""

from django.db import models
from uuid6 import uuid7

from analytics.models.events import FilterReason, UserAgent
from mvsic.models import Artist


class FollowEvent(models.Model):
    """One applied follow or unfollow; its primary key (the client's id) makes counting
    idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid7)
    type = models.CharField(max_length=8)
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+", db_index=False)
    listener = models.CharField(max_length=64)
    ts = models.DateTimeField(help_text="When it happened (client time)")
    received_at = models.DateTimeField(help_text="When the API accepted it")
    source = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True, default="", db_default="")
    address = models.CharField(max_length=16, blank=True, default="", db_default="")
    user_agent = models.ForeignKey(
        UserAgent, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    reason = models.CharField(
        max_length=24,
        blank=True,
        default="",
        db_default="",
        choices=FilterReason.choices,
        help_text="Empty: credited",
    )
    counted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # A fan's history with an artist: what a late follow is placed among.
        indexes = [models.Index(fields=["artist", "listener", "ts"])]

    def __str__(self) -> str:
        return f"{self.type} {self.artist_id} by {self.listener}"


class FollowState(models.Model):
    """A listener's latest follow or unfollow of an artist, by (ts, received_at, event id);
    the artist page reads it through `artist.follow_states` (the catalog imports no analytics)."""

    artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, related_name="follow_states", db_index=False
    )
    listener = models.CharField(max_length=64)
    following = models.BooleanField()
    ts = models.DateTimeField()
    received_at = models.DateTimeField()
    event_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "listener"], name="followstate_unique"),
        ]
        indexes = [models.Index(fields=["listener"])]
