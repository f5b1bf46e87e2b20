"""Scenario 7: every event delivered twice, out of order, to several workers at once, all on
one hot track: the counts are exact and no transaction deadlocks."""

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.conftest import (
    EventStream,
    Ledger,
    assert_counted_exactly,
    publish_events,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]


def test_twice_delivered_events_on_one_hot_track_across_workers(rig, catalog):
    started = time.monotonic()
    hot = catalog.track_ids[0]
    # Small batches of two sizes so the workers' transactions interleave with each other's.
    specs = [
        {"MVSIC_EVENT_BATCH_SIZE": 40},
        {"MVSIC_EVENT_BATCH_SIZE": 40},
        {"MVSIC_EVENT_BATCH_SIZE": 7},
        {"MVSIC_EVENT_BATCH_SIZE": 7},
    ]
    with ThreadPoolExecutor(len(specs)) as pool:
        list(pool.map(lambda spec: rig.worker(**spec), specs))

    # 3000 events (plays, likes, unlikes by 30 listeners), each sent twice; the copies land
    # close together (so two workers often hold the same event at once), in shuffled order.
    stream = EventStream([hot], seed=107, listeners=30, duplicates=0, likes=0.5)
    events = [stream.new() for _ in range(3000)]
    rng = random.Random(7)
    rng.shuffle(events)
    messages = []
    for start in range(0, len(events), 50):
        block = events[start : start + 50] * 2
        rng.shuffle(block)
        messages.extend(block)
    ledger = Ledger()
    for start in range(0, len(messages), 100):
        publish_events(messages[start : start + 100], ledger)
    assert ledger.copies == 6000 and len(ledger.accepted) == 3000

    drained = wait_idle(set(ledger.accepted), timeout=120, what="hot track")
    assert_counted_exactly(ledger, catalog)
    logs = rig.logs()
    assert "deadlock" not in logs.lower(), "a worker hit a deadlock"
    assert "nothing is parked, retrying" not in logs, "a worker failed to count a batch"
    assert "Traceback" not in logs
    print(
        f"\n7: {ledger.copies} messages ({len(ledger.accepted)} distinct events, each twice) "
        f"on one track, 4 workers (batches of 40 and 7); idle {drained:.1f}s after "
        f"publishing; {stamp(started)}s"
    )
