"""What the capture tests share: posting events, and reading what reached the events queue."""

import json

import pytest
from django.test import Client

from analytics import relay, wire
from mvsic.celery import app as celery_app
from tests.conftest import make_track, wait_for

EVENTS_URL = "/api/v1/events/"


def queued_payloads() -> list[dict]:
    """Take every message off the test events queue; return the payloads they carry."""
    spool = relay.process_relay().spool
    wait_for(lambda: not spool.segments(), timeout=10, message="the relay left the spool")
    payloads = []
    with (
        celery_app.connection_for_read() as conn,
        conn.SimpleQueue(wire.events_queue(), no_ack=True) as simple,
    ):
        while True:
            try:
                message = simple.get_nowait()
            except simple.Empty:
                return payloads
            assert message.content_type == "application/json"
            assert message.properties["delivery_mode"] == 2
            payloads.extend(wire.body_events(message.decode()))


@pytest.fixture
def queue(broker_queues):
    """The events queue, emptied before the test; call it to take what was published."""
    queued_payloads()
    return queued_payloads


@pytest.fixture
def client():
    # A 500 must show up as a status code here, not as a re-raised exception.
    return Client(raise_request_exception=False)


def post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if not data:  # the test client drops the content type of an empty body; clients don't
        extra["CONTENT_TYPE"] = content_type
    # generic() sends the bytes as they are, whatever charset the content type names.
    return client.generic("POST", EVENTS_URL, data, content_type=content_type, **extra)


@pytest.fixture
def track():
    return make_track()
