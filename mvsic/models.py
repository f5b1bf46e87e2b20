"""The catalog: artists, the people who run them, and their tracks."""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import models

# Full-text search on PostgreSQL (mvsic/search.py): the queries use these same expressions, so
# the GIN indexes that migration 0010 builds from them answer without reading the tables. The
# indexes are not in Meta.indexes: SQLite remakes a table with all its Meta indexes whenever a
# migration alters it, and cannot build these.
SEARCH_CONFIG = "english"
ARTIST_SEARCH_VECTOR = SearchVector("name", weight="A", config=SEARCH_CONFIG) + SearchVector(
    "bio", weight="B", config=SEARCH_CONFIG
)
TRACK_SEARCH_VECTOR = SearchVector("title", config=SEARCH_CONFIG)


def zone_validate(name: str) -> None:
    if name not in zone_names():
        raise ValidationError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin).")


@functools.cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Tag(models.Model):
    """A genre, mood or scene that artists choose for themselves (a few each)."""

    name = models.CharField(max_length=50)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Artist(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    bio = models.TextField(blank=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[zone_validate],
        help_text="IANA time zone of the artist's days and hours",
    )
    picture = models.FileField(
        upload_to="artists/", blank=True, help_text="WebP of at most 512x512, no metadata"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="artists", blank=True)
    tags = models.ManyToManyField(Tag, related_name="artists", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # The list of every artist, a page at a time by name, without sorting the catalog.
        permissions = [("view_all_artists", "Can see and manage every artist, not only their own")]
        indexes = [models.Index(fields=["name", "id"], name="artist_name_id")]

    def __str__(self) -> str:
        return self.name

    @property
    def picture_version(self) -> str:
        """Changes with every new picture: the picture's URL carries it, so it can be cached."""
        return self.picture.name.rsplit("-", 1)[-1].split(".")[0] if self.picture else ""


class TrackQuerySet(models.QuerySet):
    def visible(self) -> "TrackQuerySet":
        """Tracks fans can see: processed and playable, not hidden (a deleted track is
        hidden, its history kept)."""
        return self.filter(hidden_at__isnull=True, status=Track.Status.READY)


class Track(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="tracks")
    title = models.CharField(max_length=200)
    audio = models.FileField(upload_to="tracks/", blank=True, help_text="What the player plays")
    original = models.FileField(
        upload_to="uploads/", blank=True, help_text="The file the artist uploaded, as it came"
    )
    duration = models.FloatField(default=0.0, help_text="Seconds")
    position = models.PositiveIntegerField(default=0, help_text="Order on the artist's page")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    failure = models.TextField(blank=True, help_text="Why processing failed, for the artist")
    loudness = models.FloatField(
        null=True, blank=True, help_text="Integrated loudness, LUFS (EBU R128)"
    )
    peaks = models.JSONField(
        default=list, blank=True, help_text="Waveform: peak levels 0-1, evenly over the track"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted: hidden from fans, its history kept"
    )

    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["artist__name", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["artist", "title"], name="track_unique_title_per_artist"
            )
        ]

    def __str__(self) -> str:
        return f"{self.artist} – {self.title}"


class TrackProcessing(models.Model):
    """One run of processing an uploaded track: what the file was and how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="processings")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True, help_text="The reason shown to the artist, or a traceback")
    probe = models.JSONField(default=dict, blank=True, help_text="What the file turned out to be")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.track} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome}"


class ListenerUser(models.Model):
    """The account last logged in behind a listener cookie: a member's own plays are not
    credited to their artist."""

    listener = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.listener} → {self.user}"


class AccountListener(models.Model):
    """The listener id of an account: a signed-in fan's plays, likes and follows are the same
    listener's on every device (the account adopts the cookie it first logs in with)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_listener",
    )
    listener = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} → {self.listener}"
