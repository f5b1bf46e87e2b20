"""Scenario 8: what the broker promises, checked on the broker itself: durable quorum queues,
persistent messages, publisher confirms; a publish the broker refuses is not taken as
delivered, it goes to the spool and is delivered (once) when the broker takes it again."""

import json
import os
import re
import subprocess
import time

import pytest
from django.conf import settings
from kombu import Connection

from analytics import wire
from analytics.broker import BrokerPublisher, PublishFailed
from tests.conftest import wait_for
from tests.faults.conftest import (
    EventStream,
    Ledger,
    assert_counted_exactly,
    http_session,
    payload_of,
    post_events,
    queue_info,
    rabbitmqctl,
    spool_events,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]


def _policy(*args: str) -> None:
    done = subprocess.run(rabbitmqctl(*args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("accept_via", ["broker", "spool"])
def test_confirmed_durable_publishing_and_a_refused_publish_is_spooled(rig, catalog, accept_via):
    started = time.monotonic()
    queue = settings.MVSIC_EVENTS_QUEUE
    web = rig.web(MVSIC_ACCEPT_VIA=accept_via)
    ledger = Ledger()
    stream = EventStream(catalog.track_ids, seed=108)
    session = http_session()
    # No worker yet: these stay in the queue (and keep it above the length limit below).
    for _ in range(50):
        assert post_events(session, web.url, stream.batch(10), ledger).status == 202
    if accept_via == "broker":
        assert not spool_events(web.spool_dir), "the broker was up; nothing should be spooled"
    else:  # each segment is relayed a few milliseconds after its events were accepted
        wait_for(lambda: not spool_events(web.spool_dir), timeout=10, message="not relayed")

    for name in (queue, settings.MVSIC_DEFAULT_QUEUE):
        info = queue_info(name)
        assert (info["type"], info["durable"]) == ("quorum", True), info
        assert ["x-queue-type", "longstr", "quorum"] in info["arguments"], info

    # The message on the broker: persistent JSON carrying a group of accepted events.
    with Connection(settings.CELERY_BROKER_URL) as conn:
        message = conn.default_channel.basic_get(queue, no_ack=False)
        assert message is not None
        assert message.properties["delivery_mode"] == 2
        assert message.properties["content_type"] == "application/json"
        carried = wire.body_events(json.loads(message.body))
        assert {p["id"] for p in carried} <= ledger.accepted.keys()
        # Closing the channel without an ack returns the message to the queue.

    policy = f"mvsic-test-reject-{os.getpid()}"
    refused = payload_of(stream.new())
    spooled = stream.batch(10)
    try:
        _policy(
            "set_policy", "--apply-to", "queues", "--priority", "900", policy,
            f"^{re.escape(queue)}$", '{"max-length": 0, "overflow": "reject-publish"}',
        )  # fmt: skip
        wait_for(lambda: queue_info()["policy"] == policy, timeout=30, message="policy not applied")

        # The broker nacks: publish() raises, so nobody may answer 202 on its strength.
        publisher = BrokerPublisher(
            settings.CELERY_BROKER_URL, timeout=settings.MVSIC_PUBLISH_TIMEOUT_SECONDS, pause=0
        )
        with pytest.raises(PublishFailed, match="refused"):
            publisher.publish([refused])

        # Over HTTP the answer is still 202, because the events are fsync'd in the spool
        # (after a refused publish in broker mode; in spool mode, as always).
        send = post_events(session, web.url, spooled, ledger)
        assert send.status == 202 and send.accepted == len(spooled)
        assert send.duration < 2
        in_spool = {p["id"] for p in spool_events(web.spool_dir)}
        assert {e["id"] for e in spooled} <= in_spool
        time.sleep(2)  # the relay retries meanwhile and is refused too
        assert {e["id"] for e in spooled} <= {p["id"] for p in spool_events(web.spool_dir)}
    finally:
        _policy("clear_policy", policy)

    # The broker takes messages again: the relay empties the spool, a worker counts it all.
    wait_for(
        lambda: not spool_events(web.spool_dir), timeout=30, message="the relay did not deliver"
    )
    rig.worker()
    wait_idle(set(ledger.accepted), timeout=60, what="after the broker took messages again")
    assert refused["id"] not in ledger.accepted
    assert_counted_exactly(ledger, catalog)  # the refused event is not among the stored ones
    assert "publish failed, events go to the spool" in rig.logs("web")
    assert "relayed" in rig.logs("web")
    print(
        f"\n8 ({accept_via} first): {ledger.summary()}; quorum+durable queues, persistent "
        f"JSON messages; 1 refused publish raised PublishFailed; {len(spooled)} events spooled "
        f"and relayed once the broker took messages again; {stamp(started)}s"
    )
