"""Stored events: every accepted event once, with why it was not credited, and the ids seen
within the deduplication window (what makes counting idempotent)."""

from django.db import models
from uuid6 import uuid7

from mvsic.models import Track


class EventType(models.TextChoices):
    PLAY = "play"
    LIKE = "like"
    UNLIKE = "unlike"
    HEARD = "heard"  # a playback's summary: which parts of the track were heard
    FOLLOW = "follow"  # of an artist, not a track: stored as FollowEvent
    UNFOLLOW = "unfollow"


FOLLOW_TYPES = frozenset({EventType.FOLLOW, EventType.UNFOLLOW})


class FilterReason(models.TextChoices):
    """Why an accepted event was not credited (docs/reliability.md, "Integrity")."""

    BLOCKED = "blocked", "Blocked by an admin"
    BOT = "bot", "Crawler or bot user agent"
    OWN_PLAY = "own_play", "A member of the artist"
    SHORT = "short", "Shorter than a qualified play"
    TOO_LONG = "too_long", "Longer than the track"
    TOO_FAST = "too_fast", "More plays than real time allows"
    TOO_MUCH_LISTENING = "too_much_listening", "More listening than an hour holds"
    TOO_MANY_LISTENERS = "too_many_listeners", "Too many listeners from one address"
    TOO_MANY_LIKES = "too_many_likes", "Too many likes from one address"
    TOO_MANY_FOLLOWS = "too_many_follows", "Too many follows from one address"


class UserAgent(models.Model):
    """A user agent seen in events, classified once (not per event)."""

    text = models.CharField(max_length=512, unique=True)
    bot = models.BooleanField(help_text="On the crawler list and not allowed by MVSIC_BOT_ALLOW")

    def __str__(self) -> str:
        return self.text[:80]


class EventKey(models.Model):
    """An event id counted within the deduplication window (docs/reliability.md): counting
    inserts the batch's ids here first and applies only those that were new. Rows older than
    the oldest event the edge still accepts are pruned, so its index stays the size of the
    window, not of the history."""

    id = models.UUIDField(primary_key=True)
    ts = models.DateTimeField(db_index=True, help_text="The event's time (client time)")


class Event(models.Model):
    """One applied event, stored once (EventKey decides duplicates). On PostgreSQL the table
    is partitioned by month of `ts` (analytics/partitions.py) and has no index on the id:
    its indexes grow with a month's events, not with the history."""

    id = models.UUIDField(primary_key=True, default=uuid7)
    type = models.CharField(max_length=8, choices=EventType.choices)
    # Indexed by (track, ts) below; a separate index on track alone would only cost writes.
    track = models.ForeignKey(
        Track, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    listener = models.CharField(max_length=64)
    ts = models.DateTimeField(help_text="When it happened (client time)")
    received_at = models.DateTimeField(help_text="When the API accepted it")
    seconds = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=64, blank=True)
    referrer = models.CharField(
        max_length=253, blank=True, default="", db_default="", help_text="External host"
    )
    country = models.CharField(
        max_length=2, blank=True, default="", db_default="", help_text="From the address"
    )
    heard = models.IntegerField(
        null=True, blank=True, help_text="A summary's twentieths of the track heard, as bits"
    )
    address = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text="Keyed hash of the client address (key rotates daily)",
    )
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
        indexes = [models.Index(fields=["track", "ts"]), models.Index(fields=["ts"])]

    def __str__(self) -> str:
        return f"{self.type} {self.track_id} by {self.listener}"
