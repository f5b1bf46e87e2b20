"""Integrity: ingest keys, blocks, the daily address key and the working sets of the limits.

The working sets (listener hours, address hours) only need the
last MVSIC_MAX_EVENT_AGE_SECONDS: `analytics.integrity_prune` deletes what is older. They
are written for nearly every event, so they carry no index but their key, and on PostgreSQL
they are UNLOGGED (no WAL): after a database crash they start empty, which only makes the
limits lenient for a while; `reconcile_counts --fix` rebuilds them from the events.
"""

from django.db import models


class IngestKey(models.Model):
    """A server-side client (an app's backend, an importer) allowed to name listeners."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(
        max_length=8, help_text="The key's first characters, to tell keys apart"
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…){' revoked' if self.revoked_at else ''}"


class BlockKind(models.TextChoices):
    LISTENER = "listener"
    ADDRESS = "address", "address hash"


class Block(models.Model):
    """Events of this listener or address hash are filtered as `blocked` from now on."""

    kind = models.CharField(max_length=8, choices=BlockKind.choices)
    value = models.CharField(max_length=64)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="block_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class AddressKey(models.Model):
    """The random key of one UTC day's address hashes; deleted after the day, so a stored
    hash can no longer be matched to an address by trying them all."""

    day = models.DateField(primary_key=True)
    key = models.CharField(max_length=64)


class ListenerHourUse(models.Model):
    """What a listener was credited with in an hour: listening seconds (too_much_listening),
    the slots of its credited plays (too_fast), and the address hash it was first credited
    from (it counts toward that address only)."""

    listener = models.CharField(max_length=64)
    hour = models.DateTimeField()
    seconds = models.FloatField(default=0)
    plays = models.TextField(
        blank=True, default="", help_text='",track:slot" for each credited play of the hour'
    )
    address = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["listener", "hour"], name="listenerhouruse_unique")
        ]


class AddressHour(models.Model):
    """Distinct listeners first credited from an address hash in an hour
    (too_many_listeners), and the likes and unlikes credited from it (too_many_likes)."""

    address = models.CharField(max_length=16)
    hour = models.DateTimeField()
    listeners = models.IntegerField(default=0)
    likes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address", "hour"], name="addresshour_unique")
        ]


class AddressFollows(models.Model):
    """Follows and unfollows credited from an address hash in an hour (too_many_follows);
    a table of its own, so batches of plays and likes never wait on it."""

    address = models.CharField(max_length=16)
    hour = models.DateTimeField()
    follows = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address", "hour"], name="addressfollows_unique")
        ]
