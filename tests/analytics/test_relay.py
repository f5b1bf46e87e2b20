"""analytics.relay against the real broker: the durable hand-over and the relay thread."""

import json
import time

import pytest
from django.conf import settings

from analytics import relay
from analytics.broker import PublishFailed
from tests.conftest import make_payload, wait_for

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1//"
BROKER_URL = settings.CELERY_BROKER_URL


def ids(payloads: list[dict]) -> list[str]:
    return sorted(p["id"] for p in payloads)


@pytest.fixture
def fresh_relay(settings, tmp_path):
    """This process's relay, built from the settings of the test (requests wait for the
    broker's confirm unless the test says otherwise)."""
    settings.MVSIC_SPOOL_DIR = tmp_path / "spool"
    settings.MVSIC_ACCEPT_VIA = "broker"
    relay.relay_stop()
    yield
    relay.relay_stop()


def test_confirmed_publish_lands_in_the_durable_queue(queue, fresh_relay):
    payloads = [make_payload(1) for _ in range(20)]
    assert relay.events_hand_over(payloads) == "broker"
    assert ids(queue()) == ids(payloads)


def test_broker_down_spools_quickly_and_relay_publishes_later(queue, fresh_relay, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    payloads = [make_payload(1) for _ in range(5)]
    started = time.monotonic()
    assert relay.events_hand_over(payloads) == "spool"
    assert relay.events_hand_over(payloads[:1]) == "spool"  # paused: no broker attempt
    assert time.monotonic() - started < 2
    spool = relay.process_relay().spool
    assert spool.size() == 6
    assert spool.oldest_received_at().isoformat() == payloads[0]["received_at"]

    # The broker "comes back": the same process now reaches a broker that answers.
    broker = relay.process_relay().broker
    broker.url, broker._down_until = BROKER_URL, 0.0
    settings.CELERY_BROKER_URL = BROKER_URL  # for the test's own reading of the queue
    assert ids(queue()) == ids(payloads + payloads[:1])  # waits for the relay to empty it


def test_relay_thread_delivers_segments_left_by_a_dead_process(queue, fresh_relay):
    spool_dir = settings.MVSIC_SPOOL_DIR
    spool_dir.mkdir(parents=True)
    payloads = [make_payload(1) for _ in range(3)]
    # A killed writer leaves a segment (lock released by the kernel) with a torn last line.
    (spool_dir / "1-dead.jsonl").write_text(json.dumps(payloads) + "\n" + '[{"id": "tor')
    relay.relay_start()
    wait_for(lambda: not (spool_dir / "1-dead.jsonl").exists(), timeout=10)
    assert ids(queue()) == ids(payloads)


# --- spool first (MVSIC_ACCEPT_VIA=spool, the default) ------------------------------------------
def test_spool_first_answers_from_disk_and_the_relay_hands_over_soon(queue, fresh_relay, settings):
    settings.MVSIC_ACCEPT_VIA = "spool"
    payloads = [make_payload(1) for _ in range(7)]
    assert relay.events_hand_over(payloads[:3]) == "spool"
    assert relay.events_hand_over(payloads[3:]) == "spool"
    spool = relay.process_relay().spool
    assert ids(queue()) == ids(payloads)  # waits for the relay to empty the spool
    wait_for(lambda: spool.segments() == [], timeout=5, message="segment not deleted")


def test_spool_first_falls_back_to_the_broker_when_the_disk_refuses(
    queue, fresh_relay, settings, tmp_path
):
    settings.MVSIC_ACCEPT_VIA = "spool"
    settings.MVSIC_SPOOL_DIR = tmp_path / "not-a-directory"
    settings.MVSIC_SPOOL_DIR.write_text("a file where the spool directory should be")
    payloads = [make_payload(1), make_payload(1)]
    assert relay.events_hand_over(payloads) == "broker"
    assert ids(queue()) == ids(payloads)
    settings.CELERY_BROKER_URL = CLOSED_PORT_URL
    relay.relay_stop()
    with pytest.raises(PublishFailed, match="spool: .*broker: "):
        relay.events_hand_over([make_payload(1)])


def test_a_forked_process_gets_a_relay_of_its_own(fresh_relay, monkeypatch):
    parent = relay.process_relay()
    assert relay.process_relay() is parent
    monkeypatch.setattr(relay.os, "getpid", lambda: parent.pid + 1)  # as in a forked child
    child = relay.process_relay()
    assert child is not parent and child.pid == parent.pid + 1
