"""The Celery app of a worker that crashes on request, for the crash-before-ack fault test.

`celery -A tests.faults.crashing_worker worker --event-batches` runs the site's worker with
one change: after committing a batch, its consumer exits (status 70) instead of acknowledging
when the file named by MVSIC_CRASH_BEFORE_ACK_FILE exists (it removes the file first).
"""

import logging
import os
from pathlib import Path

import django

from mvsic.celery import app

django.setup()  # the consumer's modules import models; celery -A imports this module first

from analytics.consumer import EventBatchConsumer  # noqa: E402

logger = logging.getLogger(__name__)


class CrashBeforeAckConsumer(EventBatchConsumer):
    def acknowledge(self, batch: list) -> None:
        flag = Path(os.environ["MVSIC_CRASH_BEFORE_ACK_FILE"])
        if flag.exists():
            flag.unlink()
            logger.error("crashing before the ack, as %s asked", flag)
            os._exit(70)
        super().acknowledge(batch)


app.steps["consumer"].discard("analytics.consumer:EventBatchConsumer")
app.steps["consumer"].add(CrashBeforeAckConsumer)

__all__ = ["app"]
