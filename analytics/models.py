"""Analytics storage: accepted events (the dedupe key) and the counters built from them."""

import uuid

from django.db import models

from mvsic.models import Artist, Track


class EventType(models.TextChoices):
    PLAY = "play"
    LIKE = "like"
    UNLIKE = "unlike"


class Event(models.Model):
    """One applied event; its primary key (the client's id) makes counting idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
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
    counted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["track", "ts"])]

    def __str__(self) -> str:
        return f"{self.type} {self.track_id} by {self.listener}"


class Counters(models.Model):
    """All-time figures of a track or an artist, kept by the workers."""

    plays = models.BigIntegerField(default=0, db_default=0)
    likes = models.BigIntegerField(default=0, db_default=0)
    listeners = models.BigIntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(null=True)

    class Meta:
        abstract = True


class TrackStats(Counters):
    track = models.OneToOneField(
        Track, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )

    class Meta:
        verbose_name_plural = "track stats"

    def __str__(self) -> str:
        return f"stats of {self.track}"


class ArtistStats(Counters):
    artist = models.OneToOneField(
        Artist, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )

    class Meta:
        verbose_name_plural = "artist stats"

    def __str__(self) -> str:
        return f"stats of {self.artist}"


class TrackHour(models.Model):
    """Plays, likes and unlikes of one track in one hour (the chart and the 24 h figures)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="hours", db_index=False)
    hour = models.DateTimeField()
    plays = models.BigIntegerField(default=0, db_default=0)
    likes = models.BigIntegerField(default=0, db_default=0)
    unlikes = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "hour"], name="trackhour_unique"),
        ]
        indexes = [models.Index(fields=["hour"])]


class TrackListener(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    listener = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "listener"], name="tracklistener_unique"),
        ]


class ArtistListener(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+", db_index=False)
    listener = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "listener"], name="artistlistener_unique"),
        ]


class ListenerHour(models.Model):
    """A listener played a track in an hour: distinct listeners over any window of hours."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    listener = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["track", "hour", "listener"], name="listenerhour_unique"
            ),
        ]


class LikeState(models.Model):
    """A listener's latest like or unlike of a track, by (ts, received_at, event id)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    listener = models.CharField(max_length=64)
    liked = models.BooleanField()
    ts = models.DateTimeField()
    received_at = models.DateTimeField()
    event_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "listener"], name="likestate_unique"),
        ]


class PoisonEvent(models.Model):
    """An event that passed the API but can never be applied, kept with the reason."""

    event_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(null=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.reason[:60]}"


class ReconcileRun(models.Model):
    """One comparison of every counter with what the stored events imply."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    events = models.BigIntegerField(help_text="Stored events compared")
    drift = models.IntegerField(help_text="Counters that differed")
    fixed = models.BooleanField(default=False)
    details = models.JSONField(default=list, help_text="The first differences found")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return (
            f"{self.started_at:%Y-%m-%d %H:%M} drift={self.drift}{' fixed' if self.fixed else ''}"
        )


class PipelineHealth(models.Model):
    """No table: gives the pipeline health page its place in the admin."""

    class Meta:
        managed = False
        verbose_name = verbose_name_plural = "pipeline health"
