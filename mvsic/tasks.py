"""The catalog's background work: processing an uploaded track."""

import os

from celery import shared_task

from mvsic import uploads


# Late ack: a worker lost mid-file hands the track to another; a file that keeps stopping
# workers is given up on by the service (it counts the runs that never finished). The time
# limit ends a run stuck in a decoder.
@shared_task(name="mvsic.track_process", acks_late=True, ignore_result=True, time_limit=1800)
def track_process(track_id: int) -> None:
    _niceness_at_least(PROCESSING_NICENESS)
    uploads.track_process(track_id=track_id)


# Audio runs at a lower CPU priority than counting (the worker's main process), so an upload
# never slows the events down; the pool process keeps it for its later tasks.
PROCESSING_NICENESS = 10


def _niceness_at_least(level: int) -> None:
    current = os.nice(0)
    if current < level:
        os.nice(level - current)
