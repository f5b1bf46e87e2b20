"""Counters the workers keep from credited events: totals, hours, listener sets, like states."""

from django.db import models

from mvsic.models import Artist, Track


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
    followers = models.BigIntegerField(default=0, db_default=0)
    zone = models.CharField(
        max_length=64,
        default="UTC",
        db_default="UTC",
        help_text="The time zone the artist's hours, days and months are kept in (the "
        "artist's own once a change of it is rebuilt)",
    )
    history_version = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="Goes up whenever figures of the artist's closed days change (a late event, "
        "a rebuild): the key of what the stats reads keep of those days",
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


class FilteredHour(models.Model):
    """Events of one track in one hour that were not credited, by reason."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    reason = models.CharField(max_length=24)
    events = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "hour", "reason"], name="filteredhour_unique"),
        ]


class TrackFiltered(models.Model):
    """All-time events of one track that were not credited, by reason (the figure the
    dashboard shows beside the all-time counters, read without summing every hour)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    reason = models.CharField(max_length=24)
    events = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "reason"], name="trackfiltered_unique"),
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
        indexes = [models.Index(fields=["listener"])]  # a fan's own likes
