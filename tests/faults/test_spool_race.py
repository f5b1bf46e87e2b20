"""The spool under an unlucky interleaving: another process's relay takes a segment in the
instant between its writer creating it and locking it."""

import errno
import fcntl

import pytest

from analytics import spool as spool_module
from analytics.spool import Spool

pytestmark = [pytest.mark.fault]


def test_a_segment_taken_before_its_writer_locked_it_loses_nothing(tmp_path, monkeypatch):
    writer, relay = Spool(tmp_path), Spool(tmp_path)
    published: list[dict] = []
    real_flock = fcntl.flock
    raced = []

    def flock(handle, operation):
        # The writer is about to lock its new, empty segment: another relay runs first and
        # (finding it unlocked) publishes nothing from it and deletes it.
        if operation == fcntl.LOCK_EX and handle.mode == "ab" and not raced:
            raced.append(relay.drain(published.extend))
        return real_flock(handle, operation)

    monkeypatch.setattr(spool_module.fcntl, "flock", flock)
    writer.append([{"id": "accepted-1"}])  # the request answers 202 after this returns
    writer.append([{"id": "accepted-2"}])
    assert raced == [0]
    assert writer.size() == 2, "an event answered with 202 is not in the spool"
    writer.rotate()
    assert relay.drain(published.extend) == 2
    assert [p["id"] for p in published] == ["accepted-1", "accepted-2"]
    assert not writer.segments()


class _DiskFullOnce:
    """A segment file whose next write stores half the line, then fails as a full disk does."""

    def __init__(self, real):
        self.real, self.failed = real, False

    def write(self, data: bytes) -> int:
        if self.failed:
            return self.real.write(data)
        self.failed = True
        self.real.write(data[: len(data) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_write_that_failed_half_way_does_not_spoil_the_next_accepted_line(tmp_path):
    spool = Spool(tmp_path)
    spool.append([{"id": "accepted-1"}])
    spool._file = _DiskFullOnce(spool._file)
    with pytest.raises(OSError):  # that request is answered 503: nothing was accepted
        spool.append([{"id": "refused"}])
    spool.append([{"id": "accepted-2"}])  # room again: answered 202
    spool.rotate()
    published: list[dict] = []
    spool.drain(published.extend)
    assert [p["id"] for p in published] == ["accepted-1", "accepted-2"]
