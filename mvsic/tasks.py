"""The catalog's background work: processing uploaded tracks."""

import contextlib
import os
from datetime import timedelta

from celery import shared_task

from mvsic import uploads


# Late ack: a worker lost mid-file hands the track to another; a file that keeps stopping
# workers is given up on by the service (it counts the runs that never finished). The time
# limit ends a run stuck in a decoder.
@shared_task(name="mvsic.track_process", acks_late=True, ignore_result=True, time_limit=1800)
def track_process(track_id: int) -> None:
    with cpu_idle_only():
        uploads.track_process(track_id=track_id)


# Beat: an upload whose task never reached the broker (it was down) is processed anyway.
@shared_task(name="mvsic.tracks_requeue", ignore_result=True)
def tracks_requeue() -> int:
    return uploads.tracks_stalled_requeue(older_than=timedelta(minutes=5))


@contextlib.contextmanager
def cpu_idle_only():
    """Run the block with the CPU time nothing else wants (Linux SCHED_IDLE; FFmpeg's threads
    inherit it): counting, in the worker's main process, never waits on audio. Elsewhere the
    block runs at the lowest nice level (which cannot be undone without privileges)."""
    if not hasattr(os, "SCHED_IDLE"):
        os.nice(19 - os.nice(0))
        yield
        return
    policy = os.sched_getscheduler(0)
    params = os.sched_getparam(0)
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        yield
    finally:
        # Leaving SCHED_IDLE needs no privilege when the nice value is unchanged.
        os.sched_setscheduler(0, policy, params)
