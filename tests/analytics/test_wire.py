"""analytics.wire: the events message, as kombu publishes it and the consumer reads it."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from kombu import Connection, Producer
from kombu.serialization import dumps as kombu_dumps

from analytics import wire
from analytics.field_rules import MAX_SECONDS, MAX_TRACK_ID
from analytics.models import EventType
from analytics.validation import Edge, event_validate
from mvsic.celery import app
from tests.conftest import make_payload, wait_for

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def validate(raw: dict):
    """As the edge validates a browser's events (cookie listener, hashed address)."""
    edge = Edge(
        now=NOW,
        max_skew=SKEW,
        max_age=timedelta(days=7),
        trusted=False,
        listener="cookie-fan",
        address="0123456789abcdef",
        user_agent="Mozilla/5.0 🎶",
        address_hash=str,
    )
    return event_validate(raw, edge=edge)


def validated(raw: dict) -> dict:
    payload, errors = validate(raw)
    assert errors == {}, errors
    return payload


def assert_round_trips(payload: dict) -> None:
    assert json.loads(json.dumps(payload)) == payload
    # ... and as the body kombu's JSON serializer puts on the wire, in a group.
    content_type, encoding, data = kombu_dumps(
        wire.events_body([payload, payload]), serializer=wire.PUBLISH_OPTIONS["serializer"]
    )
    assert (content_type, encoding) == ("application/json", "utf-8")
    assert wire.body_events(json.loads(data)) == [payload, payload]


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "6F1C1A523C1E4D1B9B7E2A6A3B0B9D11", "type": "play", "track": 1, "seconds": 30},
        {"id": "{6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11}", "type": "like", "track": MAX_TRACK_ID},
        {
            "id": "urn:uuid:6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11",
            "type": "play",
            "track": 3,
            "ts": "2026-03-01T13:00:00+05:30",
            "seconds": 7,
            "source": "radio 🎶 ünïcode",
        },
        {
            "id": "6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11",
            "type": "unlike",
            "track": 3,
            "ts": "2026-03-01T10:00:00.123456",
        },
        {
            "id": "6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11",
            "type": "play",
            "track": 3,
            "seconds": 0.1 + 0.2,
        },
    ],
)
def test_validated_payloads_round_trip_through_json(raw):
    assert_round_trips(validated(raw))


valid_events = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "type": st.sampled_from(EventType.values),
        "track": st.integers(min_value=1, max_value=MAX_TRACK_ID),
    },
    optional={
        "listener": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        # Within the maximum event age of NOW (zones move a time by at most a day).
        "ts": st.datetimes(
            min_value=datetime(2026, 2, 24),
            max_value=datetime(2026, 3, 1),
            timezones=st.timezones(),
        ).map(datetime.isoformat),
        "seconds": st.floats(min_value=0, max_value=MAX_SECONDS) | st.integers(0, MAX_SECONDS),
        "source": st.text(max_size=64),
        "referrer": st.sampled_from(["blog.example.com", "news.example"]),
        "ranges": st.lists(
            st.tuples(st.floats(0, 1000), st.floats(0.5, 1000)).map(lambda r: [r[0], sum(r)]),
            min_size=1,
            max_size=5,
        ),
    },
)


# Most drawn events break a rule (seconds on a like, ranges on a play): that is the point.
@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
@given(raw=valid_events)
def test_every_payload_event_validate_makes_round_trips_through_json(raw):
    payload, _ = validate(raw)
    assume(payload is not None)  # e.g. seconds on a like, or a control character in source
    assert_round_trips(payload)


def test_body_events_reads_an_events_message_and_the_earlier_celery_form():
    payload, other = make_payload(1), make_payload(2)
    assert wire.body_events({"events": [payload, other]}) == [payload, other]
    # How releases before this format queued a group: a Celery record_events(payloads) call.
    assert wire.body_events([[[payload, other]], {}, {"chain": None}]) == [payload, other]


@pytest.mark.parametrize(
    "body",
    [
        None, [], {}, {"events": []}, {"events": [1]}, {"events": {}}, {"hello": 1},
        {"events": [{"id": "x"}], "more": 1}, [[]], [["x"], {}, {}], [[[]], {}, {}],
        [[[{"id": "x"}, "x"]], {}, {}], "events",
    ],
)  # fmt: skip
def test_body_events_refuses_anything_else(body):
    with pytest.raises(ValueError):
        wire.body_events(body)


def test_the_events_queue_is_a_quorum_queue_on_its_own_direct_exchange():
    queue = wire.events_queue()
    assert queue.name == queue.routing_key == settings.MVSIC_EVENTS_QUEUE
    assert (queue.exchange.name, queue.exchange.type) == (queue.name, "direct")
    assert queue.exchange.durable and queue.durable
    assert queue.queue_arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.MVSIC_DELIVERY_LIMIT,
        "x-dead-letter-exchange": queue.name + ".dead",
        "x-dead-letter-routing-key": queue.name + ".dead",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    dead = wire.events_dead_queue()
    assert (dead.name, dead.exchange.name) == (queue.name + ".dead", queue.name + ".dead")
    # Celery's own consumers never see it: only the batch consumer takes events.
    assert queue.name not in {q.name for q in app.conf.task_queues}


def test_a_published_events_message_is_persistent_json_on_the_events_queue(broker_queues):
    payloads = [make_payload(1), make_payload(2, "like")]
    queue = wire.events_queue()
    with Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        queue(channel).purge()
        Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key).publish(
            wire.events_body(payloads), **wire.PUBLISH_OPTIONS
        )
        # Not confirmed: the quorum queue may take a moment to have it.
        message = wait_for(lambda: queue(channel).get(no_ack=True, accept=["json"]), timeout=5)
    assert message.properties["delivery_mode"] == 2
    assert message.content_type == "application/json"
    assert wire.body_events(message.decode()) == payloads
