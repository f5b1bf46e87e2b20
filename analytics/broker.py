"""Publishing events to RabbitMQ, confirmed: the broker has them once `publish` returns.

One background thread per process owns one connection and one confirm-mode channel.
Callers queue their events and wait; the thread sends everything queued so far as events
messages (analytics.wire) with kombu's Producer, then waits for the broker's confirms of all
of them at once, so concurrent callers share one round trip.
"""

import contextlib
import logging
import threading
import time

from django.conf import settings
from kombu import Connection, Producer, Queue

from analytics import wire

logger = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker did not take (or did not confirm) the messages."""


class _Request:
    __slots__ = ("payloads", "done", "error")

    def __init__(self, payloads: list[dict]):
        self.payloads = payloads
        self.done = threading.Event()
        self.error: str | None = None


class BrokerPublisher:
    """Confirmed publishing of event groups to one queue (by default the events queue)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        pause: float,
        queue: Queue | None = None,
        per_message: int = 0,
    ):
        self.url = url
        self.queue = queue if queue is not None else wire.events_queue()
        # Events packed into one message (0: MVSIC_EVENTS_PER_MESSAGE).
        self.per_message = per_message or settings.MVSIC_EVENTS_PER_MESSAGE
        self.timeout = timeout
        self.pause = pause  # after a failure, skip the broker for this long
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self._unconfirmed: set[int] = set()
        self._next_tag = 1
        self._failed = False
        self._down_until = 0.0
        self._thread: threading.Thread | None = None

    # -- callers -------------------------------------------------------------------------------
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def publish(self, payloads: list[dict]) -> None:
        """Block until the broker confirmed every event; raise PublishFailed otherwise."""
        if not self.available():
            raise PublishFailed("broker marked unavailable after a recent failure")
        request = _Request(payloads)
        with self._cond:
            self._ensure_thread()
            self._pending.append(request)
            self._cond.notify()
        if not request.done.wait(self.timeout + 0.5):
            raise PublishFailed("no confirm from the broker in time")
        if request.error:
            raise PublishFailed(request.error)

    # -- the publisher thread ------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="mvsic-publisher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                requests, self._pending = self._pending, []
            error = None
            try:
                self._send([p for request in requests for p in request.payloads])
            except Exception as exc:  # any broker, socket or protocol failure
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("publish failed, events go to the spool: %s", error)
                self._down_until = time.monotonic() + self.pause
                self._disconnect()
            for request in requests:
                request.error = error
                request.done.set()

    def _connect(self) -> None:
        conn = Connection(
            self.url,
            connect_timeout=self.timeout / 2,
            heartbeat=0,
            # Confirms are awaited for a whole group at once, not per message.
            transport_options={"confirm_publish": False},
        )
        # kombu's connect() sleeps 2 s before its retry; a request cannot wait that long. A
        # cluster's nodes listed in the URL (`;` between them) are each tried once, in order.
        conn.ensure_connection(
            max_retries=max(1, len(conn.alt) - 1), interval_start=0, interval_step=0, interval_max=0
        )
        channel = conn.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self.queue(channel).declare()  # once per connection; same arguments as the workers
        self._producer = Producer(
            channel,
            exchange=self.queue.exchange,
            routing_key=self.queue.routing_key,
            auto_declare=False,  # declared just above, with its queue
        )
        self._conn, self._next_tag = conn, 1

    def _disconnect(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                conn.close()

    def _send(self, payloads: list[dict]) -> None:
        if self._conn is None:
            self._connect()
        self._unconfirmed, self._failed = set(), False
        for start in range(0, len(payloads), self.per_message):
            self._producer.publish(
                wire.events_body(payloads[start : start + self.per_message]),
                mandatory=True,  # an unroutable message is returned, and fails the publish
                retry=False,
                **wire.PUBLISH_OPTIONS,
            )
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
        deadline = time.monotonic() + self.timeout
        while self._unconfirmed and not self._failed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PublishFailed(f"{len(self._unconfirmed)} messages not confirmed in time")
            try:
                self._conn.drain_events(timeout=left)
            except TimeoutError:
                continue
        if self._failed:
            raise PublishFailed("the broker refused (nack) or could not route a message")

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {t for t in self._unconfirmed if t > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._failed = True

    def _on_return(self, *args) -> None:
        self._failed = True
