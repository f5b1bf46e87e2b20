"""Figures over local days and months in the artist's time zone, kept by the workers.

`Rollup` holds every additive figure of an artist ("a") or a track ("t") for one local day
("d") or calendar month ("m", keyed by its first day): plays, likes, filtered events by
reason, breakdowns, listening completion, and the cells of the distinct-listener index
(analytics.reach, in ReachCell). A period's figure is a sum over whole months and the
days left over, so reading twelve months touches a few dozen rows per figure, however long
the history.
"""

from django.db import models

SCOPES = (("a", "artist"), ("t", "track"))
SPANS = (("d", "day"), ("m", "month"))


class Rollup(models.Model):
    scope = models.CharField(max_length=1, choices=SCOPES)
    key = models.BigIntegerField(help_text="The artist's or the track's id")
    span = models.CharField(max_length=1, choices=SPANS)
    start = models.DateField(help_text="The local day, or the first day of the month")
    metric = models.CharField(max_length=16)
    value = models.CharField(max_length=253, blank=True, default="")
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "span", "start", "metric", "value"],
                name="rollup_unique",
            ),
        ]
        # A series reads one metric over many days.
        indexes = [models.Index(fields=["scope", "key", "metric", "span", "start"])]

    def __str__(self) -> str:
        return f"{self.scope}{self.key} {self.start} {self.metric}={self.value}: {self.n}"


class ListenerDay(models.Model):
    """A listener was credited a play of an artist or a track on a local day: the set the
    distinct-listener cells are kept from."""

    scope = models.CharField(max_length=1, choices=SCOPES)
    key = models.BigIntegerField()
    listener = models.CharField(max_length=64)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "listener", "day"], name="listenerday_unique"
            ),
        ]


class BreakdownListener(models.Model):
    """Up to the first few listeners of a track with one breakdown value on one day: enough
    to know whether the value reached the listeners a shown row needs (counted by set, so
    the figure does not depend on the order events arrive in)."""

    track_id = models.BigIntegerField()
    day = models.DateField()
    dimension = models.CharField(max_length=8)
    value = models.CharField(max_length=253)
    listener = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["track_id", "day", "dimension", "value", "listener"],
                name="breakdownlistener_unique",
            ),
        ]


class ReachCell(models.Model):
    """One cell of an artist's or a track's distinct-listener index (analytics.reach) for a
    local day or month: kept apart from the rollups, keyed cell first, so a period reads
    only the dozen cells it sums."""

    scope = models.CharField(max_length=1, choices=SCOPES)
    key = models.BigIntegerField()
    cell = models.IntegerField()
    span = models.CharField(max_length=1, choices=SPANS)
    start = models.DateField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "cell", "span", "start"], name="reachcell_unique"
            ),
        ]


class SuperListeners(models.Model):
    """The share of an artist's plays in a period that came from its top 1% of listeners
    by plays (at least one listener), worked out in the background from the events (a
    ranking of every listener cannot be kept by adding up rows)."""

    artist_id = models.BigIntegerField()
    period = models.CharField(max_length=8)
    first_day = models.DateField()
    last_day = models.DateField()
    listeners = models.BigIntegerField()
    top = models.BigIntegerField(help_text="Listeners in the top 1%")
    top_plays = models.BigIntegerField()
    plays = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "super listeners"
        constraints = [
            models.UniqueConstraint(fields=["artist_id", "period"], name="superlisteners_unique")
        ]
