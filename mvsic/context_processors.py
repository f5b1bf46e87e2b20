from django.conf import settings


def site(request):
    return {
        "play_threshold_seconds": settings.MVSIC_PLAY_THRESHOLD_SECONDS,
    }
