"""The bench's RabbitMQ queues: depth and consumers of a queue, purge and delete them all, and
events published straight to a queue with the app's own publisher (`publish`, which uses
`publisher.task_message` and `publisher.BrokerPublisher`, so it follows that module's API)."""

import contextlib
import random
import time
import uuid
from datetime import UTC, datetime

from bench.context import LISTENERS, retry


def _queue(name: str):
    from django.conf import settings

    return next(q for q in settings.CELERY_TASK_QUEUES if q.name == name)


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
    from django.conf import settings

    def purge():
        with _connection() as conn:
            for queue in settings.CELERY_TASK_QUEUES:
                bound = queue(conn.channel())
                bound.declare()
                bound.purge()

    retry("purging the bench queues", purge)


def queues_delete() -> None:
    from django.conf import settings

    with _connection() as conn:
        for queue in settings.CELERY_TASK_QUEUES:
            with contextlib.suppress(Exception):
                queue(conn.channel()).delete()
            with contextlib.suppress(Exception):
                queue.exchange(conn.channel()).delete()


def payloads_make(n: int, first_track: int, last_track: int) -> list[dict]:
    """Accepted-event payloads as the capture endpoint queues them (90% plays)."""
    now = datetime.now(UTC).isoformat()
    payloads = []
    for _ in range(n):
        roll = random.random()
        kind = "play" if roll < 0.9 else "like" if roll < 0.97 else "unlike"
        payloads.append(
            {
                "id": str(uuid.uuid4()),
                "type": kind,
                "track": random.randint(first_track, last_track),
                "listener": f"fan-{random.randint(1, LISTENERS)}",
                "ts": now,
                "received_at": now,
                "seconds": 31.5 if kind == "play" else None,
                "source": "bench",
            }
        )
    return payloads


def publish(n: int, seed_info: dict, *, queue: str | None = None, chunk: int = 5000) -> dict:
    """Publish n events with the app's own publisher (confirmed), to the events queue or,
    as `bench.noop` tasks with the same bodies, to the no-op queue. Returns play counts."""
    from django.conf import settings

    from analytics import publisher

    broker = publisher.BrokerPublisher(
        settings.CELERY_BROKER_URL, settings.MVSIC_EVENTS_QUEUE, timeout=60, pause=1
    )
    if queue:
        broker.queue = _queue(queue)
    plays = 0
    started = time.monotonic()
    sent = 0
    while sent < n:
        batch = payloads_make(
            min(chunk, n - sent), seed_info["first_track"], seed_info["last_track"]
        )
        plays += sum(p["type"] == "play" for p in batch)
        messages = [publisher.task_message(p) for p in batch]
        if queue:
            for message in messages:
                message.properties["application_headers"]["task"] = "bench.noop"
        retry("publishing", lambda messages=messages: broker.publish(messages))
        sent += len(batch)
    return {"events": n, "plays": plays, "seconds": time.monotonic() - started}
