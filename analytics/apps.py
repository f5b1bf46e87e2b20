from django.apps import AppConfig
from django.db.models.signals import post_delete


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from analytics.selectors import track_cache
        from mvsic.models import Track

        # A deleted track stops being accepted by this process at once (others: cache TTL).
        post_delete.connect(
            lambda instance, **kw: track_cache.forget(instance.pk),
            sender=Track,
            dispatch_uid="analytics.track_cache_forget",
            weak=False,
        )
