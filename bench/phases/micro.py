"""Micro: in-process costs of each step of the capture path and of counting, per event.

Encoding an events message as kombu publishes it (analytics.wire), a confirmed publish
round trip (analytics.broker) and counting batches of several sizes (services.counting).
"""

import json
import time
import uuid

from bench.broker import payloads_make, queues_purge
from bench.context import log
from bench.fans import BROWSER_UA, PLAY_SECONDS, fan


def run(args, mode, seed_info, results) -> None:
    """In-process costs of each step of the capture path and of counting, per event."""
    from django.conf import settings
    from django.utils import timezone
    from kombu.serialization import dumps

    from analytics import validation, wire
    from analytics.broker import BrokerPublisher
    from analytics.clients import Client
    from analytics.services.capture import edge_of
    from analytics.services.counting import events_count

    listener, ip = fan(1)
    raw = {
        "id": str(uuid.uuid4()),
        "type": "play",
        "track": seed_info["first_track"],
        "listener": listener,
        "ip": ip,
        "seconds": PLAY_SECONDS,
        "source": "bench",
    }
    body = json.dumps(raw).encode()
    # A request of the bench's ingest-key client, as the edge sees it.
    client = Client(ip="127.0.0.1", user_agent=BROWSER_UA, ingest_key=seed_info["ingest_key_id"])
    edge = edge_of(client, timezone.now())
    micro = {}

    def per_call(fn, n=20_000):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - started) / n * 1e6

    micro["json_parse_us"] = per_call(lambda: json.loads(body))
    micro["validate_us"] = per_call(lambda: validation.event_validate(raw, edge=edge))
    payload = validation.event_validate(raw, edge=edge)[0]
    serializer = wire.PUBLISH_OPTIONS["serializer"]
    micro["message_encode_us"] = per_call(lambda: dumps(wire.events_body([payload]), serializer))
    hundred = payloads_make(100, 1, 1)
    micro["group_encode_100_us_per_event"] = (
        per_call(lambda: dumps(wire.events_body(hundred), serializer), 2000) / 100
    )
    broker = BrokerPublisher(settings.CELERY_BROKER_URL, timeout=10, pause=1)
    for group in (1, 8, 50):
        rounds = 200
        started = time.perf_counter()
        for _ in range(rounds):
            broker.publish(payloads_make(group, 1, 1))  # as the relay does: one message
        micro[f"confirm_round_trip_{group}_ms"] = (time.perf_counter() - started) / rounds * 1e3
    for size in (1, 50, 500):
        batch = payloads_make(size * 20, seed_info["first_track"], seed_info["last_track"])
        started = time.perf_counter()
        for i in range(20):
            events_count(payloads=batch[i * size : (i + 1) * size])
        micro[f"events_count_batch_{size}_us_per_event"] = (
            (time.perf_counter() - started) / (20 * size) * 1e6
        )
    queues_purge()  # the confirm round trips queued a few events for the one track
    results["micro"] = micro
    log("micro: " + ", ".join(f"{k} {v:.1f}" for k, v in micro.items()))
