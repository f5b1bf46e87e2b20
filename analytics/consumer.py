"""Batch consumption of the events queue inside a Celery worker.

Started with `celery -A mvsic worker --event-batches`: a consumer step takes messages from
the events queue (`analytics.record_event`, one event, or `analytics.record_events`, a
group), counts their events in batches (one transaction and one upsert per table per
batch) and acknowledges the messages only after the batch is committed. A crash before the ack
means redelivery, and redelivery changes nothing (the event id decides).
"""

import hashlib
import logging
import os
from pathlib import Path

from celery import bootsteps
from django.conf import settings
from django.db import connection
from kombu import Consumer

from analytics import publisher, services, tasks

logger = logging.getLogger(__name__)


class EventBatchConsumer(bootsteps.ConsumerStep):
    """Counts events in batches of about MVSIC_EVENT_BATCH_SIZE (whole messages), flushed at
    least every MVSIC_EVENT_FLUSH_SECONDS."""

    def __init__(self, parent, event_batches: bool = False, **kwargs):
        self.enabled = bool(event_batches)
        self.size = settings.MVSIC_EVENT_BATCH_SIZE
        self.interval = settings.MVSIC_EVENT_FLUSH_SECONDS
        self.buffer: list = []  # (message, its payloads, why it cannot be counted)
        self.events = 0  # payloads in the buffer
        self.timer_ref = None
        super().__init__(parent, **kwargs)

    def get_consumers(self, channel):
        queue = next(
            q for q in settings.CELERY_TASK_QUEUES if q.name == settings.MVSIC_EVENTS_QUEUE
        )
        consumer = Consumer(
            channel,
            queues=[queue],
            callbacks=[self.on_message],
            on_decode_error=self.on_decode_error,
            accept=["json"],
            prefetch_count=self.size * 2,
        )
        return [consumer]

    def start(self, c):
        super().start(c)
        self.timer_ref = c.timer.call_repeatedly(self.interval, self.flush)
        logger.info("counting events in batches of up to %d", self.size)

    def stop(self, c):
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        self.flush()
        super().stop(c)

    def on_message(self, body, message) -> None:
        try:
            self._add(message, publisher.message_payloads(body), None)
        except ValueError as exc:
            self._add(message, [], str(exc))

    def on_decode_error(self, message, exc) -> None:
        # Kept in the buffer (not acked alone) so the batch's multiple-ack stays valid.
        self._add(message, [], f"undecodable message: {exc}")

    def _add(self, message, payloads: list[dict], error: str | None) -> None:
        self.buffer.append((message, payloads, error))
        self.events += len(payloads) or 1
        if self.events >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, events, self.buffer, self.events = self.buffer, self.events, [], 0
        try:
            self._count(batch)
        except BaseException:
            # Not counted: keep the batch, or the next multiple-ack would acknowledge it
            # (a failed flush from the timer is only logged, and the worker goes on), and
            # drop a connection the failure may have broken, so the next flush reconnects.
            self.buffer[:0] = batch
            self.events += events
            connection.close()
            raise
        _crash_point()
        last = batch[-1][0]
        try:
            # Every earlier delivery on this channel is in this batch: one ack covers them.
            last.channel.basic_ack(last.delivery_tag, multiple=True)
        except Exception as exc:  # the connection died; the broker redelivers, harmlessly
            logger.warning(
                "could not ack %d counted events (%s); redelivery is harmless", events, exc
            )

    @staticmethod
    def _count(batch: list) -> None:
        for message, _, error in batch:
            if error:
                raw = message.body[:2000]
                # Named by its content, so a redelivered copy is parked once.
                digest = hashlib.sha256(repr(raw).encode()).hexdigest()[:40]
                services.poison_record(
                    payload={"id": f"raw-{digest}", "raw": repr(raw)}, reason=error
                )
        tasks.count_until_applied([p for _, payloads, _ in batch for p in payloads])


def _crash_point() -> None:
    """Fault injection for the reliability tests: die after the commit, before the ack."""
    flag = os.environ.get("MVSIC_CRASH_BEFORE_ACK_FILE")
    if flag and Path(flag).exists():
        Path(flag).unlink()
        logger.error("crashing before the ack, as %s asked", flag)
        os._exit(70)
