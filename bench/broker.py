"""The bench's RabbitMQ queues: depth and consumers of a queue, purge and delete them all;
events published straight to the events queue with the site's own confirmed publisher
(analytics.broker), and the same payloads as Celery `bench.noop` tasks, one per message."""

import contextlib
import functools
import random
import time
from datetime import UTC, date, datetime, timedelta

from uuid6 import uuid7

from bench.context import retry
from bench.fans import BROWSER_UA, PLAY_SECONDS, RETURNING_FANS, fan


def _queues() -> list:
    """The events queue and the Celery task queues (default, no-op) of this run."""
    from django.conf import settings

    from analytics.wire import events_queue

    return [events_queue(), *settings.CELERY_TASK_QUEUES]


def _queue(name: str):
    return next(q for q in _queues() if q.name == name)


def _connection():
    from django.conf import settings
    from kombu import Connection

    return Connection(settings.CELERY_BROKER_URL, connect_timeout=5)


def _declare_passive(name: str):
    """(queue name, messages ready, consumers) of an existing queue."""
    with _connection() as conn:
        return _queue(name)(conn.channel()).queue_declare(passive=True)


def queue_depth(name: str) -> int:
    """Messages ready in a queue (not counting those delivered and not yet acked)."""
    return retry("reading queue depth", lambda: _declare_passive(name)[1])


def consumers(name: str) -> int:
    return retry("reading consumers", lambda: _declare_passive(name)[2])


def queues_purge() -> None:
    def purge():
        with _connection() as conn:
            for queue in _queues():
                bound = queue(conn.channel())
                bound.declare()
                bound.purge()

    retry("purging the bench queues", purge)


def queues_delete() -> None:
    with _connection() as conn:
        for queue in _queues():
            with contextlib.suppress(Exception):
                queue(conn.channel()).delete()
            with contextlib.suppress(Exception):
                queue.exchange(conn.channel()).delete()


HOUR = 3600.0


def payloads_make(
    n: int, first_track: int, last_track: int, *, fans: int = RETURNING_FANS
) -> list[dict]:
    """Accepted-event payloads as the capture endpoint queues those of the bench's ingest-key
    client: 90% plays by returning fans (a pool of `fans`, as the bench always used) over the
    last hour, each address hashed as the edge hashes it."""
    now = datetime.now(UTC)
    stamp = now.isoformat()
    payloads = []
    for _ in range(n):
        roll = random.random()
        kind = "play" if roll < 0.9 else "like" if roll < 0.97 else "unlike"
        listener, ip = fan(random.randint(1, fans))
        payloads.append(
            {
                "id": str(uuid7()),  # as the player makes them
                "type": kind,
                "track": random.randint(first_track, last_track),
                "listener": listener,
                "ts": (now - timedelta(seconds=random.uniform(0, HOUR))).isoformat(),
                "received_at": stamp,
                "seconds": PLAY_SECONDS if kind == "play" else None,
                "source": "bench",
                "address": _address(ip, now.date()),
                "ua": BROWSER_UA,
            }
        )
    return payloads


@functools.lru_cache(maxsize=100_000)
def _address(ip: str, day: date) -> str:
    """The edge's hash of a fan's address on `day` (one HMAC per address, not per event)."""
    from analytics.addresses import address_hash

    return address_hash(ip, now=datetime(day.year, day.month, day.day, tzinfo=UTC))


def publish(n: int, seed_info: dict, *, chunk: int = 5000) -> dict:
    """Publish n events to the events queue with the site's publisher (confirmed), one event
    per message, as the no-op baseline gets them (the relay groups up to 100: cheaper).
    Returns how many were plays and how long it took."""
    from django.conf import settings

    from analytics.broker import BrokerPublisher

    broker = BrokerPublisher(settings.CELERY_BROKER_URL, timeout=60, pause=1, per_message=1)
    return _publish_all(n, seed_info, chunk, lambda batch: broker.publish(batch))


def noop_publish(n: int, seed_info: dict, *, chunk: int = 5000) -> dict:
    """Publish n `bench.noop` tasks, one payload each, with Celery's own apply_async: what a
    plain Celery design sends per event. Not confirmed one by one (that would take minutes):
    returns once the no-op queue holds all of them."""
    import os

    from bench.tasks import noop
    from mvsic.celery import app

    queue = os.environ["MVSIC_BENCH_NOOP_QUEUE"]
    before = queue_depth(queue)

    def send(batch: list[dict]) -> None:
        with app.connection_for_write(transport_options={"confirm_publish": False}) as conn:
            for payload in batch:
                noop.apply_async((payload,), queue=queue, connection=conn)

    published = _publish_all(n, seed_info, chunk, send)
    deadline = time.monotonic() + 120
    while queue_depth(queue) < before + n:
        if time.monotonic() > deadline:
            raise RuntimeError("the no-op tasks did not all reach their queue")
        time.sleep(0.05)
    return published


def _publish_all(n: int, seed_info: dict, chunk: int, send) -> dict:
    plays = 0
    started = time.monotonic()
    sent = 0
    # About four events per fan in the hour: a fan's plays of a track are hours apart, and
    # an address (20 fans) stays far below its hourly caps.
    fans = max(RETURNING_FANS, n // 4)
    while sent < n:
        batch = payloads_make(
            min(chunk, n - sent), seed_info["first_track"], seed_info["last_track"], fans=fans
        )
        plays += sum(p["type"] == "play" for p in batch)
        retry("publishing", lambda batch=batch: send(batch))
        sent += len(batch)
    return {"events": n, "plays": plays, "seconds": time.monotonic() - started}
