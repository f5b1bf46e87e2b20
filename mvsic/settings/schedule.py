"""What beat runs, and how often; each periodic task expires so a backlog never replays it."""

from mvsic.settings.environment import env

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
MVSIC_RECONCILE_EVERY_SECONDS = env.int("MVSIC_RECONCILE_EVERY_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE = {
    "reconcile-counts": {
        "task": "analytics.reconcile_check",
        "schedule": MVSIC_RECONCILE_EVERY_SECONDS,
        # A missed run is dropped, never replayed in a backlog.
        "options": {"expires": MVSIC_RECONCILE_EVERY_SECONDS * 0.9},
    },
    "integrity-prune": {
        "task": "analytics.integrity_prune",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "super-listeners": {
        "task": "analytics.super_listeners",
        "schedule": 600,
        "options": {"expires": 540},
    },
    # A zone changed anywhere (admin included) is rebuilt within a minute even if the
    # change's own task was lost.
    "zones-sync": {
        "task": "analytics.zones_sync",
        "schedule": 60,
        "options": {"expires": 50},
    },
    # The events table's monthly partitions, made before their month begins.
    "event-partitions": {
        "task": "analytics.event_partitions_ahead",
        "schedule": 86400,
        "options": {"expires": 3600},
    },
    # An upload whose processing task was never sent (broker down) is sent again.
    "uploads-requeue": {
        "task": "mvsic.tracks_requeue",
        "schedule": 300,
        "options": {"expires": 270},
    },
    # The home page reads the stored ranking: a play shows there within a minute.
    "trending-refresh": {
        "task": "analytics.trending_refresh",
        "schedule": 60,
        "options": {"expires": 50},
    },
}
