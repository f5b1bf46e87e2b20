"""The batch consumer in a real worker: bad messages are parked, good ones counted."""

import amqp
import pytest
from django.conf import settings
from kombu import Connection

from analytics import publisher
from analytics.models import PoisonEvent, TrackStats
from tests.conftest import make_payload, make_track, wait_for


def test_message_payloads_reads_both_event_tasks_bodies():
    payload, other = make_payload(1), make_payload(2)
    assert publisher.message_payloads([[payload], {}, {}]) == [payload]
    assert publisher.message_payloads([[[payload, other]], {}, {}]) == [payload, other]
    for body in ([], [[]], [["x"], {}, {}], [[[]], {}, {}], [[[payload, "x"]], {}, {}], None):
        with pytest.raises(ValueError):
            publisher.message_payloads(body)


@pytest.mark.integration
def test_undecodable_and_foreign_messages_are_parked_and_do_not_block(celery_worker_process):
    track = make_track()
    good = [make_payload(track, "play", f"fan-{i}") for i in range(30)]
    grouped = [make_payload(track, "play", f"fan-{i}") for i in range(30, 100)]
    with Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        queue = settings.MVSIC_EVENTS_QUEUE
        bad_json = amqp.Message(b"{not json", content_type="application/json", delivery_mode=2)
        foreign = amqp.Message(b'{"hello": 1}', content_type="application/json", delivery_mode=2)
        channel.basic_publish(bad_json, queue, queue)
        channel.basic_publish(foreign, queue, queue)
        for payload in good:
            channel.basic_publish(publisher.task_message(payload), queue, queue)
        for start in range(0, len(grouped), 25):  # one message per group of events
            group = grouped[start : start + 25]
            channel.basic_publish(publisher.events_message(group), queue, queue)
            channel.basic_publish(publisher.events_message(group), queue, queue)  # again

    wait_for(
        lambda: TrackStats.objects.filter(track=track, plays=100).exists(),
        timeout=30,
        message="the good events behind the bad messages were not counted",
    )
    reasons = sorted(PoisonEvent.objects.values_list("reason", flat=True))
    assert len(reasons) == 2
    assert any("undecodable" in r for r in reasons)
    assert any("not an analytics.record_event(s) message" in r for r in reasons)
