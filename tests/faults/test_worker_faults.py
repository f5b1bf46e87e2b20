"""Scenarios 1 and 2: workers die mid-stream; what they had not acknowledged comes back and
is counted once, and what they had committed but not acknowledged changes nothing twice."""

import time

import pytest

from analytics.models import Event
from tests.conftest import wait_for
from tests.faults.conftest import (
    EventStream,
    HttpSender,
    Ledger,
    assert_counted_exactly,
    counts_stored,
    http_session,
    post_events,
    queue_ready_events,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]


def test_worker_killed_again_and_again_mid_stream_loses_and_doubles_nothing(rig, catalog):
    """1a: kill -9 of the worker three times while events flow, each time with a new worker
    starting while the stream goes on; one event per message, so many are in flight."""
    started = time.monotonic()
    web = rig.web(MVSIC_EVENTS_PER_MESSAGE=1)
    worker = rig.worker(MVSIC_EVENT_BATCH_SIZE=20)
    ledger = Ledger()
    total = 240
    sender = HttpSender(
        web.url, EventStream(catalog.track_ids, seed=101), ledger, requests_total=total, rate=20
    )
    sender.start()
    counted_at_kills = []
    for fraction in (0.25, 0.5, 0.75):
        sender.wait_done(int(total * fraction))
        wait_for(lambda: Event.objects.count() > 0, timeout=30, message="nothing counted yet")
        worker.kill()  # SIGKILL to the main process and its pool
        counted_at_kills.append(Event.objects.count())
        worker = rig.worker(MVSIC_EVENT_BATCH_SIZE=20)
    sender.finish()
    assert ledger.statuses() == {202: total}, ledger.summary()
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after killing the worker")
    assert_counted_exactly(ledger, catalog)
    assert counted_at_kills == sorted(counted_at_kills), counted_at_kills
    print(
        f"\n1a: {ledger.summary()}; killed the worker 3 times (stored events at the kills: "
        f"{counted_at_kills}); idle {drained:.1f}s after the stream; {stamp(started)}s"
    )


def test_batch_worker_killed_with_prefetched_events_is_redelivered(rig, catalog):
    """1b: kill -9 of a whole batch worker holding prefetched, unacknowledged events."""
    started = time.monotonic()
    web = rig.web()
    # A slow flush keeps hundreds of delivered events unacknowledged in the worker's buffer.
    worker = rig.worker(MVSIC_EVENT_FLUSH_SECONDS=4, MVSIC_EVENT_BATCH_SIZE=5000)
    ledger = Ledger()
    total = 240
    sender = HttpSender(
        web.url, EventStream(catalog.track_ids, seed=102), ledger, requests_total=total, rate=20
    )
    sender.start()
    sender.wait_done(total // 3)

    def holding():
        # Accepted, not counted, not waiting in the queue: delivered to the worker, unacked.
        ready, stored = queue_ready_events(), Event.objects.count()
        held = len(ledger.accepted) - stored - ready
        return held >= 100 and (held, ready)

    held, ready_before = wait_for(
        holding, timeout=30, message="the worker holds no unacknowledged events"
    )
    worker.kill()  # SIGKILL to the main process and its pool
    ready_after = queue_ready_events()
    assert ready_after >= ready_before + held // 2, "the killed worker's events did not return"
    time.sleep(2)  # the stream goes on with nobody consuming
    rig.worker()
    sender.finish()
    assert ledger.statuses() == {202: total}, ledger.summary()
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after killing the batch worker")
    assert_counted_exactly(ledger, catalog)
    print(
        f"\n1b: {ledger.summary()}; killed the worker holding about {held} unacked events "
        f"(ready in the queue {ready_before} -> {ready_after}); "
        f"idle {drained:.1f}s after the stream; {stamp(started)}s"
    )


def test_crash_after_commit_before_ack_changes_nothing_on_redelivery(rig, catalog, tmp_path):
    """2: the worker dies after committing a batch and before acknowledging it."""
    started = time.monotonic()
    flag = tmp_path / "crash-before-ack"
    web = rig.web()
    crash_env = {
        "app": "tests.faults.crashing_worker",
        "MVSIC_CRASH_BEFORE_ACK_FILE": flag,
        "MVSIC_EVENT_FLUSH_SECONDS": 0.5,
    }
    worker = rig.worker(**crash_env)
    ledger = Ledger()
    stream = EventStream(catalog.track_ids, seed=103)
    session = http_session()
    for _ in range(60):
        post_events(session, web.url, stream.batch(10), ledger)
    wait_idle(set(ledger.accepted), timeout=60, what="before the crash")

    # One batch is committed, then the worker exits before its ack.
    flag.touch()
    crash_batch = stream.batch(50)
    assert post_events(session, web.url, crash_batch, ledger).status == 202
    wait_for(lambda: worker.proc.poll() is not None, timeout=30, message="the worker did not crash")
    assert worker.proc.returncode == 70 and not flag.exists()
    worker.kill()  # its pool processes
    committed = {str(i) for i in Event.objects.values_list("id", flat=True)}
    in_crashed_batch = {e["id"] for e in crash_batch} & committed
    assert in_crashed_batch, "the crashed batch was not committed"
    after_crash = counts_stored(catalog)
    redelivered = queue_ready_events()
    assert redelivered >= len(in_crashed_batch), "the unacknowledged batch did not come back"

    # The redelivered batch is counted again by a new worker: nothing changes.
    worker = rig.worker(**crash_env)
    wait_idle(set(ledger.accepted), timeout=60, what="redelivery after the crash")
    if committed == set(ledger.accepted):  # unless a flush split the batch at the crash
        assert counts_stored(catalog) == after_crash
    assert_counted_exactly(ledger, catalog)

    # A second crash while the stream flows, then the rest of the stream.
    total = 160
    sender = HttpSender(web.url, stream, ledger, requests_total=total, rate=20)
    sender.start()
    sender.wait_done(total // 3)
    flag.touch()
    wait_for(lambda: worker.proc.poll() is not None, timeout=30, message="no second crash")
    assert worker.proc.returncode == 70
    worker.kill()
    rig.worker(**crash_env)
    sender.finish()
    assert set(ledger.statuses()) == {202}, ledger.summary()
    wait_idle(set(ledger.accepted), timeout=120, what="after the second crash")
    assert_counted_exactly(ledger, catalog)
    assert rig.logs("worker").count("crashing before the ack") == 2
    print(
        f"\n2: {ledger.summary()}; 2 crashes after commit, {redelivered} committed events "
        f"redelivered by the first and changed nothing; {stamp(started)}s"
    )
