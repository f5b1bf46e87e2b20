"""The no-op task whose drain rate is the ceiling the batch consumer is compared with."""

from celery import shared_task


@shared_task(name="bench.noop", ignore_result=True, acks_late=True)
def noop(payload: dict) -> None:
    """Do nothing with one event payload: a plain Celery design's task per event."""
