from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete


def _track_deleted(instance, **kwargs) -> None:
    from analytics.services.capture import track_cache
    from analytics.services.reconciliation import artist_stats_refresh

    # This process stops accepting the track at once (other processes: cache TTL).
    track_cache.forget(instance.pk)
    # The artist's totals included the track: recompute them once the deletion commits.
    artist_id = instance.artist_id
    transaction.on_commit(lambda: artist_stats_refresh(artist_id=artist_id))


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from mvsic.models import Track

        post_delete.connect(_track_deleted, sender=Track, dispatch_uid="analytics.track_deleted")
