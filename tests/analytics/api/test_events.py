"""POST /api/v1/events/ (analytics.api.events): events published for real to the test queue."""

import json
import uuid

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.renderers import JSONRenderer

from analytics.models import Event, PoisonEvent, TrackStats
from analytics.services.counting import events_count
from tests.analytics.conftest import browser_client, post
from tests.conftest import (
    make_artist,
    make_event,
    make_track,
    make_user,
)

pytestmark = pytest.mark.django_db


# --- capture: the happy paths -------------------------------------------------------------------
def test_capture_answers_json_whatever_the_accept_header_asks(client, queue, track):
    response = post(client, make_event(track, "play", "fan-1"), HTTP_ACCEPT="text/html")
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"accepted": 1, "rejected": []}
    assert len(queue()) == 1


def test_one_event_is_accepted_and_queued_as_plain_data(client, queue, track):
    sent = make_event(track, "play", "fan-1", seconds=31.5, source="track-page")
    response = post(client, sent)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "rejected": []}
    [payload] = queue()
    assert {k: payload[k] for k in sent} == sent
    assert set(payload) == {"id", "type", "track", "listener", "ts", "received_at"} | {
        "seconds",
        "source",
        "referrer",
        "ranges",
        "country",
        "address",
        "ua",
    }


def test_a_batch_reports_rejections_by_index_and_queues_only_valid_events(client, queue, track):
    good = [make_event(track, "play", "fan-1"), make_event(track, "like", "fan-2")]
    batch = [
        good[0],
        make_event(track, "skip"),
        make_event(track.id + 1000),
        good[1],
        "not an object",
    ]
    response = post(client, batch)
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 4]
    assert set(body["rejected"][0]["errors"]) == {"type"}
    assert body["rejected"][1]["errors"] == {"track": ["Unknown track."]}
    assert set(body["rejected"][2]["errors"]) == {"non_field_errors"}
    assert [p["id"] for p in queue()] == [e["id"] for e in good]


def test_answers_are_the_bytes_drf_would_render(client, queue, track):
    bad = {**make_event(track), "é-unknown\u2028": 1}  # JSONRenderer escapes U+2028
    response = post(client, [make_event(track), bad])
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(response.json())
    assert "é-unknown" in response.content.decode()
    assert response.json()["rejected"][0]["errors"] == {"é-unknown\u2028": ["Unknown field."]}


@pytest.mark.parametrize("n", [1, 2, 500])
def test_all_accepted_is_the_bytes_drf_would_render(client, queue, track, n):
    response = post(client, [make_event(track) for _ in range(n)])
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render({"accepted": n, "rejected": []})


def test_one_invalid_event_is_a_400_in_the_same_shape(client, queue, track):
    response = post(client, make_event(track, seconds=-1))
    assert response.status_code == 400
    assert response.json() == {
        "accepted": 0,
        "rejected": [{"index": 0, "errors": {"seconds": ["Must be between 0 and 10000000."]}}],
    }
    assert queue() == []


def test_a_batch_with_nothing_valid_is_a_400(client, queue, track):
    response = post(client, [make_event(track, type="x"), make_event(track.id + 1000)])
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 0
    assert [r["index"] for r in body["rejected"]] == [0, 1]
    assert queue() == []


def test_a_browsers_listener_is_its_signed_cookie_whatever_the_body_says(browser, queue, track):
    batch = [make_event(track, listener=None), make_event(track, listener="explicit")]
    assert post(browser, batch).status_code == 202
    assert [p["listener"] for p in queue()] == ["fan-cookie", "fan-cookie"]


@pytest.mark.parametrize("cookie", ["fan-cookie", "fan-cookie:forged-signature", "not valid!"])
def test_an_unsigned_or_forged_cookie_is_no_listener(queue, track, cookie):
    browser = browser_client(listener=None)
    browser.cookies[settings.MVSIC_LISTENER_COOKIE] = cookie
    response = post(browser, make_event(track, listener="fan-1"))
    assert response.status_code == 401  # neither a listener cookie nor an ingest key
    assert "listener cookie" in response.json()["detail"]
    assert queue() == []


def test_only_an_ingest_key_client_names_listeners_and_passes_address_and_agent(
    client, browser, queue, track
):
    sent = make_event(track, listener="app-fan-7", ip="198.51.100.7", ua="FanApp/3.0")
    assert post(client, sent).status_code == 202
    [payload] = queue()
    assert payload["listener"] == "app-fan-7" and payload["ua"] == "FanApp/3.0"
    assert "198.51.100.7" not in json.dumps(payload)
    response = post(browser, sent)
    assert response.status_code == 400
    assert set(response.json()["rejected"][0]["errors"]) == {"ip", "ua"}


@pytest.mark.parametrize("header", ["Ingest nope", "Ingest ", "ingest mvk_unknown"])
def test_an_unknown_ingest_key_is_a_401(queue, track, header):
    response = post(Client(), make_event(track), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Ingest"
    assert response.json() == {"detail": "Unknown or revoked ingest key."}
    assert queue() == []


def test_a_revoked_ingest_key_is_a_401(queue, track):
    from analytics.clients import key_cache
    from analytics.services.ingest_keys import ingest_key_create, ingest_key_revoke

    _, key = ingest_key_create(name="importer")
    keyed = Client(HTTP_AUTHORIZATION=f"Ingest {key}")
    assert post(keyed, make_event(track)).status_code == 202
    ingest_key_revoke(name="importer")
    key_cache.clear()  # what MVSIC_INGEST_KEY_CACHE_SECONDS does in time
    assert post(keyed, make_event(track)).status_code == 401
    assert len(queue()) == 1


def test_a_browser_over_its_rate_is_a_429_with_retry_after(queue, track, settings):
    settings.MVSIC_RATE_LIMIT_PER_SECOND = 1
    settings.MVSIC_RATE_LIMIT_BURST = 3
    browser = browser_client()
    codes = [post(browser, make_event(track)).status_code for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    response = post(browser, make_event(track))
    assert response["Retry-After"] == "1"
    assert "Too many event requests" in response.json()["detail"]
    # Another address has its own bucket; an ingest-key client is not limited per address.
    assert post(browser, make_event(track), REMOTE_ADDR="203.0.113.9").status_code == 202
    assert len(queue()) == 4


def test_the_rate_limit_is_shared_through_a_shared_cache(queue, track, settings):
    """With CACHE_URL=redis://... two web processes share one bucket per address."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": uuid.uuid4().hex,
        }
    }
    settings.MVSIC_RATE_LIMIT_PER_SECOND = 1
    settings.MVSIC_RATE_LIMIT_BURST = 2
    try:
        codes = [post(browser_client(), make_event(track)).status_code for _ in range(3)]
        from analytics import ratelimit

        assert ratelimit.local.tat == {}  # not kept in this process
        assert codes == [202, 202, 429]
    finally:
        caches["default"].clear()
        del caches["default"]


def test_a_full_batch_of_500_is_accepted(client, queue, track):
    batch = [make_event(track, "play", f"fan-{i}") for i in range(500)]
    response = post(client, batch)
    assert response.status_code == 202
    assert response.json() == {"accepted": 500, "rejected": []}
    assert sorted(p["id"] for p in queue()) == sorted(e["id"] for e in batch)


def test_more_than_500_events_is_a_400(client, queue, track):
    response = post(client, [make_event(track) for _ in range(501)])
    assert response.status_code == 400
    assert response.json() == {"detail": "At most 500 events per request."}
    assert queue() == []


def test_charset_parameter_is_allowed(client, queue, track):
    response = post(client, make_event(track), content_type="application/json; charset=utf-8")
    assert response.status_code == 202
    assert len(queue()) == 1


def test_events_need_no_csrf_token_even_with_a_session(queue, track):
    client = browser_client()
    client.force_login(make_user())
    client.handler.enforce_csrf_checks = True
    assert post(client, make_event(track)).status_code == 202
    assert len(queue()) == 1


def test_emoji_in_source_is_accepted(client, queue, track):
    response = post(client, make_event(track, source="radio 🎶 ünï"))
    assert response.status_code == 202
    assert queue()[0]["source"] == "radio 🎶 ünï"


# --- capture: bad input is always a clear 4xx and queues nothing --------------------------------
def _event_text(track_id: int, **overrides: str) -> str:
    """An event written as raw JSON text, so fields can hold what json.dumps never writes."""
    fields = {
        "id": json.dumps(str(uuid.uuid4())),
        "type": '"play"',
        "track": str(track_id),
        "listener": '"fan-1"',
    }
    fields.update(overrides)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


DEPTH = 100_000

GARBAGE = {
    "not json": lambda t: "this is not json",
    "truncated json": lambda t: _event_text(t)[:-3],
    "non-utf-8 bytes": lambda t: b"\xff\xfe\xfd" + _event_text(t).encode(),
    "non-utf-8 inside a string": lambda t: _event_text(t, source='"\xff"').encode("latin-1"),
    "utf-8 bom": lambda t: b"\xef\xbb\xbf" + _event_text(t).encode(),
    "empty body": lambda t: b"",
    "whitespace body": lambda t: b"   \n",
    "empty array": lambda t: "[]",
    "json null": lambda t: "null",
    "json number": lambda t: "42",
    "json string": lambda t: '"play"',
    "json true": lambda t: "true",
    "list as event": lambda t: f"[[{_event_text(t)}]]",
    "bool track": lambda t: _event_text(t, track="true"),
    "string track": lambda t: _event_text(t, track=f'"{t}"'),
    "float track": lambda t: _event_text(t, track=f"{t}.0"),
    "huge track": lambda t: _event_text(t, track=str(10**30)),
    "5000-digit track": lambda t: _event_text(t, track="9" * 5000),
    "seconds 1e308": lambda t: _event_text(t, seconds="1e308"),
    "seconds 1e400": lambda t: _event_text(t, seconds="1e400"),
    "seconds 10**400": lambda t: _event_text(t, seconds=str(10**400)),
    "seconds NaN": lambda t: _event_text(t, seconds="NaN"),
    "seconds Infinity": lambda t: _event_text(t, seconds="Infinity"),
    "seconds -Infinity": lambda t: _event_text(t, seconds="-Infinity"),
    "unknown field": lambda t: _event_text(t, referrer='"x"'),
    "NUL in source": lambda t: _event_text(t, source='"a\\u0000b"'),
    "NUL in listener": lambda t: _event_text(t, listener='"fan\\u0000"'),
    "NUL in id": lambda t: _event_text(t, id=json.dumps(str(uuid.uuid4()) + "\x00")),
    "NUL in type": lambda t: _event_text(t, type='"play\\u0000"'),
    "NUL in ts": lambda t: _event_text(t, ts='"2026-01-01T10:00:00\\u0000"'),
    "NUL in a field name": lambda t: _event_text(t, **{"x\\u0000": "1"}),
    "lone surrogate in a field name": lambda t: _event_text(t, **{"\\ud800": "1"}),
    "lone surrogate in source": lambda t: _event_text(t, source='"\\udfff"'),
    "nested garbage": lambda t: _event_text(
        t, id='{"a": [1, {"b": null}]}', source="[[[[{}]]]]", ts='{"$date": 1}'
    ),
    "deeply nested arrays": lambda t: "[" * DEPTH + "]" * DEPTH,
    "deeply nested objects": lambda t: '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "deeply nested field": lambda t: _event_text(t, source="[" * DEPTH + "]" * DEPTH),
    "unclosed deep nesting": lambda t: "[" * DEPTH,
}


@pytest.mark.parametrize("make_body", GARBAGE.values(), ids=GARBAGE.keys())
def test_bad_input_is_a_400_and_queues_nothing(client, queue, track, make_body):
    response = post(client, make_body(track.id))
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    response.json()
    assert queue() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "",
    ],
)
def test_wrong_content_type_is_a_415(client, queue, track, content_type):
    response = post(client, make_event(track), content_type=content_type)
    assert response.status_code == 415
    assert queue() == []


@pytest.mark.parametrize("charset", ["bz2_codec", "zlib_codec", "rot13", "no-such-charset"])
def test_odd_charsets_are_a_clear_4xx(client, queue, track, charset):
    response = post(client, make_event(track), content_type=f"application/json; charset={charset}")
    assert response.status_code in (202, 400), response.content[:300]
    assert len(queue()) == (1 if response.status_code == 202 else 0)


def test_a_body_over_1_mib_is_a_413(client, queue, track):
    padding = " " * settings.MVSIC_MAX_BODY_BYTES
    response = post(client, f"[{json.dumps(make_event(track))}{padding}]")
    assert response.status_code == 413
    assert queue() == []


def test_a_body_of_exactly_1_mib_is_read(client, queue, track):
    text = json.dumps(make_event(track))
    body = text + " " * (settings.MVSIC_MAX_BODY_BYTES - len(text))
    assert post(client, body).status_code == 202
    assert len(queue()) == 1


def test_a_track_deleted_before_the_event_is_rejected(client, queue, track):
    event = make_event(track)
    track.delete()
    response = post(client, event)
    assert response.status_code == 400
    assert response.json()["rejected"] == [{"index": 0, "errors": {"track": ["Unknown track."]}}]
    assert queue() == []


def test_a_track_deleted_after_acceptance_is_parked_by_the_worker(client, queue, track):
    event = make_event(track)
    assert post(client, event).status_code == 202
    artist = track.artist
    track.delete()
    [payload] = queue()
    assert events_count(payloads=[payload]) == 0  # what the worker does with the message
    poison = PoisonEvent.objects.get(event_id=event["id"])
    assert "does not exist" in poison.reason
    assert not TrackStats.objects.filter(track__artist=artist).exists()


def test_bad_requests_change_nothing_already_accepted(client, queue):
    member = make_user()
    artist = make_artist(members=[member])
    track = make_track(artist)
    accepted = [make_event(track, "play", f"fan-{i}") for i in range(3)]
    accepted.append(make_event(track, "like", "fan-1"))
    assert post(client, accepted).status_code == 202
    events_count(payloads=queue())  # counted, as a worker would

    def snapshot():
        stats = TrackStats.objects.get(track=track)
        return (stats.plays, stats.likes, stats.listeners, Event.objects.count())

    before = snapshot()
    assert before == (3, 1, 3, 4)
    replayed_with_garbage = [
        {**accepted[0], "type": "unlike"},
        {**accepted[1], "track": True},
        {**accepted[3], "seconds": float("nan")},
    ]
    for body in (
        json.dumps(replayed_with_garbage, allow_nan=True),
        "[" * DEPTH,
        b"\xff\xfe",
        "",
        json.dumps([{**accepted[0], "listener": "x" * 100}] * 3),
        json.dumps([make_event(track)] * 501),
    ):
        assert post(client, body).status_code == 400
    assert post(client, accepted[0], content_type="text/plain").status_code == 415
    assert queue() == []
    assert snapshot() == before

    client.force_login(member)
    body = client.get(f"/api/v1/tracks/{track.id}/stats/").json()
    assert (body["plays"], body["likes"], body["listeners"]) == (3, 1, 3)


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "cross-site"},
    ],
)
def test_a_browser_request_from_another_site_is_a_403(browser, queue, track, headers):
    response = post(browser, make_event(track), **headers)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Events are not taken from")
    assert queue() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://app.mvsic.example"},  # listed in CSRF_TRUSTED_ORIGINS
    ],
)
def test_the_sites_own_pages_and_trusted_origins_are_served(
    browser, queue, track, headers, settings
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.mvsic.example"]
    assert post(browser, make_event(track), **headers).status_code == 202
    assert len(queue()) == 1


def test_an_ingest_key_client_is_not_held_to_the_origin(client, queue, track):
    response = post(client, make_event(track), HTTP_ORIGIN="https://partner.example")
    assert response.status_code == 202
