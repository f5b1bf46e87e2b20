"""analytics.broker against the real RabbitMQ: confirmed groups, in order, or an error."""

import threading
import time
import uuid

import pytest
from django.conf import settings
from kombu import Connection, Queue

from analytics import wire
from analytics.broker import BrokerPublisher, PublishFailed
from tests.conftest import make_payload

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def own_queue():
    """A queue of this test's own: relays of earlier tests may still publish events."""
    name = f"mvsic.test.broker.{uuid.uuid4().hex[:8]}"
    yield Queue(name, routing_key=name, durable=False)
    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.default_channel.queue_delete(name)


def messages_on(queue: Queue) -> list[list[dict]]:
    """Take every message off `queue`; the events each carried, in order."""
    carried = []
    with Connection(settings.CELERY_BROKER_URL) as conn:
        bound = queue(conn.channel())
        while (message := bound.get(no_ack=True, accept=["json"])) is not None:
            assert message.properties["delivery_mode"] == 2
            carried.append(wire.body_events(message.decode()))
    return carried


def test_events_travel_in_confirmed_groups_of_per_message_in_order(own_queue):
    broker = BrokerPublisher(
        settings.CELERY_BROKER_URL, queue=own_queue, timeout=5, pause=5, per_message=2
    )
    p = [make_payload(1) for _ in range(5)]
    broker.publish(p)  # returns once the broker confirmed all three messages
    broker.publish(p[:1])
    assert messages_on(own_queue) == [[p[0], p[1]], [p[2], p[3]], [p[4]], [p[0]]]


def test_concurrent_callers_share_the_publisher_and_each_is_confirmed(own_queue):
    broker = BrokerPublisher(settings.CELERY_BROKER_URL, queue=own_queue, timeout=5, pause=5)
    groups = [[make_payload(t) for _ in range(10)] for t in range(8)]
    threads = [threading.Thread(target=broker.publish, args=(group,)) for group in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    carried = [p["id"] for message in messages_on(own_queue) for p in message]
    assert sorted(carried) == sorted(p["id"] for group in groups for p in group)


def test_every_node_listed_is_tried_in_turn_when_connecting(own_queue):
    # A cluster's URL whose first two nodes are down: the third takes the events at once.
    url = ";".join(
        [CLOSED_PORT_URL, "amqp://guest:guest@127.0.0.1:2//", settings.CELERY_BROKER_URL]
    )
    broker = BrokerPublisher(url, queue=own_queue, timeout=5, pause=5)
    p = [make_payload(1)]
    started = time.monotonic()
    broker.publish(p)
    assert time.monotonic() - started < 2
    assert messages_on(own_queue) == [p]


def test_an_unroutable_message_fails_the_publish(own_queue):
    # A queue that does not exist on the default exchange: the mandatory message comes back.
    broker = BrokerPublisher(settings.CELERY_BROKER_URL, queue=own_queue, timeout=5, pause=0)
    broker.publish([make_payload(1)])  # declares the queue
    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.default_channel.queue_delete(own_queue.name)
    with pytest.raises(PublishFailed, match="could not route"):
        broker.publish([make_payload(1)])


def test_unconfirmed_publish_raises_and_pauses_the_broker():
    broker = BrokerPublisher(CLOSED_PORT_URL, timeout=0.5, pause=5)
    with pytest.raises(PublishFailed):
        broker.publish([make_payload(1)])
    assert not broker.available()
    with pytest.raises(PublishFailed, match="unavailable"):
        broker.publish([make_payload(1)])


def test_the_default_queue_is_the_events_queue():
    broker = BrokerPublisher(CLOSED_PORT_URL, timeout=0.5, pause=5)
    assert broker.queue.name == settings.MVSIC_EVENTS_QUEUE
    assert broker.per_message == settings.MVSIC_EVENTS_PER_MESSAGE
