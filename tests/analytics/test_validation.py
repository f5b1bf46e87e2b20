"""analytics.validation.event_validate: any input gives a payload or errors, never a crash."""

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.field_rules import MAX_SECONDS, MAX_TRACK_ID
from analytics.models import EventType
from analytics.validation import Edge, event_validate
from mvsic.listeners import listener_id_valid

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)
EVENT_ID = "6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11"
REQUEST_ADDRESS = "a" * 16
BROWSER = "Mozilla/5.0 (test)"


def edge(cookie=None, trusted=None) -> Edge:
    """A browser's edge when it has a cookie, an ingest-key client's otherwise."""
    return Edge(
        now=NOW,
        max_skew=SKEW,
        max_age=MAX_AGE,
        trusted=cookie is None if trusted is None else trusted,
        listener=cookie,
        address=REQUEST_ADDRESS,
        user_agent=BROWSER,
        address_hash=lambda ip: f"hash-of-{len(ip)}",
    )


def validate(raw, cookie=None, trusted=None):
    return event_validate(raw, edge=edge(cookie, trusted))


def event(**fields) -> dict:
    raw = {"id": EVENT_ID, "type": "play", "track": 7, "listener": "fan_1", "seconds": 31}
    raw.update(fields)
    return {k: v for k, v in raw.items() if v is not ...}


def errors_of(raw, cookie=None, trusted=None) -> dict:
    payload, errors = validate(raw, cookie, trusted)
    assert payload is None
    assert errors
    return errors


def test_valid_play_becomes_a_plain_payload():
    payload, errors = validate(event(seconds=31, source="track-page", ts="2026-03-01T12:00:00Z"))
    assert errors == {}
    assert payload == {
        "id": EVENT_ID,
        "type": "play",
        "track": 7,
        "listener": "fan_1",
        "ts": "2026-03-01T12:00:00+00:00",
        "received_at": NOW.isoformat(),
        "seconds": 31.0,
        "source": "track-page",
        "referrer": "",
        "ranges": None,
        "country": "",
        "address": REQUEST_ADDRESS,
        "ua": BROWSER,
    }


def test_an_ingest_key_client_passes_the_fans_address_and_user_agent():
    payload, errors = validate(event(ip="203.0.113.9", ua="FanApp/2.1 (iPhone)"))
    assert errors == {}
    assert payload["address"] == "hash-of-11"  # only the hash: the address is not queued
    assert "203.0.113.9" not in repr(payload)
    assert payload["ua"] == "FanApp/2.1 (iPhone)"


@pytest.mark.parametrize("ip", ["", "999.1.1.1", "localhost", 12, ["1.2.3.4"], "1.2.3.4" * 10])
def test_a_bad_ip_is_rejected(ip):
    assert list(errors_of(event(ip=ip))) == ["ip"]


@pytest.mark.parametrize("ua", ["x" * 513, "a\x00b", 5, ["Mozilla"]])
def test_a_bad_user_agent_is_rejected(ua):
    assert list(errors_of(event(ua=ua))) == ["ua"]


@pytest.mark.parametrize("name", ["ip", "ua"])
def test_a_browser_may_not_pass_an_address_or_user_agent(name):
    errors = errors_of(event(**{name: "203.0.113.9"}), cookie="cookie-fan")
    assert errors == {name: ["Only clients with an ingest key may set this."]}


@pytest.mark.parametrize("kind", ["play", "like", "unlike"])
def test_every_type_is_accepted(kind):
    payload, errors = validate(event(type=kind, seconds=31 if kind == "play" else ...))
    assert errors == {}
    assert payload["type"] == kind


@pytest.mark.parametrize("kind", ["follow", "unfollow"])
def test_a_follow_names_an_artist_not_a_track(kind):
    payload, errors = validate(event(type=kind, track=..., seconds=..., artist=3))
    assert errors == {}
    assert (payload["type"], payload["track"], payload["artist"]) == (kind, None, 3)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"track": ...}, {"artist": ["This field is required."]}),
        ({"track": ..., "artist": 0}, {"artist": ["Must be a positive integer artist id."]}),
        ({"track": ..., "artist": "band"}, {"artist": ["Must be a positive integer artist id."]}),
        (
            {"artist": 3},
            {"track": ["Follows and unfollows are of an artist: send artist, not track."]},
        ),
    ],
)
def test_a_bad_follow_is_rejected_with_a_reason(fields, expected):
    assert errors_of(event(type="follow", seconds=..., **fields)) == expected


def test_only_follows_have_an_artist():
    errors = errors_of(event(type="like", seconds=..., artist=3))
    assert errors == {"artist": ["Only follows and unfollows have an artist."]}


def test_id_is_normalised_to_the_canonical_uuid_form():
    payload, _ = validate(event(id=EVENT_ID.upper().replace("-", "")))
    assert payload["id"] == EVENT_ID


def test_optional_fields_get_defaults():
    payload, errors = validate(event(type="like", listener=..., seconds=...), cookie="cookie-fan")
    assert errors == {}
    assert payload["listener"] == "cookie-fan"
    assert payload["ts"] == NOW.isoformat()
    assert payload["seconds"] is None
    assert payload["source"] == ""


@pytest.mark.parametrize("listener", ["someone-else", "cookie-fan", "bad listener!", ...])
def test_a_browser_is_always_its_cookies_listener(listener):
    payload, errors = validate(event(listener=listener), cookie="cookie-fan")
    assert errors == {}
    assert payload["listener"] == "cookie-fan"


def test_a_browser_without_the_cookie_is_told_where_to_get_one():
    errors = errors_of(event(listener="fan_1"), trusted=False)
    assert list(errors) == ["listener"]
    assert "cookie" in errors["listener"][0]


def test_an_ingest_key_client_must_name_the_listener():
    assert errors_of(event(listener=...)) == {"listener": ["This field is required."]}


@pytest.mark.parametrize("kind", ["play"])
def test_a_play_needs_its_seconds(kind):
    errors = errors_of(event(type=kind, seconds=...))
    assert errors == {"seconds": ["Required for a play: the seconds listened."]}


def test_events_older_than_the_maximum_age_are_rejected():
    assert validate(event(ts=(NOW - MAX_AGE + timedelta(seconds=1)).isoformat()))[1] == {}
    errors = errors_of(event(ts=(NOW - MAX_AGE - timedelta(seconds=1)).isoformat()))
    assert errors == {"ts": ["Is older than 7 days."]}


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00+00:00"),  # naive means UTC
        ("2026-03-01T13:00:00+02:00", "2026-03-01T11:00:00+00:00"),
        ("2026-03-01T12:34:00Z", "2026-03-01T12:34:00+00:00"),  # within the allowed skew
    ],
)
def test_timestamps_are_stored_in_utc(ts, expected):
    payload, errors = validate(event(ts=ts))
    assert errors == {}
    assert payload["ts"] == expected


@pytest.mark.parametrize(
    "ts",
    [
        "2026-03-01T12:36:00Z",  # beyond the skew
        "2026-02-20T12:00:00Z",  # older than the maximum age
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59",
        "0001-01-01T00:30:00+01:00",  # overflows when converted to UTC
        "9999-12-31T23:30:00-01:00",
        "yesterday",
        "2026-13-01T00:00:00",
        "2026-03-01T10:00:00\x00",
        "2026-03-01T10:00:00" + "0" * 100,
        "",
        1772366400,
        True,
        ["2026-03-01T10:00:00Z"],
    ],
)
def test_bad_timestamps_are_rejected(ts):
    assert list(errors_of(event(ts=ts))) == ["ts"]


@pytest.mark.parametrize(
    "track", [True, False, "7", 7.0, 0, -1, 10**30, MAX_TRACK_ID + 1, [7], {"id": 7}, None]
)
def test_bad_track_is_rejected(track):
    assert list(errors_of(event(track=track))) == ["track"]


def test_largest_track_id_is_accepted():
    payload, errors = validate(event(track=MAX_TRACK_ID))
    assert errors == {}
    assert payload["track"] == MAX_TRACK_ID


@pytest.mark.parametrize(
    "event_id", [None, 1, "not-a-uuid", EVENT_ID + "0", "x" * 1000, EVENT_ID + "\x00", [EVENT_ID]]
)
def test_bad_id_is_rejected(event_id):
    assert list(errors_of(event(id=event_id))) == ["id"]


@pytest.mark.parametrize("kind", [None, "PLAY", "skip", "", 1, ["play"], {"play": 1}])
def test_bad_type_is_rejected(kind):
    assert "type" in errors_of(event(type=kind))


@pytest.mark.parametrize(
    "listener", ["", "x" * 65, "fan 1", "fan\x00", "fän", "fan🎵", 42, None, ["fan"]]
)
def test_bad_listener_is_rejected(listener):
    assert list(errors_of(event(listener=listener))) == ["listener"]


@pytest.mark.parametrize(
    "seconds",
    [
        -0.5,
        MAX_SECONDS + 1,
        1e308,
        math.inf,
        -math.inf,
        math.nan,
        10**30,
        10**400,  # too large for a float: must be an error, not an OverflowError
        True,
        "31",
        [31],
    ],
)
def test_bad_seconds_are_rejected(seconds):
    assert list(errors_of(event(seconds=seconds))) == ["seconds"]


@pytest.mark.parametrize("kind", ["like", "unlike"])
def test_only_plays_have_seconds(kind):
    assert list(errors_of(event(type=kind, seconds=3))) == ["seconds"]


def test_source_may_hold_emoji():
    payload, errors = validate(event(source="radio 🎵 ünïcode"))
    assert errors == {}
    assert payload["source"] == "radio 🎵 ünïcode"


@pytest.mark.parametrize("source", ["a\x00b", "line\nbreak", "x" * 65, 5, ["s"], {"s": 1}])
def test_bad_source_is_rejected(source):
    assert list(errors_of(event(source=source))) == ["source"]


def test_unknown_fields_are_named():
    errors = errors_of(event(extra=1, **{"x" * 100: 2}))
    assert errors == {"extra": ["Unknown field."], "x" * 64: ["Unknown field."]}


def test_unknown_field_names_are_echoed_as_encodable_text():
    errors = errors_of(event(**{"\ud800x": 1, "nul\x00": 2}))
    assert errors == {"\\ud800x": ["Unknown field."], "nul\x00": ["Unknown field."]}
    json.dumps(errors, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("raw", [None, 1, "play", [], [{"id": EVENT_ID}], True])
def test_non_objects_are_rejected(raw):
    assert list(errors_of(raw)) == ["non_field_errors"]


def test_every_problem_is_reported_at_once():
    errors = errors_of({"type": "nope", "track": "x", "seconds": -1, "source": 1, "ip": 1})
    assert set(errors) == {"id", "type", "track", "listener", "seconds", "source", "ip"}


# --- property: arbitrary JSON never raises; a payload is always plain, valid data ---------------
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=10), inner)
    ),
    max_leaves=12,
)
field_values = {
    "id": st.uuids().map(str) | json_values,
    "type": st.sampled_from(EventType.values) | json_values,
    "track": st.integers(min_value=-5, max_value=2**64) | json_values,
    "artist": st.integers(min_value=-5, max_value=2**64) | json_values,
    "listener": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | json_values,
    "ts": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | json_values,
    "seconds": st.floats(min_value=0, max_value=MAX_SECONDS) | json_values,
    "source": st.text(max_size=70) | json_values,
    "ip": st.ip_addresses().map(str) | json_values,
    "ua": st.text(max_size=80) | json_values,
}
events = st.fixed_dictionaries({}, optional=field_values) | json_values


def assert_valid_payload(payload: dict) -> None:
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert str(uuid.UUID(payload["id"])) == payload["id"]
    assert payload["type"] in EventType.values
    if payload["type"] in ("follow", "unfollow"):
        assert payload["track"] is None
        assert type(payload["artist"]) is int and 1 <= payload["artist"] <= MAX_TRACK_ID
    else:
        assert type(payload["track"]) is int and 1 <= payload["track"] <= MAX_TRACK_ID
        assert "artist" not in payload
    assert listener_id_valid(payload["listener"])
    ts = datetime.fromisoformat(payload["ts"])
    assert ts.utcoffset() == timedelta(0) and NOW - MAX_AGE <= ts <= NOW + SKEW
    assert datetime.fromisoformat(payload["received_at"]) == NOW
    seconds = payload["seconds"]
    assert seconds is None or (type(seconds) is float and 0 <= seconds <= MAX_SECONDS)
    assert (seconds is not None) == (payload["type"] == "play")
    assert isinstance(payload["source"], str) and len(payload["source"]) <= 64
    assert len(payload["address"]) <= 16 and isinstance(payload["ua"], str)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=events, cookie=st.none() | st.just("cookie-fan") | st.text(max_size=5))
def test_event_validate_never_raises_and_payloads_are_valid(raw, cookie):
    cookie = cookie if listener_id_valid(cookie) else None  # the service filters the cookie
    payload, errors = validate(raw, cookie)
    assert (payload is None) != (errors == {})
    if payload is not None:
        assert_valid_payload(payload)
    else:
        json.dumps(errors, ensure_ascii=False).encode("utf-8")  # the response body


def test_many_unknown_fields_are_summarised_not_all_echoed():
    from analytics.validation import MAX_UNKNOWN_ECHOED

    raw = {f"junk{i:04d}": i for i in range(1000)}
    payload, errors = validate(raw)
    assert payload is None
    assert sum(1 for v in errors.values() if v == ["Unknown field."]) == MAX_UNKNOWN_ECHOED
    assert errors["non_field_errors"] == ["990 more unknown fields are not listed."]


@pytest.mark.parametrize("name", ["ts", "source", "ip", "ua"])
def test_an_optional_field_sent_as_null_is_an_error(name):
    assert errors_of(event(**{name: None})) == {name: ["May be left out, but not null."]}


def test_seconds_null_on_a_like_is_an_error_and_on_a_play_is_missing():
    like = errors_of(event(type="like", seconds=None))
    assert like == {"seconds": ["May be left out, but not null."]}
    play = errors_of(event(seconds=None))
    assert play == {"seconds": ["Required for a play: the seconds listened."]}
