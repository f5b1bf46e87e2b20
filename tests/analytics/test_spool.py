"""analytics.spool: group-committed, fsync'd segments that relays claim, publish and delete."""

import os
import threading
import time

import pytest

from analytics import spool as spool_module
from analytics.spool import Spool, read_segment
from tests.conftest import make_payload


def test_a_segment_held_by_a_live_writer_is_left_alone(tmp_path):
    writer, relay = Spool(tmp_path), Spool(tmp_path)
    writer.append([make_payload(1)])
    published = []
    assert relay.drain(published.extend) == 0  # the writer still holds its segment
    assert published == [] and len(relay.segments()) == 1
    writer.rotate()
    assert relay.drain(published.extend) == 1
    assert relay.segments() == []


def test_a_segment_whose_publish_fails_stays_for_the_next_drain(tmp_path):
    spool = Spool(tmp_path)
    spool.append([make_payload(1), make_payload(1)])

    def refuse(payloads):
        raise OSError("the broker is away")

    with pytest.raises(OSError):
        spool.drain(refuse)
    assert spool.size() == 2
    published = []
    assert spool.drain(published.extend) == 2 and len(published) == 2
    assert spool.segments() == []


def test_concurrent_appends_share_fsyncs_and_all_reach_the_disk(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    fsyncs = []
    real_fsync = os.fsync

    def slow_fsync(fd):
        fsyncs.append(fd)
        time.sleep(0.005)  # a slow disk: writers pile up behind one fsync
        real_fsync(fd)

    monkeypatch.setattr(spool_module.os, "fsync", slow_fsync)
    ids = [[f"{t}-{i}" for i in range(20)] for t in range(8)]

    def writer(mine):
        for event_id in mine:
            spool.append([{"id": event_id}])

    threads = [threading.Thread(target=writer, args=(mine,)) for mine in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with spool.take_open() as segment:
        written = sorted(p["id"] for line in read_segment(segment.path) for p in line)
        assert sorted(p["id"] for p in segment.payloads()) == written
    assert written == sorted(i for mine in ids for i in mine)
    assert len(fsyncs) < 160 / 2, f"{len(fsyncs)} fsyncs for 160 lines"


class _FsyncFailsOnce:
    def __init__(self):
        self.failed = False

    def __call__(self, fd):
        if not self.failed:
            self.failed = True
            raise OSError(5, "Input/output error")
        os.fdatasync(fd)


def test_a_failed_fsync_refuses_only_the_lines_it_did_not_cover(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    spool.append([{"id": "synced-before"}])
    monkeypatch.setattr(spool_module.os, "fsync", _FsyncFailsOnce())
    with pytest.raises(OSError):  # that request is not answered 202 from the spool
        spool.append([{"id": "not-synced"}])
    spool.append([{"id": "after"}])  # a new segment
    spool._sync(1)  # the first line is still known to be on disk: no error
    with pytest.raises(OSError):
        spool._sync(2)
    assert len(spool.segments()) == 2


def test_a_segment_too_big_for_memory_is_read_back_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(Spool, "MAX_BUFFERED", 3)
    spool = Spool(tmp_path)
    spool.append([{"id": "1"}, {"id": "2"}])
    with spool.take_open() as segment:
        assert segment._payloads is not None  # kept in memory
        assert [p["id"] for p in segment.payloads()] == ["1", "2"]
    spool.append([{"id": "3"}, {"id": "4"}])
    spool.append([{"id": "5"}, {"id": "6"}])
    with spool.take_open() as segment:
        assert segment._payloads is None  # read from the file
        assert [p["id"] for p in segment.payloads()] == ["3", "4", "5", "6"]


def test_writers_go_on_appending_while_a_take_fsyncs(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    spool.append([{"id": "synced"}])
    spool._queue_line([{"id": "written"}])  # not on disk yet: the take writes it
    entered, gate = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def gated_fsync(fd):
        entered.set()
        gate.wait(10)  # a slow disk
        real_fsync(fd)

    monkeypatch.setattr(spool_module.os, "fsync", gated_fsync)
    taken = {}
    taker = threading.Thread(target=lambda: taken.update(result=spool.take_open()))
    taker.start()
    assert entered.wait(5)
    lines = []
    writer = threading.Thread(target=lambda: lines.append(spool._queue_line([{"id": "next"}])))
    writer.start()
    writer.join(2)
    still_writing = writer.is_alive()
    gate.set()
    taker.join(10)
    writer.join(10)
    assert not still_writing, "an append waited for the take's fsync to write its line"
    with taken["result"] as segment:
        assert [p["id"] for p in segment.payloads()] == ["synced", "written"]
        assert spool._path != segment.path  # the next line went to a new segment
    spool._sync(lines[0])
    assert [p["id"] for line in read_segment(spool._path) for p in line] == ["next"]


def test_a_segment_name_is_synced_once_with_its_first_line(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    fsyncs, dir_syncs = [], []
    real_fsync, real_dir_sync = os.fsync, spool_module.fsync_directory

    def counted_fsync(fd):
        fsyncs.append(fd)
        real_fsync(fd)

    def counted_dir_sync(directory):
        dir_syncs.append(directory)
        real_dir_sync(directory)

    monkeypatch.setattr(spool_module.os, "fsync", counted_fsync)
    monkeypatch.setattr(spool_module, "fsync_directory", counted_dir_sync)
    spool.append([{"id": "1"}])
    spool.append([{"id": "2"}])
    assert len(dir_syncs) == 1
    before = len(fsyncs)
    with spool.take_open() as segment:  # every line is on disk: no fsync needed
        assert [p["id"] for p in segment.payloads()] == ["1", "2"]
    assert len(fsyncs) == before
    spool.append([{"id": "3"}])  # a new segment, a new name
    assert len(dir_syncs) == 2


def test_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "1-dead.jsonl"
    path.write_text('[{"id": "1"}]\n[{"id": "2"}, {"id": "3"}]\n[{"id": "tor')
    assert [p["id"] for line in read_segment(path) for p in line] == ["1", "2", "3"]
    assert Spool(tmp_path).size() == 3
