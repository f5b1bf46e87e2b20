"""The consumer of the events queue, inside `celery -A mvsic worker --event-batches`.

A consumer step of the worker takes events messages (analytics.wire), counts their events
in batches (one transaction, one upsert per table) and acknowledges the messages only once
the batch is committed. Batches are counted in threads of their own while the consumer takes
in the next (MVSIC_COUNTING_THREADS at once, acknowledged in delivery order), so the
database's work and the worker's overlap. A crash
before the ack means redelivery, and redelivery changes nothing (the event id decides). A
database outage is waited out with the messages unacked; a payload that can never be
counted is parked (analytics.services.poison) and acknowledged.
"""

import hashlib
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

from celery import bootsteps
from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError, connection
from kombu import Consumer

from analytics import dimensions, wire
from analytics.services.counting import events_count
from analytics.services.failures import counting_failure_clear, counting_failure_record
from analytics.services.poison import poison_record

logger = logging.getLogger(__name__)

# Longest wait between two attempts at a batch that fails.
MAX_DELAY = 5.0


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
        # The batches being counted in the background, oldest first: (future, batch, events).
        self.counting: deque[tuple[Future, list, int]] = deque()
        self.threads = settings.MVSIC_COUNTING_THREADS
        self.counter: ThreadPoolExecutor | None = None
        super().__init__(parent, **kwargs)

    def get_consumers(self, channel):
        consumer = Consumer(
            channel,
            queues=[wire.events_queue()],
            callbacks=[self.on_message],
            on_decode_error=self.on_decode_error,
            accept=["json"],
            prefetch_count=self.size * 2,
        )
        dead = Consumer(
            channel,
            queues=[wire.events_dead_queue()],
            callbacks=[self.on_dead_message],
            on_decode_error=self.on_decode_error,
            accept=["json"],
        )
        return [consumer, dead]

    def start(self, c):
        # Before the consumers start: a message may arrive as soon as they do.
        self.counter = ThreadPoolExecutor(self.threads, thread_name_prefix="mvsic-count")
        self.counter.submit(dimensions.parser_warm)  # before the first batch, not in it
        super().start(c)
        self.timer_ref = c.timer.call_repeatedly(self.interval, self.flush)
        logger.info("counting events in batches of up to %d", self.size)

    def stop(self, c):
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        self.flush()
        while self.counting:
            self.settle(wait=True)
        if self.counter is not None:
            # A connection lost and found again stops and starts this step: until then,
            # a batch is counted right in the consumer.
            self.counter.shutdown()
            self.counter = None
        super().stop(c)

    def on_message(self, body, message) -> None:
        try:
            self._add(message, wire.body_events(body), None)
        except ValueError as exc:
            self._add(message, [], str(exc))

    def on_dead_message(self, body, message) -> None:
        """A message RabbitMQ took off the events queue after MVSIC_DELIVERY_LIMIT deliveries
        without an ack: its events are parked with the reason, never dropped, never counted."""
        reason = (
            f"delivered {settings.MVSIC_DELIVERY_LIMIT} times without being counted "
            "(dead-lettered by the events queue's delivery limit)"
        )
        try:
            self._add(message, wire.body_events(body), reason)
        except ValueError as exc:
            self._add(message, [], f"{reason}; {exc}")

    def on_decode_error(self, message, exc) -> None:
        # Kept in the buffer (not acked alone) so the batch's multiple-ack stays valid.
        self._add(message, [], f"undecodable message: {exc}")

    def _add(self, message, payloads: list[dict], error: str | None) -> None:
        self.buffer.append((message, payloads, error))
        self.events += len(payloads) or 1
        if self.events >= self.size:
            self.flush()

    def flush(self) -> None:
        """Hand the buffer to a counting thread (with every thread busy, a full buffer waits
        for the oldest batch), and acknowledge what was counted."""
        self.settle(wait=False)
        if not self.buffer:
            return
        while len(self.counting) >= self.threads:
            self.settle(wait=True)
        batch, events, self.buffer, self.events = self.buffer, self.events, [], 0
        if self.counter is None:  # not started as a worker step (tests): count right here
            future = _done(_batch_count_closing, batch)
        else:
            future = self.counter.submit(_batch_count_closing, batch)
        self.counting.append((future, batch, events))
        self.settle(wait=False)

    def settle(self, *, wait: bool) -> None:
        """Acknowledge the batches counted in the background once committed, oldest first
        (a multiple-ack covers every earlier delivery), from this thread (a channel is not
        shared between threads); with `wait`, wait for the oldest."""
        while self.counting:
            future, batch, events = self.counting[0]
            if not (wait or future.done()):
                return
            wait = False
            self.counting.popleft()
            try:
                future.result()
            except BaseException:
                self._keep_unacked(batch, events)
                raise
            self.acknowledge(batch)

    def _keep_unacked(self, batch: list, events: int) -> None:
        """A batch failed: it and every later one go back to the buffer, in delivery order,
        or the next multiple-ack would acknowledge them (a later one that committed counts
        nothing again). A failed flush from the timer is only logged; the worker goes on."""
        later = list(self.counting)
        self.counting.clear()
        futures_wait([f for f, _, _ in later])
        self.buffer[:0] = [m for b in (batch, *(b for _, b, _ in later)) for m in b]
        self.events += events + sum(n for _, _, n in later)

    def acknowledge(self, batch: list) -> None:
        """Acknowledge a counted batch: every earlier delivery on this channel is in it, so
        one multiple-ack covers them all."""
        last = batch[-1][0]
        try:
            last.channel.basic_ack(last.delivery_tag, multiple=True)
        except Exception as exc:  # the connection died; the broker redelivers, harmlessly
            logger.warning(
                "could not ack %d counted messages (%s); redelivery is harmless", len(batch), exc
            )


def _done(function, *args) -> Future:
    """`function(*args)` run now, as a finished future."""
    future: Future = Future()
    try:
        future.set_result(function(*args))
    except BaseException as exc:
        future.set_exception(exc)
    return future


def _batch_count_closing(batch: list) -> None:
    try:
        _batch_count(batch)
    except BaseException:
        connection.close()  # the failure may have broken it: the next batch reconnects
        raise


def _batch_count(batch: list) -> None:
    """Park what cannot be counted (each event of a dead-lettered message, or an unreadable
    message whole), then count the rest."""
    for message, payloads, error in batch:
        if error and payloads:
            for payload in payloads:
                poison_record(payload=payload, reason=error)
        elif error:
            raw = message.body[:2000]
            # Named by its content, so a redelivered copy is parked once.
            digest = hashlib.sha256(repr(raw).encode()).hexdigest()[:40]
            poison_record(payload={"id": f"raw-{digest}", "raw": repr(raw)}, reason=error)
    count_until_applied([p for _, payloads, error in batch if not error for p in payloads])


def count_until_applied(payloads: list[dict]) -> int:
    """Count events, waiting out whatever stops them; the messages stay unacked meanwhile.

    Only a payload that can never apply is parked: malformed or of a deleted track (by
    events_count), or holding a value the database refuses (DataError, found by counting
    the batch event by event). Any other failure (a database outage, code and migrations
    that disagree after a deploy, a bug) parks nothing: the batch is retried with backoff,
    logged as an error and shown on the pipeline health page until it counts. Retrying
    in-process keeps the events in the broker as unacknowledged work: if this worker dies
    while waiting, RabbitMQ redelivers them.
    """
    delay, failing = 0.5, False
    while True:
        try:
            counted = events_count(payloads=payloads)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("database unavailable, retrying in %.1fs: %s", delay, exc)
            connection.close()  # reconnect on the next attempt
        except DataError as exc:
            return _count_each_or_park(payloads, exc)
        except Exception as exc:
            logger.exception(
                "counting %d events failed; nothing is parked, retrying in %.1fs",
                len(payloads),
                delay,
            )
            counting_failure_record(error=exc)
            failing = True
        else:
            if failing:
                counting_failure_clear()
            return counted
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)


def _count_each_or_park(payloads: list[dict], error: Exception) -> int:
    """The database refuses a value of this batch: count its events one by one so only the
    payload it refuses is parked."""
    if len(payloads) == 1:
        poison_record(payload=payloads[0], reason=f"{type(error).__name__}: {error}")
        return 0
    return sum(count_until_applied([payload]) for payload in payloads)
