"""The hand-over of accepted events, and the relay that moves the spool to the broker.

An event is accepted (HTTP 202) only once it is fsync'd in the spool or the broker has
confirmed it. By default (`MVSIC_ACCEPT_VIA=spool`) requests append to this process's spool
segment, concurrent requests sharing one write and one fsync; the relay thread hands the
segment to the broker a few milliseconds later in large confirmed groups, then deletes it.
With `MVSIC_ACCEPT_VIA=broker` requests wait for the broker's confirm themselves and the
spool only takes events while the broker is away. Either way, if the first choice fails the
other is tried, and segments left by a killed process are relayed by any live one.
Duplicates (a publish that timed out but did arrive, a segment relayed again after a crash)
are harmless: counting is idempotent.
"""

import logging
import os
import threading

from django.conf import settings

from analytics.broker import BrokerPublisher, PublishFailed
from analytics.spool import Spool

logger = logging.getLogger(__name__)


class Relay:
    """This process's spool, broker publisher and relay thread (re-created after a fork)."""

    def __init__(self):
        self.pid = os.getpid()
        self.broker = BrokerPublisher(
            settings.CELERY_BROKER_URL,
            timeout=settings.MVSIC_PUBLISH_TIMEOUT_SECONDS,
            pause=settings.MVSIC_BROKER_PAUSE_SECONDS,
        )
        self.spool = Spool(settings.MVSIC_SPOOL_DIR)
        self.spool_first = settings.MVSIC_ACCEPT_VIA == "spool"
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._stopping = threading.Event()

    def hand_over(self, payloads: list[dict]) -> str:
        """Durably hand over accepted events: returns "spool" or "broker", whichever took
        them; raises PublishFailed only when neither could."""
        self.start()  # also delivers segments left by an earlier, killed process
        ways = [
            ("spool", self.spool_append, OSError),
            ("broker", self.broker.publish, PublishFailed),
        ]
        if not self.spool_first:
            ways.reverse()
        failures = []
        for name, take, failure in ways:
            try:
                take(payloads)
            except failure as exc:
                failures.append(f"{name}: {exc}")
                if failure is OSError:  # the broker's publisher thread logs its own failures
                    logger.error("spool write failed: %s", exc)
            else:
                return name
        raise PublishFailed("; ".join(failures))

    def spool_append(self, payloads: list[dict]) -> None:
        """Append to the spool (raises OSError if the disk refuses); the relay follows."""
        self.spool.append(payloads)
        # The relay clears the flag before it takes the segment, so a line appended before
        # the flag was seen set is in what it takes; skipping set() spares its lock.
        if not self._wanted.is_set():
            self._wanted.set()

    def start(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return  # every request calls this: no lock on the way
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mvsic-relay", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the relay (it hands over what it can first); what is left stays on disk."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.spool.rotate()

    def _run(self) -> None:
        interval = settings.MVSIC_RELAY_INTERVAL_SECONDS
        linger = settings.MVSIC_RELAY_LINGER_SECONDS
        while True:
            if self._wanted.wait(interval) and not self._stopping.is_set():
                self._stopping.wait(linger)  # let a group gather
            self._wanted.clear()
            if self.broker.available():
                self._relay_once()
            if self._stopping.is_set():
                return

    def _relay_once(self) -> None:
        try:
            if self.spool_first:
                segment = self.spool.take_open()
                if segment is not None:
                    with segment:  # locked until it is published and deleted
                        segment.publish_and_delete(self.broker.publish)
            if self.spool.segments():
                # Segments of dead processes and of earlier failed attempts. In broker
                # mode the open segment only exists during outages: close it first.
                sent = self.spool.drain(self.broker.publish, rotate=not self.spool_first)
                if sent:
                    logger.info("relayed %d spooled events to the broker", sent)
        except PublishFailed as exc:
            logger.info("relay waiting for the broker: %s", exc)
        except Exception:
            logger.exception("relay failed; will retry")


_relay: Relay | None = None
_relay_lock = threading.Lock()


def process_relay() -> Relay:
    """This process's relay (a forked child gets its own)."""
    global _relay
    relay = _relay
    if relay is not None and relay.pid == os.getpid():
        return relay  # the common case, without the lock
    with _relay_lock:
        if _relay is None or _relay.pid != os.getpid():
            _relay = Relay()
        return _relay


def events_hand_over(payloads: list[dict]) -> str:
    """Durably hand over accepted events (see Relay.hand_over)."""
    return process_relay().hand_over(payloads)


def relay_start() -> None:
    """Start this process's relay (web processes call it at start to pick up old segments)."""
    process_relay().start()


def relay_stop() -> None:
    """Stop this process's relay; the next hand-over starts afresh (gunicorn's worker_exit)."""
    global _relay
    with _relay_lock:
        relay, _relay = _relay, None
    if relay is not None and relay.pid == os.getpid():
        relay.stop()
