"""Counting failures an operator must see: recorded while a worker retries, cleared after."""

import logging
import os
import socket

from django.db import DatabaseError, transaction
from django.utils import timezone

from analytics.models import CountingFailure

logger = logging.getLogger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def counting_failure_record(*, error: Exception) -> None:
    """Note that this worker's batch failed again (never raises: this is only a report)."""
    now = timezone.now()
    text = f"{type(error).__name__}: {error}"[:2000]
    try:
        with transaction.atomic():
            row, created = CountingFailure.objects.get_or_create(
                worker=WORKER,
                defaults={"first_failed_at": now, "last_failed_at": now, "error": text},
            )
            if not created:
                row.last_failed_at, row.error = now, text
            row.attempts += 1
            row.save()
    except DatabaseError as exc:
        logger.warning("could not record the counting failure: %s", exc)


def counting_failure_clear() -> None:
    try:
        CountingFailure.objects.filter(worker=WORKER).delete()
    except DatabaseError as exc:
        logger.warning("could not clear the counting failure: %s", exc)
