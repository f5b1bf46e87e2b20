"""Scenarios 3, 4 and 5: RabbitMQ or PostgreSQL away for a while, and a web process killed
with events in its spool. Every outage is ended in a `finally`, whatever the test found."""

import re
import time

import amqp
import pytest
import requests
from django.conf import settings
from kombu import Connection

from analytics import wire
from analytics.broker import BrokerPublisher
from analytics.models import PoisonEvent
from tests.conftest import wait_for
from tests.faults.conftest import (
    EventStream,
    HttpSender,
    Ledger,
    Send,
    assert_counted_exactly,
    broker_stopped,
    http_session,
    latency_report,
    payload_of,
    post_events,
    postgres_stopped,
    publish_events,
    spool_events,
    stamp,
    wait_idle,
)

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.slow]

OUTAGE_SECONDS = 30


def readyz(url: str) -> tuple[int, dict]:
    response = requests.get(f"{url}/readyz", timeout=10)
    return response.status_code, response.json()


def test_broker_outage_web_answers_promptly_spools_and_relays(rig, catalog):
    """3: RabbitMQ stopped for 30 s mid-stream; every request still gets a prompt 202."""
    started = time.monotonic()
    web = rig.web()
    rig.worker()
    ledger = Ledger()
    sender = HttpSender(
        web.url, EventStream(catalog.track_ids, seed=203), ledger,
        requests_total=100_000, batch=8, rate=10,
    )  # fmt: skip
    sender.start()
    sender.wait_done(50)
    spooled_peak, ready_during = 0, None
    stop_began = time.monotonic()
    with broker_stopped():
        down_from = time.monotonic()
        spooled_peak = wait_for(
            lambda: len(spool_events(web.spool_dir)), timeout=15, message="nothing was spooled"
        )
        ready_during = wait_for(
            lambda: (r := readyz(web.url))[0] == 503 and r, timeout=15, message="readyz said ok"
        )
        # The load balancer's probe keeps this host in: it can still take events.
        health_during = requests.get(f"{web.url}/healthz", timeout=10).status_code
        time.sleep(max(0.0, down_from + OUTAGE_SECONDS - time.monotonic()))
        spooled_peak = max(spooled_peak, len(spool_events(web.spool_dir)))
        outage = time.monotonic() - down_from
    back_at = time.monotonic()
    sent_by_then = sender.done
    sender.wait_done(sent_by_then + 80)  # 8 s more of the stream with the broker back
    sender.halt.set()
    sender.finish()

    assert outage >= OUTAGE_SECONDS
    assert set(ledger.statuses()) == {202}, ledger.summary()
    during = [
        s for s in ledger.sends if s.started + s.duration >= stop_began and s.started <= back_at
    ]
    slow = [round(s.duration, 2) for s in during if s.duration >= 2]
    assert not slow, f"requests during the outage took {slow}s"
    assert ready_during[0] == 503 and "broker" in ready_during[1]["down"], ready_during
    assert health_during == 200

    wait_for(
        lambda: not spool_events(web.spool_dir), timeout=90, message="the relay left the spool"
    )
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after the broker outage")
    assert_counted_exactly(ledger, catalog)
    assert "relayed" in rig.logs("web")
    assert readyz(web.url)[0] == 200
    print(
        f"\n3: {ledger.summary()}; broker down {outage:.1f}s, {len(during)} requests during it "
        f"({latency_report(during)}), up to {spooled_peak} events in the spool, all relayed; "
        f"idle {drained:.1f}s after the stream; {stamp(started)}s"
    )


def test_web_killed_with_a_spool_delivers_it_after_restart(rig, catalog, tmp_path):
    """4: events spooled while the broker is down; the web process is killed -9; a new one
    on the same spool directory delivers them."""
    started = time.monotonic()
    spool = tmp_path / "web-spool"
    web = rig.web(spool_dir=spool)
    rig.worker()
    ledger = Ledger()
    stream = EventStream(catalog.track_ids, seed=204)
    session = http_session()
    for _ in range(50):
        assert post_events(session, web.url, stream.batch(10), ledger).status == 202
    with broker_stopped():
        outage_from = time.monotonic()
        spooled = Ledger()
        for _ in range(150):
            batch = stream.batch(10)
            send = post_events(session, web.url, batch, spooled)
            assert send.status == 202, send
            ledger.record(batch, send)
        in_spool = {p["id"] for p in spool_events(spool)}
        assert set(spooled.accepted) <= in_spool, "a 202 was answered for an unspooled event"
        web.kill()  # kill -9 of the master and its workers
        segments = sorted(p.name for p in spool.glob("*.jsonl"))
        assert segments and set(spooled.accepted) <= {p["id"] for p in spool_events(spool)}
        outage = time.monotonic() - outage_from
    restarted = time.monotonic()
    web = rig.web(spool_dir=spool)
    wait_for(lambda: not spool_events(spool), timeout=60, message="the new web did not relay")
    relayed_in = time.monotonic() - restarted
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after the web restart")
    assert_counted_exactly(ledger, catalog)
    assert re.search(r"relayed \d+ spooled events", web.log_path.read_text())
    print(
        f"\n4: {ledger.summary()}; {len(spooled.accepted)} distinct events spooled in "
        f"{len(segments)} segments, web killed -9 with the broker down ({outage:.1f}s); the new "
        f"web relayed them {relayed_in:.1f}s after its start; idle {drained:.1f}s; "
        f"{stamp(started)}s"
    )


def test_database_outage_workers_wait_and_count_everything(rig, catalog):
    """5: PostgreSQL stopped for 30 s mid-stream: workers retry without acknowledging, the
    web answers 202 for cached tracks (503 otherwise), /readyz names the database."""
    started = time.monotonic()
    web = rig.web(MVSIC_TRACK_CACHE_SECONDS=3600)
    rig.worker()
    rig.worker()
    ledger = Ledger()
    stream = EventStream(catalog.track_ids, seed=205)
    session = http_session()
    for _ in range(20):  # every track id cached by every web worker
        warm = [stream.new(track_id=t) for t in catalog.track_ids]
        assert post_events(session, web.url, warm, ledger).status == 202
    sender = HttpSender(web.url, stream, ledger, requests_total=100_000, batch=8, rate=10)
    sender.start()
    sender.wait_done(50)
    with postgres_stopped():
        down_from = time.monotonic()
        first_during = len(ledger.sends)
        ready_during = wait_for(
            lambda: (r := readyz(web.url))[0] == 503 and r, timeout=20, message="readyz said ok"
        )
        time.sleep(max(0.0, down_from + OUTAGE_SECONDS - time.monotonic()))
        during = ledger.sends[first_during:]
        outage = time.monotonic() - down_from
    sent_by_then = sender.done
    sender.wait_done(sent_by_then + 80)
    sender.halt.set()
    sender.finish()

    assert outage >= OUTAGE_SECONDS
    assert set(ledger.statuses()) <= {202, 503}, ledger.summary()
    accepted_during = sum(s.accepted for s in during if s.status == 202)
    assert accepted_during > 0, "no event was accepted while the database was down"
    assert ready_during[0] == 503 and ready_during[1]["down"] == ["database"], ready_during
    drained = wait_idle(set(ledger.accepted), timeout=120, what="after the database outage")
    assert_counted_exactly(ledger, catalog)
    log = rig.logs("")
    delays = [float(d) for d in re.findall(r"database unavailable, retrying in ([\d.]+)s", log)]
    assert delays and max(delays) >= 4, f"no backoff in the workers' retries: {delays[:10]}"
    assert readyz(web.url)[0] == 200
    print(
        f"\n5: {ledger.summary()}; database down {outage:.1f}s, {accepted_during} events "
        f"accepted during it ({dict(ledger.statuses())}), workers retried {len(delays)} times "
        f"(up to {max(delays)}s apart); idle {drained:.1f}s after the stream; {stamp(started)}s"
    )


def test_database_outage_with_an_undecodable_message_in_the_batch(rig, catalog):
    """5b: the batch worker must park an undecodable message while PostgreSQL is down; the
    good events delivered with it must not be acknowledged uncounted."""
    started = time.monotonic()
    rig.worker()
    ledger = Ledger()
    stream = EventStream(catalog.track_ids, seed=215)
    publish_events(stream.batch(300), ledger)
    wait_idle(set(ledger.accepted), timeout=60, what="before the outage")
    publisher = BrokerPublisher(settings.CELERY_BROKER_URL, timeout=5, pause=0, per_message=1)
    undecodable = amqp.Message(
        b"\xff not json", content_type="application/json", content_encoding="utf-8",
        delivery_mode=2,
    )  # fmt: skip
    queue = wire.events_queue()
    with postgres_stopped():
        down_from = time.monotonic()
        good = stream.batch(40)
        sent = time.monotonic()
        with Connection(settings.CELERY_BROKER_URL) as conn:
            conn.default_channel.basic_publish(undecodable, queue.name, queue.routing_key)
        publisher.publish([payload_of(e) for e in good])
        ledger.record(good, Send(sent, time.monotonic() - sent, 202, len(good), len(good)))
        time.sleep(4)  # the worker's flush timer fires meanwhile
        outage = time.monotonic() - down_from
    publish_events(stream.batch(300), ledger)
    drained = wait_idle(set(ledger.accepted), timeout=90, what="after the short outage")
    assert_counted_exactly(ledger, catalog, poison=1)
    assert PoisonEvent.objects.get().reason.startswith("undecodable message")
    print(
        f"\n5b: {ledger.summary()}; database down {outage:.1f}s with an undecodable message "
        f"and {len(good)} events in one batch; idle {drained:.1f}s; {stamp(started)}s"
    )
