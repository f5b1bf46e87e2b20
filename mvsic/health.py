"""Liveness and readiness probes for load balancers and process managers."""

from django.db import connection
from django.http import JsonResponse

from mvsic.celery import app as celery_app


def healthz(request):
    return JsonResponse({"status": "ok"})


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
