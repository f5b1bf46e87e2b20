"""analytics.tasks: queued payloads are plain JSON, and the task is a stable, safe consumer."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from analytics import publisher
from analytics.models import Event, EventType, PoisonEvent, TrackStats
from analytics.tasks import record_event, record_events
from analytics.validation import MAX_SECONDS, MAX_TRACK_ID, event_validate
from mvsic.celery import app as celery_app
from tests.conftest import make_payload, make_track

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def validated(raw: dict, cookie: str | None = None) -> dict:
    payload, errors = event_validate(raw, listener_cookie=cookie, now=NOW, max_skew=SKEW)
    assert errors == {}, errors
    return payload


def assert_round_trips(payload: dict) -> None:
    assert json.loads(json.dumps(payload)) == payload
    # ... and as the exact Celery message the publisher sends to RabbitMQ.
    message = publisher.task_message(payload)
    assert message.properties["content_type"] == "application/json"
    args, kwargs, _ = json.loads(message.body)
    assert (args, kwargs) == ([payload], {})
    assert message.properties["application_headers"]["task"] == record_event.name
    # ... and in a group of events sent as one message.
    group = publisher.events_message([payload, payload])
    assert json.loads(group.body)[:2] == [[[payload, payload]], {}]
    assert group.properties["application_headers"]["task"] == record_events.name


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "6F1C1A523C1E4D1B9B7E2A6A3B0B9D11", "type": "play", "track": 1, "listener": "a"},
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
    assert_round_trips(validated(raw, cookie="cookie-fan"))


valid_events = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "type": st.sampled_from(EventType.values),
        "track": st.integers(min_value=1, max_value=MAX_TRACK_ID),
    },
    optional={
        "listener": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        "ts": st.datetimes(max_value=datetime(2026, 3, 1), timezones=st.timezones()).map(
            datetime.isoformat
        ),
        "seconds": st.floats(min_value=0, max_value=MAX_SECONDS) | st.integers(0, MAX_SECONDS),
        "source": st.text(max_size=64),
    },
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(raw=valid_events)
def test_every_payload_event_validate_makes_round_trips_through_json(raw):
    payload, _ = event_validate(raw, listener_cookie="cookie-fan", now=NOW, max_skew=SKEW)
    assume(payload is not None)  # e.g. seconds on a like, or a control character in source
    assert_round_trips(payload)


@pytest.mark.parametrize("name", ["analytics.record_event", "analytics.record_events"])
def test_the_event_tasks_are_stable_late_acked_tasks_without_results(name):
    assert {record_event.name, record_events.name} == {
        publisher.TASK_NAME,
        publisher.TASK_NAME_MANY,
    }
    task = celery_app.tasks[name]  # what a worker looks the name up to
    assert task.acks_late is True
    assert task.ignore_result is True
    route = celery_app.amqp.router.route({}, task.name)
    assert route["queue"].name == settings.MVSIC_EVENTS_QUEUE
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]


@pytest.mark.django_db
def test_record_event_counts_once_however_often_it_is_delivered():
    track = make_track()
    payload = make_payload(track, "play", "fan-1")
    for _ in range(3):
        record_event(json.loads(json.dumps(payload)))
    stats = TrackStats.objects.get(track=track)
    assert (stats.plays, stats.listeners) == (1, 1)
    assert Event.objects.filter(id=payload["id"]).count() == 1


@pytest.mark.django_db
def test_record_events_counts_a_group_once_however_often_it_is_delivered():
    track = make_track()
    payloads = [make_payload(track, "play", f"fan-{i % 3}") for i in range(5)]
    for _ in range(2):
        record_events(json.loads(json.dumps(payloads)))
    stats = TrackStats.objects.get(track=track)
    assert (stats.plays, stats.listeners) == (5, 3)


@pytest.mark.django_db
def test_record_event_parks_an_event_for_a_missing_track_and_returns():
    track = make_track()
    payload = make_payload(track)
    track.delete()
    record_event(payload)  # returns normally, so the message is acked, not redelivered
    assert "does not exist" in PoisonEvent.objects.get(event_id=payload["id"]).reason


@pytest.mark.django_db
def test_a_batch_that_keeps_failing_parks_only_the_bad_event(monkeypatch):
    from analytics import services, tasks
    from analytics.models import PoisonEvent, TrackStats
    from tests.conftest import make_payload, make_track

    track = make_track()
    good, bad = make_payload(track, listener="good"), make_payload(track, listener="bad")
    real_count = services.events_count

    def refuse_bad(*, payloads):
        if any(p["listener"] == "bad" for p in payloads):
            raise ValueError("cannot apply the bad one")
        return real_count(payloads=payloads)

    monkeypatch.setattr(services, "events_count", refuse_bad)
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)
    assert tasks.count_until_applied([good, bad]) == 1
    assert TrackStats.objects.get(track=track).plays == 1
    parked = PoisonEvent.objects.get()
    assert parked.event_id == bad["id"] and "cannot apply the bad one" in parked.reason
