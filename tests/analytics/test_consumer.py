"""analytics.consumer: the batch consumer in a real worker, and its retry rules."""

import json

import amqp
import pytest
from django.conf import settings
from django.db import DataError, ProgrammingError
from kombu import Connection, Producer

from analytics import consumer, wire
from analytics.models import PoisonEvent, TrackStats
from analytics.services import counting
from tests.conftest import make_payload, make_track, queues_purge, wait_for, worker_running


@pytest.mark.integration
def test_undecodable_and_foreign_messages_are_parked_and_do_not_block(celery_worker_process):
    track = make_track()
    good = [make_payload(track, "play", f"fan-{i}") for i in range(30)]
    grouped = [make_payload(track, "play", f"fan-{i}") for i in range(30, 90)]
    earlier = [make_payload(track, "play", f"fan-{i}") for i in range(90, 100)]
    queue = wire.events_queue()
    with Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        bad_json = amqp.Message(b"{not json", content_type="application/json", delivery_mode=2)
        foreign = amqp.Message(b'{"hello": 1}', content_type="application/json", delivery_mode=2)
        channel.basic_publish(bad_json, queue.name, queue.routing_key)
        channel.basic_publish(foreign, queue.name, queue.routing_key)
        producer = Producer(channel, exchange=queue.exchange, routing_key=queue.routing_key)
        for payload in good:  # one event per message
            producer.publish(wire.events_body([payload]), **wire.PUBLISH_OPTIONS)
        for start in range(0, len(grouped), 20):  # one message per group, each sent twice
            body = wire.events_body(grouped[start : start + 20])
            producer.publish(body, **wire.PUBLISH_OPTIONS)
            producer.publish(body, **wire.PUBLISH_OPTIONS)
        # A group queued by an earlier release, as a Celery record_events call.
        legacy = json.dumps([[earlier], {}, {"callbacks": None}]).encode()
        channel.basic_publish(
            amqp.Message(legacy, content_type="application/json", delivery_mode=2),
            queue.name,
            queue.routing_key,
        )

    wait_for(
        lambda: TrackStats.objects.filter(track=track, plays=100).exists(),
        timeout=30,
        message="the good events behind the bad messages were not counted",
    )
    reasons = sorted(PoisonEvent.objects.values_list("reason", flat=True))
    assert len(reasons) == 2
    assert any("undecodable" in r for r in reasons)
    assert any("not an events message" in r for r in reasons)
    assert TrackStats.objects.get(track=track).listeners == 100


@pytest.mark.django_db
def test_a_value_the_database_refuses_parks_only_its_event(monkeypatch):
    track = make_track()
    good, bad = make_payload(track, listener="good"), make_payload(track, listener="bad")
    real_count = counting.events_count

    def refuse_bad(*, payloads):
        if any(p["listener"] == "bad" for p in payloads):
            raise DataError("value out of range for the bad one")
        return real_count(payloads=payloads)

    monkeypatch.setattr(consumer, "events_count", refuse_bad)
    monkeypatch.setattr(consumer.time, "sleep", lambda seconds: None)
    assert consumer.count_until_applied([good, bad]) == 1
    assert TrackStats.objects.get(track=track).plays == 1
    parked = PoisonEvent.objects.get()
    assert parked.event_id == bad["id"] and "out of range for the bad one" in parked.reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [ProgrammingError('column "reason" does not exist'), KeyError("bug")]
)
def test_a_schema_error_or_a_bug_parks_nothing_and_the_batch_counts_after_the_fix(
    monkeypatch, error
):
    """A deploy whose code and migrations disagree fails every batch: the events wait,
    unacknowledged, and the health page says so, until the fix is deployed."""
    from analytics.health import pipeline_health_get
    from analytics.models import CountingFailure

    track = make_track()
    payloads = [make_payload(track, listener=f"fan-{i}") for i in range(5)]
    real_count, attempts = counting.events_count, []

    def broken_until_the_fix(*, payloads):
        attempts.append(len(payloads))
        if len(attempts) <= 4:
            health = pipeline_health_get()
            if len(attempts) > 1:
                assert health["counting_failures"][0].attempts == len(attempts) - 1
            raise error
        return real_count(payloads=payloads)

    monkeypatch.setattr(consumer, "events_count", broken_until_the_fix)
    monkeypatch.setattr(consumer.time, "sleep", lambda seconds: None)
    assert consumer.count_until_applied(payloads) == 5
    assert attempts == [5] * 5  # always the whole batch: never split, never parked
    assert not PoisonEvent.objects.exists()
    assert TrackStats.objects.get(track=track).plays == 5
    assert not CountingFailure.objects.exists()


@pytest.mark.django_db
def test_an_event_for_a_missing_track_is_parked_and_the_batch_returns():
    track = make_track()
    payload = make_payload(track)
    track.delete()
    assert consumer.count_until_applied([payload]) == 0  # returns, so the batch is acked
    assert "does not exist" in PoisonEvent.objects.get(event_id=payload["id"]).reason


def test_a_message_delivered_past_the_limit_is_parked_not_dropped(
    transactional_db, broker_queues, tmp_path
):
    """RabbitMQ dead-letters an events message after MVSIC_DELIVERY_LIMIT deliveries without
    an ack; the worker parks its events as poison with the reason."""
    from mvsic.celery import app

    track = make_track()
    payload = make_payload(track)
    queues_purge()
    with app.connection_for_write() as conn:
        channel = conn.channel()
        queue = wire.events_queue()(channel)
        queue.declare()
        wire.events_dead_queue()(channel).declare()
        Producer(channel).publish(
            wire.events_body([payload]), exchange=queue.exchange, routing_key=queue.routing_key,
            serializer="json", delivery_mode=2,
        )  # fmt: skip
        deliveries = 0
        while (message := queue.get(no_ack=False)) is not None:
            deliveries += 1
            message.reject(requeue=True)  # a worker that keeps dying before its ack
        # The first delivery and MVSIC_DELIVERY_LIMIT redeliveries, then the dead-letter queue.
        assert deliveries == settings.MVSIC_DELIVERY_LIMIT + 1
    with worker_running(tmp_path / "worker.log"):
        parked = wait_for(
            lambda: PoisonEvent.objects.filter(event_id=payload["id"]).first(), timeout=30
        )
    assert "dead-lettered" in parked.reason
    assert not TrackStats.objects.filter(track=track, plays__gt=0).exists()


# --- batches counted side by side, acknowledged in delivery order ----------------------------
class _Channel:
    def __init__(self):
        self.acks: list[tuple[int, bool]] = []

    def basic_ack(self, tag, multiple=False):
        self.acks.append((tag, multiple))


class _Message:
    def __init__(self, channel, tag):
        self.channel, self.delivery_tag, self.body = channel, tag, b""


def _step(monkeypatch, count) -> consumer.EventBatchConsumer:
    """A consumer step with two counting threads and `count` in place of counting, taking
    a batch of one message at a time."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(consumer, "_batch_count_closing", count)
    step = consumer.EventBatchConsumer(None, event_batches=True)
    step.size, step.threads = 1, 2
    step.counter = ThreadPoolExecutor(2)
    return step


def test_two_batches_count_at_once_and_are_acknowledged_in_delivery_order(monkeypatch):
    import threading

    first_may_end, second_done = threading.Event(), threading.Event()

    def count(batch):
        if batch[0][0].delivery_tag == 1:
            assert first_may_end.wait(10)
        else:
            second_done.set()

    step = _step(monkeypatch, count)
    channel = _Channel()
    step._add(_Message(channel, 1), [{}], None)
    step._add(_Message(channel, 2), [{}], None)
    # The second batch counted while the first was still counting, and waits for its ack.
    assert second_done.wait(10)
    step.settle(wait=False)
    assert channel.acks == []
    first_may_end.set()
    while step.counting:
        step.settle(wait=True)
    assert channel.acks == [(1, True), (2, True)]


def test_a_failed_batch_goes_back_with_every_later_one_unacknowledged(monkeypatch):
    import threading

    second_done = threading.Event()

    def count(batch):
        if batch[0][0].delivery_tag == 1:
            assert second_done.wait(10)
            raise RuntimeError("the database went away")
        second_done.set()  # committed: counting it again changes nothing

    step = _step(monkeypatch, count)
    channel = _Channel()
    with pytest.raises(RuntimeError):  # from whichever call finds the first batch failed
        step._add(_Message(channel, 1), [{}], None)
        step._add(_Message(channel, 2), [{}], None)
        step.settle(wait=True)
    assert channel.acks == []
    assert [m.delivery_tag for m, _, _ in step.buffer] == [1, 2]
    assert step.events == 2 and not step.counting
