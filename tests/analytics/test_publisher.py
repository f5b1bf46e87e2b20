"""analytics.publisher against the real broker: confirms, the spool and the relay."""

import json
import os
import threading
import time
import uuid

import pytest
from amqp import spec
from amqp.method_framing import frame_writer
from amqp.serialization import dumps
from django.conf import settings
from kombu import Connection, Queue

from analytics import publisher
from analytics.tasks import record_event, record_events
from tests.conftest import make_payload, wait_for

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1//"
BROKER_URL = settings.CELERY_BROKER_URL


def ids(payloads: list[dict]) -> list[str]:
    return sorted(p["id"] for p in payloads)


@pytest.fixture
def fresh_state(settings, tmp_path):
    """This process's publisher, spool and relay, built from the settings of the test
    (requests wait for the broker's confirm unless the test says otherwise)."""
    settings.MVSIC_SPOOL_DIR = tmp_path / "spool"
    settings.MVSIC_ACCEPT_VIA = "broker"
    publisher.process_stop()
    yield
    publisher.process_stop()


def test_message_is_a_celery_task_call_of_record_event():
    payload = make_payload(1)
    message = publisher.task_message(payload)
    assert record_event.name == publisher.TASK_NAME
    assert message.headers["task"] == "analytics.record_event"
    assert message.headers["id"] == payload["id"]
    assert message.properties["delivery_mode"] == 2  # persistent
    assert json.loads(message.body) == [[payload], {}, publisher._EMBED]


def test_a_group_of_events_is_one_celery_task_call_of_record_events():
    payloads = [make_payload(1), make_payload(2, "like")]
    message = publisher.events_message(payloads)
    assert record_events.name == publisher.TASK_NAME_MANY
    assert message.headers["task"] == "analytics.record_events"
    assert message.headers["id"] == message.properties["correlation_id"] == payloads[0]["id"]
    assert message.properties["delivery_mode"] == 2
    assert json.loads(message.body) == [[payloads], {}, publisher._EMBED]


def test_consecutive_payloads_are_packed_in_order_around_other_messages():
    p, m = [make_payload(1) for _ in range(5)], publisher.task_message(make_payload(1))
    packed = list(publisher._packed([p[0], p[1], p[2], m, p[3], p[4]], 2))
    assert packed == [[p[0], p[1]], [p[2]], m, [p[3], p[4]]]


class RecordingTransport:
    def __init__(self):
        self.written: list[bytes] = []

    def write(self, data) -> None:
        self.written.append(bytes(data))


def test_framer_builds_the_frames_py_amqp_writes_for_the_events_message():
    transport = RecordingTransport()
    connection = type("Connection", (), {"frame_max": 131072, "bytes_sent": 0})()
    write_frame = frame_writer(connection, transport)
    framer = publisher.TaskFramer(3, "", "mvsic.events", 131072)
    method_args = dumps("Bssbb", (0, "", "mvsic.events", True, False))
    odd = make_payload(7, "like", listener="fan-ÿ✓" * 9, source="x" * 64, seconds=31.5)
    unlike = make_payload(2, "unlike", ts="2026-01-01T00:00:00")
    for group in ([make_payload(1)], [odd], [unlike, odd, make_payload(1)]):
        transport.written.clear()
        write_frame(1, 3, spec.Basic.Publish, method_args, publisher.events_message(group))
        assert framer.frames(group) == b"".join(transport.written)


def test_framer_leaves_other_ids_and_bodies_larger_than_a_frame_to_py_amqp():
    framer = publisher.TaskFramer(1, "", "mvsic.events", 4096)
    assert framer.frames([make_payload(1, id="{" + str(uuid.uuid4()) + "}")]) is None
    assert framer.frames([make_payload(1, source="x" * 5000)]) is None
    assert framer.frames([make_payload(1) for _ in range(30)]) is None  # over 4096 bytes
    assert framer.frames([make_payload(1)]) is not None


def test_framed_and_py_amqp_messages_reach_the_queue_in_order():
    # A queue of its own: relays of earlier tests in this process may still publish events.
    name = f"mvsic.test.framing.{uuid.uuid4().hex[:8]}"
    broker = publisher.BrokerPublisher(
        BROKER_URL, settings.MVSIC_EVENTS_QUEUE, timeout=5, pause=5, per_message=2
    )
    broker.queue = Queue(name, routing_key=name, durable=False)
    p = [make_payload(1), make_payload(2), make_payload(3, id="{" + str(uuid.uuid4()) + "}")]
    big = make_payload(4, source="x" * 64)
    # Framed: [p0, p1] and [p0]; py-amqp: the single task, a group with an odd id, a group
    # larger than one frame.
    broker._connect()
    broker._framer._body_max = len(publisher._task_body([p[0], p[1]])) + 10
    sent = [p[0], p[1], publisher.task_message(p[1]), p[2], p[0], big, big, p[0]]
    try:
        broker.publish(sent)
        with Connection(BROKER_URL) as conn:
            channel = conn.channel()
            got = [channel.basic_get(name, no_ack=True) for _ in range(6)]
    finally:
        with Connection(BROKER_URL) as conn:
            conn.default_channel.queue_delete(name)
    assert got[-1] is None
    got = got[:-1]
    carried = [publisher.message_payloads(json.loads(m.body)) for m in got]
    assert carried == [[p[0], p[1]], [p[1]], [p[2], p[0]], [big, big], [p[0]]]
    assert [m.headers["task"] for m in got] == [
        publisher.TASK_NAME_MANY, publisher.TASK_NAME, *[publisher.TASK_NAME_MANY] * 3
    ]  # fmt: skip
    assert [m.headers["id"] for m in got] == [c[0]["id"] for c in carried]
    assert all(m.properties["delivery_mode"] == 2 for m in got)


def test_confirmed_publish_lands_in_the_durable_queue(queue, fresh_state):
    payloads = [make_payload(1) for _ in range(20)]
    assert publisher.events_publish(payloads) == "broker"
    assert ids(queue()) == ids(payloads)


def test_broker_down_spools_quickly_and_relay_publishes_later(queue, fresh_state, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    payloads = [make_payload(1) for _ in range(5)]
    started = time.monotonic()
    assert publisher.events_publish(payloads) == "spool"
    assert publisher.events_publish(payloads[:1]) == "spool"  # paused: no broker attempt
    assert time.monotonic() - started < 2
    spool = publisher.process_state().spool
    assert spool.size() == 6
    assert spool.oldest_received_at().isoformat() == payloads[0]["received_at"]

    # The broker "comes back": the same process now reaches a broker that answers.
    state = publisher.process_state()
    state.broker.url, state.broker._down_until = BROKER_URL, 0.0
    settings.CELERY_BROKER_URL = BROKER_URL  # for the test's own reading of the queue
    assert ids(queue()) == ids(payloads + payloads[:1])  # waits for the relay to empty it


def test_relay_thread_delivers_segments_left_by_a_dead_process(queue, fresh_state):
    spool_dir = settings.MVSIC_SPOOL_DIR
    spool_dir.mkdir(parents=True)
    payloads = [make_payload(1) for _ in range(3)]
    # A killed writer leaves a segment (lock released by the kernel) with a torn last line.
    (spool_dir / "1-dead.jsonl").write_text(json.dumps(payloads) + "\n" + '[{"id": "tor')
    publisher.relay_start()
    wait_for(lambda: not (spool_dir / "1-dead.jsonl").exists(), timeout=10)
    assert ids(queue()) == ids(payloads)


def test_a_segment_held_by_a_live_writer_is_left_alone(tmp_path):
    writer, relay = publisher.Spool(tmp_path), publisher.Spool(tmp_path)
    writer.append([make_payload(1)])
    published = []
    assert relay.drain(published.extend) == 0  # the writer still holds its segment
    assert published == [] and len(relay.segments()) == 1
    writer.rotate()
    assert relay.drain(published.extend) == 1
    assert relay.segments() == []


def test_unconfirmed_publish_raises(broker_queues):
    broker = publisher.BrokerPublisher(
        CLOSED_PORT_URL, settings.MVSIC_EVENTS_QUEUE, timeout=0.5, pause=5
    )
    with pytest.raises(publisher.PublishFailed):
        broker.publish([publisher.task_message(make_payload(1))])
    assert not broker.available()
    with pytest.raises(publisher.PublishFailed, match="unavailable"):
        broker.publish([publisher.task_message(make_payload(1))])


# --- spool first (MVSIC_ACCEPT_VIA=spool, the default) ------------------------------------------
def test_spool_first_answers_from_disk_and_the_relay_hands_over_soon(queue, fresh_state, settings):
    settings.MVSIC_ACCEPT_VIA = "spool"
    payloads = [make_payload(1) for _ in range(7)]
    assert publisher.events_publish(payloads[:3]) == "spool"
    assert publisher.events_publish(payloads[3:]) == "spool"
    spool = publisher.process_state().spool
    assert ids(queue()) == ids(payloads)  # waits for the relay to empty the spool
    wait_for(lambda: spool.segments() == [], timeout=5, message="segment not deleted")


def test_spool_first_falls_back_to_the_broker_when_the_disk_refuses(
    queue, fresh_state, settings, tmp_path
):
    settings.MVSIC_ACCEPT_VIA = "spool"
    settings.MVSIC_SPOOL_DIR = tmp_path / "not-a-directory"
    settings.MVSIC_SPOOL_DIR.write_text("a file where the spool directory should be")
    payloads = [make_payload(1), make_payload(1)]
    assert publisher.events_publish(payloads) == "broker"
    assert ids(queue()) == ids(payloads)
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    publisher.process_stop()
    with pytest.raises(publisher.PublishFailed, match="spool: .*broker: "):
        publisher.events_publish([make_payload(1)])


def test_concurrent_appends_share_fsyncs_and_all_reach_the_disk(tmp_path, monkeypatch):
    spool = publisher.Spool(tmp_path)
    fsyncs = []
    real_fsync = os.fsync

    def slow_fsync(fd):
        fsyncs.append(fd)
        time.sleep(0.005)  # a slow disk: writers pile up behind one fsync
        real_fsync(fd)

    monkeypatch.setattr(publisher.os, "fsync", slow_fsync)
    ids = [[f"{t}-{i}" for i in range(20)] for t in range(8)]

    def writer(mine):
        for event_id in mine:
            spool.append([{"id": event_id}])

    threads = [threading.Thread(target=writer, args=(mine,)) for mine in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handle, path, payloads = spool.take()
    handle.close()
    written = sorted(p["id"] for line in publisher._lines(path) for p in line)
    assert written == sorted(i for mine in ids for i in mine)
    assert sorted(p["id"] for p in payloads) == written
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
    spool = publisher.Spool(tmp_path)
    spool.append([{"id": "synced-before"}])
    monkeypatch.setattr(publisher.os, "fsync", _FsyncFailsOnce())
    with pytest.raises(OSError):  # that request is not answered 202 from the spool
        spool.append([{"id": "not-synced"}])
    spool.append([{"id": "after"}])  # a new segment
    spool._sync(1)  # the first line is still known to be on disk: no error
    with pytest.raises(OSError):
        spool._sync(2)
    assert len(spool.segments()) == 2


def test_a_segment_too_big_for_memory_is_read_back_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(publisher.Spool, "MAX_BUFFERED", 3)
    spool = publisher.Spool(tmp_path)
    spool.append([{"id": "1"}, {"id": "2"}])
    handle, _, payloads = spool.take()
    handle.close()
    assert [p["id"] for p in payloads] == ["1", "2"]
    spool.append([{"id": "3"}, {"id": "4"}])
    spool.append([{"id": "5"}, {"id": "6"}])
    handle, path, payloads = spool.take()
    handle.close()
    assert payloads is None
    assert [p["id"] for line in publisher._lines(path) for p in line] == ["3", "4", "5", "6"]


def test_writers_go_on_appending_while_a_take_fsyncs(tmp_path, monkeypatch):
    spool = publisher.Spool(tmp_path)
    spool.append([{"id": "synced"}])
    spool._queue_line([{"id": "written"}])  # not on disk yet: the take writes it
    entered, gate = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def gated_fsync(fd):
        entered.set()
        gate.wait(10)  # a slow disk
        real_fsync(fd)

    monkeypatch.setattr(publisher.os, "fsync", gated_fsync)
    taken = {}
    taker = threading.Thread(target=lambda: taken.update(result=spool.take()))
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
    handle, path, payloads = taken["result"]
    handle.close()
    assert [p["id"] for p in payloads] == ["synced", "written"]
    assert spool._path != path  # the next line went to a new segment
    spool._sync(lines[0])
    assert [p["id"] for line in publisher._lines(spool._path) for p in line] == ["next"]


def test_a_segment_name_is_synced_once_with_its_first_line(tmp_path, monkeypatch):
    spool = publisher.Spool(tmp_path)
    fsyncs, dir_syncs = [], []
    real_fsync, real_dir_sync = os.fsync, publisher._fsync_directory

    def counted_fsync(fd):
        fsyncs.append(fd)
        real_fsync(fd)

    def counted_dir_sync(directory):
        dir_syncs.append(directory)
        real_dir_sync(directory)

    monkeypatch.setattr(publisher.os, "fsync", counted_fsync)
    monkeypatch.setattr(publisher, "_fsync_directory", counted_dir_sync)
    spool.append([{"id": "1"}])
    spool.append([{"id": "2"}])
    assert len(dir_syncs) == 1
    before = len(fsyncs)
    handle, _, payloads = spool.take()  # every line is on disk: no fsync needed
    handle.close()
    assert len(fsyncs) == before
    assert [p["id"] for p in payloads] == ["1", "2"]
    spool.append([{"id": "3"}])  # a new segment, a new name
    assert len(dir_syncs) == 2
