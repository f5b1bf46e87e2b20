"""Fan events are answered ahead of the site's middleware, with the same answers."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, override_settings
from django.urls import reverse

from analytics.api.events import EventsView
from tests.analytics.conftest import EVENTS_URL, post
from tests.conftest import make_event

pytestmark = pytest.mark.django_db

LONG_WAY = [m for m in settings.MIDDLEWARE if m != "analytics.middleware.EventCaptureMiddleware"]


def test_the_path_is_the_events_url():
    assert reverse("api:events") == EVENTS_URL


def test_capture_skips_the_site_middleware(client, queue, track):
    with mock.patch.object(SessionMiddleware, "process_request", side_effect=AssertionError):
        response = post(client, make_event(track))
    assert response.status_code == 202
    assert len(queue()) == 1


def test_capture_keeps_the_security_headers(client, queue, track):
    response = post(client, make_event(track))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_host_outside_allowed_hosts_is_a_400(client, queue, track):
    response = post(client, make_event(track), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert queue() == []


def test_other_methods_take_the_long_way(client):
    assert client.get(EVENTS_URL).status_code == 405
    assert client.options(EVENTS_URL).status_code == 200


BODIES = {
    "accepted": lambda track: [make_event(track), {**make_event(track), "x": 1}],
    "rejected": lambda track: make_event(track, type="skip"),
    "not json": lambda track: "{",
    "empty array": lambda track: "[]",
}


def answer_the_long_way(client, body, **kwargs):
    """Post through the site's middleware, URL resolver and EventsView."""
    with (
        override_settings(MIDDLEWARE=LONG_WAY),
        mock.patch.object(EventsView, "post", autospec=True, side_effect=EventsView.post) as view,
    ):
        # A fresh client: one that has answered keeps the middleware it loaded then.
        response = post(Client(raise_request_exception=False, **client.defaults), body, **kwargs)
    view.assert_called_once()
    return response


@pytest.mark.parametrize("make_body", BODIES.values(), ids=BODIES.keys())
def test_the_long_way_answers_the_same(client, queue, track, make_body):
    short = post(client, make_body(track))
    long = answer_the_long_way(client, make_body(track))
    assert (long.status_code, long["Content-Type"]) == (short.status_code, short["Content-Type"])
    assert long.json() == short.json()
    assert len(queue()) == (2 if short.status_code == 202 else 0)


def test_the_long_way_answers_a_wrong_content_type_the_same(client, queue, track):
    short = post(client, make_event(track), content_type="text/plain")
    long = answer_the_long_way(client, make_event(track), content_type="text/plain")
    assert short.status_code == long.status_code == 415
    assert short.content == long.content
