"""Probes. `/healthz` is the load balancer's: this host can take events (it answers and its
spool can be written), whatever the broker and the database do. `/readyz` is for alerting:
the database and the broker answer."""

import os

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from mvsic.celery import app as celery_app

# Below this much free space the spool is as good as full.
SPOOL_MIN_FREE_BYTES = 16 * 1024 * 1024


def healthz(request):
    if not _spool_writable():
        detail = f"the spool ({settings.MVSIC_SPOOL_DIR}) cannot be written"
        return JsonResponse(
            {"status": "unavailable", "down": ["spool"], "detail": detail}, status=503
        )
    return JsonResponse({"status": "ok"})


def _spool_writable() -> bool:
    """The spool directory exists (or can be made), is writable and has room."""
    directory = str(settings.MVSIC_SPOOL_DIR)
    try:
        os.makedirs(directory, exist_ok=True)
        stats = os.statvfs(directory)
    except OSError:
        return False
    room = stats.f_bavail * stats.f_frsize
    return os.access(directory, os.W_OK) and room >= SPOOL_MIN_FREE_BYTES


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        connection.close()
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            # One attempt: a retry sleeps 2 s first, longer than a probe's usual timeout.
            conn.ensure_connection(max_retries=0, timeout=2)
        return True
    except Exception:
        return False


def readyz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if not ok]
    if down:
        return JsonResponse(
            {"status": "unavailable", "down": down, "detail": f"{', '.join(down)} not answering"},
            status=503,
        )
    return JsonResponse({"status": "ok"})
