"""The local spool: what makes a 202 durable before the broker has the events.

Append-only JSON-lines segments on local disk; each line is a list of event payloads. A
writer holds an exclusive lock on its open segment; closed segments (and those of dead
processes, whose locks the kernel released) can be claimed by any relay, which publishes
them and deletes them. Lines are queued in memory and written by a group commit: one
writer writes every queued line and fsyncs for everyone.
"""

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

RELAY_GROUP = 500  # events per publish when a segment is handed to the broker

Publish = Callable[[list[dict]], None]


class Segment:
    """A closed segment, locked by its holder until it is published and deleted."""

    def __init__(self, handle: BinaryIO, path: Path, payloads: list[dict] | None):
        self.handle = handle
        self.path = path
        self._payloads = payloads  # None when they were not all kept in memory

    def payloads(self) -> list[dict]:
        if self._payloads is None:
            self._payloads = [p for line in read_segment(self.path) for p in line]
        return self._payloads

    def publish_and_delete(self, publish: Publish, chunk: int = RELAY_GROUP) -> int:
        """Publish every payload (raises what `publish` raises), then delete the file."""
        payloads = self.payloads()
        for start in range(0, len(payloads), chunk):
            publish(payloads[start : start + chunk])
        self.path.unlink()
        return len(payloads)

    def release(self) -> None:
        self.handle.close()  # releases the lock

    def __enter__(self) -> "Segment":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Spool:
    """The segments of one directory. The payloads of the open segment are also kept in
    memory (up to `MAX_BUFFERED`), so the relay can publish them without reading the file."""

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

    # -- writers --------------------------------------------------------------------------------
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

    # -- the relay ------------------------------------------------------------------------------
    def take_open(self) -> Segment | None:
        """Close the open segment for writers and hand it, still locked, to the caller.

        Writers go on queueing lines for a new segment while the taken one is fsync'd."""
        with self._synced_cond:
            while self._syncing:
                self._synced_cond.wait()
            if self._file is None and not self._pending:
                return None
            if not self._pending and self._synced >= self._appended and not self._name_unsynced:
                taken = Segment(self._file, self._path, self._buffered)  # every line is on disk
                self._file, self._path, self._buffered = None, None, []
                return taken
            self._syncing = True
        try:
            return self._group_write(take=True)
        except OSError:
            return None  # what did reach the disk is relayed later, from the file

    def rotate(self) -> None:
        """Close the open segment so any relay can take it."""
        taken = self.take_open()
        if taken is not None:
            taken.release()

    def drain(self, publish: Publish, *, rotate: bool = True) -> int:
        """Publish every closed segment nobody else holds, deleting each once published."""
        if rotate:
            self.rotate()
        sent = 0
        for path in self.segments():
            try:
                handle = open(path, "rb")  # noqa: SIM115 - released below
            except FileNotFoundError:
                continue
            with Segment(handle, path, None) as segment:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer or another relay has it
                if not path.exists():
                    continue  # another relay finished it between listing and locking
                sent += segment.publish_and_delete(publish)
        return sent

    # -- status ---------------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.jsonl"))

    def size(self) -> int:
        """Events waiting in the spool (all segments, open ones included)."""
        return sum(len(line) for path in self.segments() for line in read_segment(path))

    def oldest_received_at(self) -> datetime | None:
        for path in self.segments():
            for line in read_segment(path):
                for payload in line:
                    return datetime.fromisoformat(payload["received_at"])
        return None

    # -- the group commit -----------------------------------------------------------------------
    def _group_write(self, *, take: bool) -> Segment | None:
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
                fsync_directory(self.directory)  # the new name survives a power cut too
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
        return Segment(handle, path, payloads) if take else None

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


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment(path: Path) -> Iterator[list[dict]]:
    """The lines of a segment file, skipping a torn last line."""
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
