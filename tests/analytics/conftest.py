"""What the capture tests share: posting events, and reading what reached the events queue."""

import json

import pytest
from django.conf import settings
from django.test import Client

from analytics import relay, wire
from mvsic.celery import app as celery_app
from mvsic.listeners import COOKIE_SALT
from tests.conftest import BROWSER_UA, make_ingest_key, make_track, wait_for

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
def client(db):
    """A server-side client with an ingest key: names listeners, never rate limited.
    A 500 must show up as a status code here, not as a re-raised exception."""
    return Client(
        raise_request_exception=False,
        HTTP_AUTHORIZATION=f"Ingest {make_ingest_key()}",
        HTTP_USER_AGENT=BROWSER_UA,
    )


def browser_client(listener: str | None = "fan-cookie") -> Client:
    """A browser: no key, a browser user agent and the site's signed listener cookie."""
    browser = Client(raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA)
    if listener is not None:
        cookie_set(browser, listener)
    return browser


def cookie_set(browser: Client, listener: str) -> None:
    """Sign `listener` as the site would and put it in the client's cookie jar."""
    from django.core.signing import get_cookie_signer

    signed = get_cookie_signer(salt=settings.MVSIC_LISTENER_COOKIE + COOKIE_SALT).sign(listener)
    browser.cookies[settings.MVSIC_LISTENER_COOKIE] = signed


@pytest.fixture
def browser(db):
    return browser_client()


def post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if not data:  # the test client drops the content type of an empty body; clients don't
        extra["CONTENT_TYPE"] = content_type
    # generic() sends the bytes as they are, whatever charset the content type names.
    return client.generic("POST", EVENTS_URL, data, content_type=content_type, **extra)


@pytest.fixture
def track():
    return make_track()
