from django.conf import settings
from django.utils import timezone


def site(request):
    return {
        "play_threshold_seconds": settings.MVSIC_PLAY_THRESHOLD_SECONDS,
        # The player stamps events from this (static/mvsic/player.js, eventTime).
        "server_time": timezone.now().isoformat(timespec="milliseconds"),
    }
