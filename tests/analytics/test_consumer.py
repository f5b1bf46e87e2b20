"""The batch consumer in a real worker: bad messages are parked, good ones counted."""

import amqp
import pytest
from django.conf import settings
from kombu import Connection

from analytics import publisher
from analytics.consumer import _payload_of
from analytics.models import PoisonEvent, TrackStats
from tests.conftest import make_payload, make_track, wait_for


def test_payload_of_reads_celery_protocol_2_bodies():
    payload = make_payload(1)
    assert _payload_of([[payload], {}, {}]) == payload
    for body in ([], [[]], [["x"], {}, {}], {"a": 1}, None):
        with pytest.raises(ValueError):
            _payload_of(body)


@pytest.mark.integration
def test_undecodable_and_foreign_messages_are_parked_and_do_not_block(celery_worker_process):
    track = make_track()
    good = [make_payload(track, "play", f"fan-{i}") for i in range(30)]
    with Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        queue = settings.MVSIC_EVENTS_QUEUE
        bad_json = amqp.Message(b"{not json", content_type="application/json", delivery_mode=2)
        foreign = amqp.Message(b'{"hello": 1}', content_type="application/json", delivery_mode=2)
        channel.basic_publish(bad_json, queue, queue)
        channel.basic_publish(foreign, queue, queue)
        for payload in good:
            channel.basic_publish(publisher.task_message(payload), queue, queue)

    wait_for(
        lambda: TrackStats.objects.filter(track=track, plays=30).exists(),
        timeout=30,
        message="the good events behind the bad messages were not counted",
    )
    reasons = sorted(PoisonEvent.objects.values_list("reason", flat=True))
    assert len(reasons) == 2
    assert any("undecodable" in r for r in reasons)
    assert any("not an analytics.record_event message" in r for r in reasons)
