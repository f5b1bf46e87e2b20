"""Handing accepted events over durably: to the local spool, or confirmed by RabbitMQ.

An event is accepted (HTTP 202) only once it is fsync'd in the spool or the broker has
confirmed its message. By default (`MVSIC_ACCEPT_VIA=spool`) requests append to this
process's spool segment, and concurrent requests share one write and one fsync; a relay
thread hands the segment over to the broker a few milliseconds later, in large confirmed
groups (the broker's cost is mostly per group, not per message), then deletes it. With
`MVSIC_ACCEPT_VIA=broker` requests wait for the broker's confirm themselves, and the spool
only takes events while the broker is away. Either way, if the first choice fails the other
is tried, and segments left by a killed process are relayed by any live one. Duplicates (a
publish that timed out but did arrive, a segment relayed again after a crash) are harmless:
counting is idempotent.
"""

import contextlib
import fcntl
import json
import logging
import os
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import amqp
from amqp import spec
from amqp.serialization import dumps
from django.conf import settings
from kombu import Connection

logger = logging.getLogger(__name__)

TASK_NAME = "analytics.record_event"  # one event per message, as `.delay(payload)` sends
TASK_NAME_MANY = "analytics.record_events"  # a group of events in one message
RELAY_GROUP = 500  # events per confirmed group when relaying a segment
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


class PublishFailed(Exception):
    """The broker did not take (or did not confirm) the messages."""


def task_message(payload: dict) -> amqp.Message:
    """A Celery protocol 2 message for `analytics.record_event(payload)`; task id = event id.

    Only the headers a Celery worker reads are sent (absent ones default to None): encoding
    a full header table costs more than the rest of the message on both ends.
    """
    return amqp.Message(_task_body(payload), **_task_properties(TASK_NAME, payload["id"]))


def events_message(payloads: list[dict]) -> amqp.Message:
    """One message for `analytics.record_events(payloads)`; task id = the first event's id.

    The broker's cost is mostly per message: a group of events travels as one.
    """
    task_id = payloads[0]["id"]
    return amqp.Message(_task_body(payloads), **_task_properties(TASK_NAME_MANY, task_id))


def message_payloads(body) -> list[dict]:
    """The events of a decoded message body of either task; ValueError for anything else."""
    if isinstance(body, list | tuple) and body and isinstance(body[0], list | tuple) and body[0]:
        arg = body[0][0]
        if isinstance(arg, dict):
            return [arg]
        if isinstance(arg, list) and arg and all(isinstance(p, dict) for p in arg):
            return arg
    raise ValueError("not an analytics.record_event(s) message")


def _task_body(arg: dict | list[dict]) -> bytes:
    return json.dumps([[arg], {}, _EMBED], separators=(",", ":")).encode()


def _task_properties(task: str, task_id: str) -> dict:
    return {
        "application_headers": {"lang": "py", "task": task, "id": task_id, "root_id": task_id},
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "correlation_id": task_id,
    }


def _packed(messages: list, size: int) -> Iterator[amqp.Message | list[dict]]:
    """Consecutive payloads in groups of up to `size`, other messages as they are, in order."""
    group: list[dict] = []
    for message in messages:
        if isinstance(message, dict):
            group.append(message)
            if len(group) >= size:
                yield group
                group = []
            continue
        if group:
            yield group
            group = []
        yield message
    if group:
        yield group


class TaskFramer:
    """The AMQP frames of `events_message(payloads)` published on one channel to one queue:
    byte for byte what py-amqp writes, built from a template instead of encoding the
    properties of every message (which costs more than the rest of a publish)."""

    _ID = "00000000-0000-0000-0000-000000000000"  # any canonical id: they are all this long

    def __init__(self, channel_id: int, exchange: str, routing_key: str, frame_max: int):
        args = dumps("Bssbb", (0, exchange, routing_key, True, False))  # mandatory
        method = struct.pack(">HH", *spec.Basic.Publish) + args
        self._method = struct.pack(">BHI", 1, channel_id, len(method)) + method + b"\xce"
        template = _task_properties(TASK_NAME_MANY, self._ID)
        properties = amqp.Message(b"", **template)._serialize_properties()
        self._properties = properties.split(self._ID.encode())
        self._header = struct.Struct(f">BHIHHQ{len(properties)}sB")
        self._body = struct.Struct(">BHI")
        self._channel_id = channel_id
        self._body_max = frame_max - 8

    def frames(self, payloads: list[dict]) -> bytes | None:
        """The method, header and body frames; None if they cannot be built from the
        template (an id of another form, a body larger than one frame)."""
        task_id = payloads[0]["id"]
        body = _task_body(payloads)
        if len(task_id) != len(self._ID) or not task_id.isascii() or len(body) > self._body_max:
            return None
        properties = task_id.encode().join(self._properties)
        channel = self._channel_id
        return b"".join(
            (
                self._method,
                self._header.pack(
                    2, channel, 12 + len(properties), 60, 0, len(body), properties, 0xCE
                ),
                self._body.pack(3, channel, len(body)),
                body,
                b"\xce",
            )
        )


class _Batch:
    __slots__ = ("messages", "done", "error")

    def __init__(self, messages: list[amqp.Message | dict]):
        self.messages = messages
        self.done = threading.Event()
        self.error: str | None = None


class BrokerPublisher:
    """Publishes groups of messages on one confirm-mode channel, from one background thread."""

    def __init__(
        self, url: str, queue_name: str, *, timeout: float, pause: float, per_message: int = 0
    ):
        self.url = url
        # Events packed into one message (0: MVSIC_EVENTS_PER_MESSAGE).
        self.per_message = per_message or settings.MVSIC_EVENTS_PER_MESSAGE
        self.queue = next(q for q in settings.CELERY_TASK_QUEUES if q.name == queue_name)
        self.timeout = timeout
        self.pause = pause  # after a failure, skip the broker for this long
        self._cond = threading.Condition()
        self._pending: list[_Batch] = []
        self._conn: Connection | None = None
        self._channel = None
        self._framer: TaskFramer | None = None
        self._unconfirmed: set[int] = set()
        self._next_tag = 1
        self._failed = False
        self._down_until = 0.0
        self._thread: threading.Thread | None = None

    # -- callers -------------------------------------------------------------------------------
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def publish(self, messages: list[amqp.Message | dict]) -> None:
        """Block until the broker confirmed every message; raise PublishFailed otherwise.

        A dict is an event payload; consecutive ones travel as `events_message(group)`, up to
        `per_message` per group (across callers whose publishes are sent together).
        """
        if not self.available():
            raise PublishFailed("broker marked unavailable after a recent failure")
        batch = _Batch(messages)
        with self._cond:
            self._ensure_thread()
            self._pending.append(batch)
            self._cond.notify()
        if not batch.done.wait(self.timeout + 0.5):
            raise PublishFailed("no confirm from the broker in time")
        if batch.error:
            raise PublishFailed(batch.error)

    # -- publisher thread ----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="mvsic-publisher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batches, self._pending = self._pending, []
            error = None
            try:
                self._send([m for b in batches for m in b.messages])
            except Exception as exc:  # any broker, socket or protocol failure
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("publish failed, events go to the spool: %s", error)
                self._down_until = time.monotonic() + self.pause
                self._disconnect()
            for batch in batches:
                batch.error = error
                batch.done.set()

    def _connect(self) -> None:
        conn = Connection(
            self.url,
            connect_timeout=self.timeout / 2,
            heartbeat=0,
            transport_options={"confirm_publish": False},
        )
        # kombu's connect() sleeps 2 s before its retry; a request cannot wait that long.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
        channel = conn.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self.queue(channel).declare()  # once per connection; same arguments as the workers
        self._conn, self._channel, self._next_tag = conn, channel, 1
        self._framer = TaskFramer(
            channel.channel_id,
            self.queue.exchange.name,
            self.queue.routing_key,
            conn.connection.frame_max,
        )

    def _disconnect(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                conn.close()

    def _send(self, messages: list[amqp.Message | dict]) -> None:
        if self._conn is None:
            self._connect()
        self._unconfirmed, self._failed = set(), False
        exchange, routing_key = self.queue.exchange.name, self.queue.routing_key
        pending: list[bytes] = []  # frames of consecutive groups, written together

        def flush() -> None:
            if pending:
                self._conn.connection.transport.write(b"".join(pending))
                pending.clear()

        for message in _packed(messages, self.per_message):
            frames = self._framer.frames(message) if isinstance(message, list) else None
            if frames is None:
                flush()  # keeps the order
                if isinstance(message, list):
                    message = events_message(message)
                self._channel.basic_publish(message, exchange, routing_key, mandatory=True)
            else:
                pending.append(frames)
                if len(pending) >= 16:
                    flush()
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
        flush()
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


class Spool:
    """Append-only JSON-lines segments on local disk; each line is a list of payloads.

    A writer holds an exclusive lock on its open segment; closed segments (and those of
    dead processes, whose locks the kernel released) can be claimed by any relay. Lines
    are queued in memory and written by the group commit that makes them durable. The
    payloads of the open segment are also kept in memory (up to `MAX_BUFFERED`), so that
    the relay can publish them without reading the file back.
    """

    MAX_BUFFERED = 20_000

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()  # the open segment, its buffer and the line counters
        self._synced_cond = threading.Condition(self._lock)
        self._syncing = False  # one writer (or a take) writes and fsyncs for everyone
        self._pending: list[tuple[bytes, list[dict]]] = []  # lines not yet in a segment
        self._file = None
        self._path: Path | None = None
        self._buffered: list[dict] | None = []
        self._name_unsynced = False  # the open segment's directory entry is not on disk yet
        self._appended = 0  # lines appended, ever
        self._synced = 0  # every line up to this one is on disk, except those in _lost
        self._lost: list[tuple[int, int]] = []  # line ranges of writes that failed

    def append(self, payloads: list[dict]) -> None:
        """Write one line and return once it is on disk (raises OSError otherwise)."""
        self._sync(self._queue_line(payloads))

    def _queue_line(self, payloads: list[dict]) -> int:
        """Queue one line for the next group write; returns its number."""
        line = (json.dumps(payloads, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._pending.append((line, payloads))
            self._appended += 1
            return self._appended

    def _sync(self, line: int) -> None:
        # Group commit: one writer writes every queued line with one call and fsyncs, while
        # the others wait for it; those it did not cover elect the next one.
        with self._synced_cond:
            while self._syncing and self._synced < line and not self._lost_line(line):
                self._synced_cond.wait()
            if self._lost_line(line):
                raise OSError("the spool segment holding this line could not be written")
            if self._synced >= line:
                return
            self._syncing = True
        self._group_write(take=False)

    def take(self) -> tuple[BinaryIO, Path, list[dict] | None] | None:
        """Close the open segment for writers and hand it (still locked) to the caller:
        (handle, path, its payloads, or None when they were not all kept in memory).

        Writers go on queueing lines for a new segment while the taken one is fsync'd."""
        with self._synced_cond:
            while self._syncing:
                self._synced_cond.wait()
            if self._file is None and not self._pending:
                return None
            if not self._pending and self._synced >= self._appended and not self._name_unsynced:
                taken = self._file, self._path, self._buffered  # every line is on disk
                self._file, self._path, self._buffered = None, None, []
                return taken
            self._syncing = True
        try:
            return self._group_write(take=True)
        except OSError:
            return None  # what did reach the disk is relayed later, from the file

    def _group_write(self, *, take: bool):
        # The caller set _syncing: no other thread opens, writes or swaps a segment now.
        handle = None
        try:
            if self._file is None:
                self._segment_open()
            with self._lock:
                lines, self._pending, upto = self._pending, [], self._appended
                for _, queued in lines:
                    self._keep(queued)
                handle, path, payloads = self._file, self._path, self._buffered
                name = self._name_unsynced
                if take:  # later lines go to a new segment
                    self._file, self._path, self._buffered = None, None, []
            if lines:
                handle.write(b"".join(line for line, _ in lines))
                handle.flush()
            os.fsync(handle.fileno())
            if name:
                _fsync_directory(self.directory)  # the new name survives a power cut too
        except OSError:
            with self._synced_cond:
                self._discard(handle)
                self._syncing = False
                self._synced_cond.notify_all()
            raise
        with self._synced_cond:
            if name and self._file is handle:
                self._name_unsynced = False
            self._synced = max(self._synced, upto)
            self._syncing = False
            self._synced_cond.notify_all()
        return (handle, path, payloads) if take else None

    def _segment_open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.directory / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.jsonl"
            handle = open(path, "ab")  # noqa: SIM115 - kept open across calls
            fcntl.flock(handle, fcntl.LOCK_EX)
            if os.fstat(handle.fileno()).st_nlink:
                break
            handle.close()  # a relay took it, still empty, before the lock: write elsewhere
        with self._lock:
            self._file, self._path, self._buffered = handle, path, []
            self._name_unsynced = True

    def _keep(self, payloads: list[dict]) -> None:
        # With the lock held: the open segment's payloads, kept for the relay while small.
        if self._buffered is not None:
            if len(self._buffered) + len(payloads) > self.MAX_BUFFERED:
                self._buffered = None  # the relay reads this segment from disk instead
            else:
                self._buffered.extend(payloads)

    def _lost_line(self, line: int) -> bool:
        return any(first <= line <= last for first, last in self._lost)

    def _discard(self, handle) -> None:
        # With the lock held, after a failed write or fsync: every line not known to be on
        # disk is refused, and later lines go to a new segment. Whatever did reach the disk
        # is relayed as usual.
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        if self._file is handle:
            self._file, self._path, self._buffered = None, None, []
        self._pending = []
        self._lost = [*self._lost[-99:], (self._synced + 1, self._appended)]

    def rotate(self) -> None:
        """Close the open segment so any relay can take it."""
        taken = self.take()
        if taken is not None:
            taken[0].close()  # releases the lock

    def segments(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.jsonl"))

    def size(self) -> int:
        """Events waiting in the spool (all segments, open ones included)."""
        total = 0
        for path in self.segments():
            for payloads in _lines(path):
                total += len(payloads)
        return total

    def oldest_received_at(self) -> datetime | None:
        for path in self.segments():
            for payloads in _lines(path):
                for payload in payloads:
                    return datetime.fromisoformat(payload["received_at"])
        return None

    def drain(self, publish, chunk: int = RELAY_GROUP, *, rotate: bool = True) -> int:
        """Publish every segment nobody else holds, deleting each once confirmed."""
        if rotate:
            self.rotate()
        sent = 0
        for path in self.segments():
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer or another relay has it
                if not path.exists():
                    continue  # another relay finished it between listing and locking
                payloads = [p for line in _lines(path) for p in line]
                sent += _publish_and_delete(publish, path, payloads, chunk)
        return sent


def _publish_and_delete(publish, path: Path, payloads: list[dict], chunk: int) -> int:
    for start in range(0, len(payloads), chunk):
        publish(payloads[start : start + chunk])
    path.unlink()
    return len(payloads)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(path: Path) -> Iterator[list[dict]]:
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                try:
                    yield json.loads(raw)
                except ValueError:
                    # A torn last line from a crash mid-write: that request never got a 202.
                    logger.warning("skipping a torn line in %s", path)
    except FileNotFoundError:
        return


class _Process:
    """The per-process publisher, spool and relay (re-created after a fork)."""

    def __init__(self):
        self.pid = os.getpid()
        self.broker = BrokerPublisher(
            settings.CELERY_BROKER_URL,
            settings.MVSIC_EVENTS_QUEUE,
            timeout=settings.MVSIC_PUBLISH_TIMEOUT_SECONDS,
            pause=settings.MVSIC_BROKER_PAUSE_SECONDS,
        )
        self.spool = Spool(settings.MVSIC_SPOOL_DIR)
        self.spool_first = settings.MVSIC_ACCEPT_VIA == "spool"
        self._wanted = threading.Event()
        self._relay: threading.Thread | None = None
        self._relay_lock = threading.Lock()
        self._stopping = threading.Event()

    def relay_start(self) -> None:
        relay = self._relay
        if relay is not None and relay.is_alive():
            return  # every request calls this: no lock on the way
        with self._relay_lock:
            if self._relay is None or not self._relay.is_alive():
                self._relay = threading.Thread(target=self._relay_run, name="mvsic-relay")
                self._relay.daemon = True
                self._relay.start()

    def relay_soon(self) -> None:
        """New lines are in the spool: the relay takes them after the linger time."""
        # The relay clears the flag before it takes the segment, so a line appended before
        # the flag was seen set is in what it takes; skipping set() spares its lock.
        if not self._wanted.is_set():
            self._wanted.set()

    def stop(self) -> None:
        """Stop the relay (it hands over what it can first); what is left stays on disk."""
        self._stopping.set()
        self._wanted.set()
        if self._relay is not None:
            self._relay.join(timeout=10)
        self.spool.rotate()

    def _relay_run(self) -> None:
        interval = settings.MVSIC_RELAY_INTERVAL_SECONDS
        linger = settings.MVSIC_RELAY_LINGER_SECONDS
        while True:
            if self._wanted.wait(interval) and not self._stopping.is_set():
                self._stopping.wait(linger)  # let a group gather
            self._wanted.clear()
            if not self.broker.available():
                if self._stopping.is_set():
                    return
                continue
            try:
                self._relay_open_segment()
                if self.spool.segments():
                    # Segments of dead processes and of earlier failed attempts. In broker
                    # mode the open segment only exists during outages: close it first.
                    sent = self.spool.drain(self.publish_to_broker, rotate=not self.spool_first)
                    if sent:
                        logger.info("relayed %d spooled events to the broker", sent)
            except PublishFailed as exc:
                logger.info("relay waiting for the broker: %s", exc)
            except Exception:
                logger.exception("relay failed; will retry")
            if self._stopping.is_set():
                return

    def _relay_open_segment(self) -> int:
        if not self.spool_first:
            return 0
        taken = self.spool.take()
        if taken is None:
            return 0
        handle, path, payloads = taken
        with handle:  # holds the segment's lock until it is published and deleted
            if payloads is None:
                payloads = [p for line in _lines(path) for p in line]
            return _publish_and_delete(self.publish_to_broker, path, payloads, RELAY_GROUP)

    def publish_to_broker(self, payloads: list[dict]) -> None:
        self.broker.publish(payloads)

    def spool_take(self, payloads: list[dict]) -> None:
        """Append to the spool (raises OSError if the disk refuses); the relay follows."""
        self.spool.append(payloads)
        self.relay_soon()


_state: _Process | None = None
_state_lock = threading.Lock()


def process_state() -> _Process:
    global _state
    state = _state
    if state is not None and state.pid == os.getpid():
        return state  # the common case, without the lock
    with _state_lock:
        if _state is None or _state.pid != os.getpid():
            _state = _Process()
        return _state


def events_publish(payloads: list[dict]) -> str:
    """Durably hand over accepted events: returns "spool" or "broker", whichever took them.

    The first choice is `MVSIC_ACCEPT_VIA`; the other is tried if it fails. Raises
    PublishFailed only when neither the broker nor the spool could take them.
    """
    state = process_state()
    state.relay_start()  # also delivers segments left by an earlier, killed process
    ways = [
        ("spool", state.spool_take, OSError),
        ("broker", state.publish_to_broker, PublishFailed),
    ]
    if not state.spool_first:
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


def queue_status() -> dict:
    """Depth and consumers of the events queue, and when its first waiting event arrived.

    The head is read with a get that is never acknowledged: closing the channel returns it.
    """
    queue = next(q for q in settings.CELERY_TASK_QUEUES if q.name == settings.MVSIC_EVENTS_QUEUE)
    status = {"queue": queue.name, "queue_depth": None, "queue_consumers": None}
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            channel = conn.channel()
            _, depth, consumers = queue(channel).queue_declare(passive=True)
            status.update(queue_depth=depth, queue_consumers=consumers)
            if depth:
                message = channel.basic_get(queue.name, no_ack=False)
                if message is not None:
                    payload = message_payloads(json.loads(message.body))[0]
                    status["head_received_at"] = datetime.fromisoformat(payload["received_at"])
            channel.close()
    except Exception as exc:  # report, never raise: this feeds a status page
        status["broker_error"] = f"{type(exc).__name__}: {exc}"
    return status


def process_stop() -> None:
    """Stop this process's relay; the next publish starts afresh (gunicorn's worker_exit)."""
    global _state
    with _state_lock:
        state, _state = _state, None
    if state is not None and state.pid == os.getpid():
        state.stop()


def relay_start() -> None:
    """Start this process's relay (web processes call it at start to pick up old segments)."""
    process_state().relay_start()
