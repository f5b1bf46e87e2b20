"""Scenario 6: events that can never be counted are parked with their reason, acknowledged
once, and do not hold up the events behind them."""

import time
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from analytics.models import PoisonEvent
from analytics.relay import events_hand_over
from mvsic.models import Track
from tests.faults.conftest import (
    EventStream,
    Ledger,
    assert_counted_exactly,
    http_session,
    payload_of,
    post_events,
    publish_events,
    queue_ready,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]


def malformed_payloads(track_id: int) -> list[tuple[dict, str]]:
    """Payloads another producer (an old release, a bug) could queue; the reason each gets."""

    def base(**changes) -> dict:
        now = timezone.now().isoformat()
        payload = {
            "id": str(uuid.uuid4()),
            "type": "play",
            "track": track_id,
            "listener": "fan-1",
            "ts": now,
            "received_at": now,
            "seconds": None,
            "source": "",
        }
        payload.update(changes)
        return {k: v for k, v in payload.items() if v is not ...}

    return [
        (base(ts=...), "malformed payload"),
        (base(ts="2026-03-01T10:00:00"), "malformed payload"),  # no zone
        (base(type="skip"), "malformed payload"),
        (base(id=f"not-a-uuid-{uuid.uuid4().hex[:8]}"), "malformed payload"),
        (base(track="seven"), "malformed payload"),
        (base(seconds=10**400), "malformed payload"),  # too large for a float
        (base(track=float("inf")), "malformed payload"),  # JSON Infinity
    ]


def test_poison_events_are_parked_once_and_do_not_hold_up_the_rest(rig, catalog):
    started = time.monotonic()
    doomed, *kept = catalog.track_ids
    web = rig.web()
    ledger = Ledger()
    session = http_session()
    stream = EventStream(catalog.track_ids, seed=106)

    # No worker yet: accepted events, some for a track about to be deleted, wait in the queue.
    for _ in range(100):
        assert post_events(session, web.url, stream.batch(10), ledger).status == 202
    malformed = malformed_payloads(kept[0])
    events_hand_over([payload for payload, _ in malformed])
    Track.objects.filter(id=doomed).delete()
    behind = EventStream(kept, seed=206)
    for _ in range(100):
        assert post_events(session, web.url, behind.batch(10), ledger).status == 202

    doomed_ids = {i for i, e in ledger.accepted.items() if e["track"] == doomed}
    assert len(doomed_ids) > 50
    worker_started = time.monotonic()
    worker = rig.worker()
    counted_in = wait_idle(
        set(ledger.accepted) - doomed_ids, timeout=60, what="events behind the poison"
    )
    assert counted_in < 30, f"events behind the poison took {counted_in:.1f}s"
    first_wave = time.monotonic() - worker_started

    # A new worker, with small batches, parks them the same way (the track is gone for good).
    # A batch is acknowledged on the consumer's next tick after its commit (it is counted in
    # a thread of its own): give the last one that long before the kill.
    time.sleep(settings.MVSIC_EVENT_FLUSH_SECONDS * 5)
    worker.kill()
    assert queue_ready() == 0, "the batch worker left events unacknowledged"
    late_doomed = [payload_of(stream.new(track_id=doomed)) for _ in range(20)]
    late_malformed = malformed_payloads(kept[1])
    worker = rig.worker(MVSIC_EVENT_BATCH_SIZE=7)
    events_hand_over(late_doomed + [payload for payload, _ in late_malformed])
    publish_events(behind.batch(300), ledger)
    doomed_ids |= {p["id"] for p in late_doomed}
    wait_idle(set(ledger.accepted) - doomed_ids, timeout=60, what="poison after a restart")

    malformed_all = malformed + late_malformed
    assert_counted_exactly(
        ledger, catalog, never_counted=doomed_ids, poison=len(doomed_ids) + len(malformed_all)
    )
    parked = dict(PoisonEvent.objects.values_list("event_id", "reason"))
    assert {i: parked.get(i) for i in doomed_ids} == dict.fromkeys(
        doomed_ids, f"track {doomed} does not exist"
    )
    for payload, reason in malformed_all:
        assert parked.get(str(payload["id"]), "").startswith(reason), (
            payload,
            parked.get(payload["id"]),
        )

    # Acknowledged once: nothing comes back after the worker is gone, nothing parked twice.
    time.sleep(1)
    worker.kill()
    assert queue_ready() == 0, "poison events are still in the queue"
    assert PoisonEvent.objects.count() == len(parked)
    print(
        f"\n6: {ledger.summary()}; {len(doomed_ids)} events of a deleted track and "
        f"{len(malformed_all)} malformed payloads parked; the events behind "
        f"them counted {first_wave:.1f}s after the worker started; {stamp(started)}s"
    )
