"""The events message: how accepted events travel from a web process to a worker.

One persistent JSON message on the events queue carries a group of event payloads as
`{"events": [payload, ...]}`; a payload is what `validation.event_validate` returns. The
publisher (analytics.broker) and the batch consumer (analytics.consumer) both use this module,
so the format is written down once.
"""

from django.conf import settings
from kombu import Queue

from mvsic.queues import dead_letter_queue, quorum_queue

# kombu's Producer.publish options of every events message: JSON, persistent.
PUBLISH_OPTIONS = {"serializer": "json", "delivery_mode": 2}


def events_queue() -> Queue:
    """The events queue (MVSIC_EVENTS_QUEUE). Celery's own workers never consume it: only
    the batch consumer of `celery worker --event-batches` does."""
    return quorum_queue(settings.MVSIC_EVENTS_QUEUE, settings.MVSIC_DELIVERY_LIMIT)


def events_dead_queue() -> Queue:
    """Where events messages go after MVSIC_DELIVERY_LIMIT deliveries without an ack."""
    return dead_letter_queue(settings.MVSIC_EVENTS_QUEUE)


def events_body(payloads: list[dict]) -> dict:
    """The body of one events message."""
    return {"events": payloads}


def body_events(body) -> list[dict]:
    """The payloads of a decoded message body; ValueError for anything else."""
    if isinstance(body, dict) and body.keys() == {"events"}:
        events = body["events"]
    elif isinstance(body, list) and len(body) == 3 and isinstance(body[0], list) and body[0]:
        # A Celery `analytics.record_events` call, as earlier releases queued events.
        events = body[0][0]
    else:
        raise ValueError("not an events message")
    if isinstance(events, list) and events and all(isinstance(p, dict) for p in events):
        return events
    raise ValueError("an events message must carry a non-empty list of event objects")
