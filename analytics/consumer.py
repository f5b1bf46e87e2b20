"""Batch consumption of `analytics.record_event` messages inside a Celery worker.

Started with `celery -A mvsic worker --event-batches`: a consumer step takes messages from
the events queue, counts them in groups (one transaction and one upsert per table per
group) and acknowledges the group only after it is committed. A crash before the ack
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

from analytics import services, tasks

logger = logging.getLogger(__name__)


def _payload_of(body) -> dict:
    """The payload of a Celery protocol 2 message body: [[payload], {}, embed]."""
    if isinstance(body, list | tuple) and body and isinstance(body[0], list | tuple) and body[0]:
        payload = body[0][0]
        if isinstance(payload, dict):
            return payload
    raise ValueError("not an analytics.record_event message")


class EventBatchConsumer(bootsteps.ConsumerStep):
    """Counts events in groups of up to MVSIC_EVENT_BATCH_SIZE, flushed at least every
    MVSIC_EVENT_FLUSH_SECONDS."""

    def __init__(self, parent, event_batches: bool = False, **kwargs):
        self.enabled = bool(event_batches)
        self.size = settings.MVSIC_EVENT_BATCH_SIZE
        self.interval = settings.MVSIC_EVENT_FLUSH_SECONDS
        self.buffer: list = []
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
        self.buffer.append((body, message, None))
        if len(self.buffer) >= self.size:
            self.flush()

    def on_decode_error(self, message, exc) -> None:
        # Kept in the buffer (not acked alone) so the batch's multiple-ack stays valid.
        self.buffer.append((None, message, f"undecodable message: {exc}"))

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        try:
            self._count(batch)
        except BaseException:
            # Not counted: keep the batch, or the next multiple-ack would acknowledge it
            # (a failed flush from the timer is only logged, and the worker goes on), and
            # drop a connection the failure may have broken, so the next flush reconnects.
            self.buffer[:0] = batch
            connection.close()
            raise
        _crash_point()
        last = batch[-1][1]
        try:
            # Every earlier delivery on this channel is in this batch: one ack covers them.
            last.channel.basic_ack(last.delivery_tag, multiple=True)
        except Exception as exc:  # the connection died; the broker redelivers, harmlessly
            logger.warning(
                "could not ack %d counted events (%s); redelivery is harmless", len(batch), exc
            )

    @staticmethod
    def _count(batch: list) -> None:
        payloads = []
        for body, message, error in batch:
            try:
                if error:
                    raise ValueError(error)
                payloads.append(_payload_of(body))
            except ValueError as exc:
                raw = message.body[:2000] if isinstance(message.body, bytes) else repr(body)
                # Named by its content, so a redelivered copy is parked once.
                digest = hashlib.sha256(repr(raw).encode()).hexdigest()[:40]
                services.poison_record(
                    payload={"id": f"raw-{digest}", "raw": repr(raw)}, reason=str(exc)
                )
        tasks.count_until_applied(payloads)


def _crash_point() -> None:
    """Fault injection for the reliability tests: die after the commit, before the ack."""
    flag = os.environ.get("MVSIC_CRASH_BEFORE_ACK_FILE")
    if flag and Path(flag).exists():
        Path(flag).unlink()
        logger.error("crashing before the ack, as %s asked", flag)
        os._exit(70)
