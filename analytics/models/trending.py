"""The trending list the fan pages show, kept by the workers from the hourly buckets."""

from django.db import models

from mvsic.models import Track


class TrendingTrack(models.Model):
    """A track among the most played of the last 24 hours, with its plays then. The home
    page reads these rows (reverse relation `trending`), never the hours themselves."""

    track = models.OneToOneField(
        Track, on_delete=models.CASCADE, primary_key=True, related_name="trending"
    )
    plays = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["-plays"], name="trendingtrack_plays")]

    def __str__(self) -> str:
        return f"{self.track}: {self.plays} plays"
