"""The rules of a valid fan event, applied at the edge and again in the worker.

`event_validate` turns what a client sent into a payload to queue, or into errors by field
for the client; analytics.payloads applies the same field rules to a payload taken off the
queue. Plain Python: cheap enough for 500-event requests.
"""

import ipaddress
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics.dimensions import referrer_valid
from analytics.hearing import MAX_RANGES
from analytics.models import FOLLOW_TYPES, EventType
from mvsic.listeners import listener_id_valid

FIELDS = frozenset(
    {
        "id",
        "type",
        "track",
        "artist",
        "listener",
        "ts",
        "seconds",
        "source",
        "referrer",
        "ranges",
        "ip",
        "ua",
    }
)
TRUSTED_FIELDS = ("ip", "ua")  # only ingest-key clients may send these
MAX_TRACK_ID = 2**63 - 1
MAX_SECONDS = 10_000_000
MAX_SOURCE = 64
MAX_USER_AGENT = 512
ADDRESS_CHARS = 16
# An error response never grows much beyond the request: echo a few unknown names only.
MAX_UNKNOWN_ECHOED = 10
# EventType.values builds a new list on every access.
TYPES = frozenset(EventType.values)

REQUIRED = "This field is required."
ID_ERROR = "Must be a UUID string."
TYPE_ERROR = f"Must be one of: {', '.join(EventType.values)}."
TRACK_ERROR = "Must be a positive integer track id."
ARTIST_ERROR = "Must be a positive integer artist id."
TRACK_KIND_ERROR = "Follows and unfollows are of an artist: send artist, not track."
ARTIST_KIND_ERROR = "Only follows and unfollows have an artist."
LISTENER_ERROR = "Must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'."
TS_ERROR = "Must be an ISO 8601 date and time."
SECONDS_KIND_ERROR = "Only plays have seconds."
SECONDS_REQUIRED = "Required for a play: the seconds listened."
UNTRUSTED_ERROR = "Only clients with an ingest key may set this."
NULL_ERROR = "May be left out, but not null."
OPTIONAL_NOT_NULL = ("ts", "seconds", "source", "referrer", "ranges", "ip", "ua")
RANGES_KIND_ERROR = "Only playback summaries (type heard) have ranges."
RANGES_REQUIRED = "Required for a summary: the [start, end] seconds of the track played."
REFERRER_ERROR = "Must be the host name of the page that linked here, e.g. blog.example.com."
NO_LISTENER_ERROR = (
    "No listener: browsers get the mvsic_listener cookie from any page of the site; "
    "server-side clients send an ingest key and a listener."
)


@dataclass(frozen=True)
class Edge:
    """What the edge knows of a request, for every event in it."""

    now: datetime
    max_skew: timedelta
    max_age: timedelta
    trusted: bool  # an ingest-key client: names listeners, may pass ip and ua
    listener: str | None  # the cookie's (browsers)
    address: str  # hash of the request's client address
    user_agent: str
    address_hash: Callable[[str], str]  # for an ingest-key client's per-event ip
    country: str = ""  # of the request's address
    country_of: Callable[[str], str] = lambda ip: ""  # for an ingest-key client's per-event ip


# --- one rule per field: the normalised value, or the error -------------------------------
def _id_parse(value) -> uuid.UUID | None:
    if isinstance(value, str) and len(value) <= 64:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return None


def _id_rule(value) -> tuple[str | None, str | None]:
    parsed = _id_parse(value)
    return (str(parsed), None) if parsed is not None else (None, ID_ERROR)


def _type_error(value) -> str | None:
    return None if isinstance(value, str) and value in TYPES else TYPE_ERROR


def _track_error(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TRACK_ID:
        return None
    return TRACK_ERROR


def _artist_error(value) -> str | None:
    return None if _track_error(value) is None else ARTIST_ERROR


def _target_check(errors: dict, raw: dict, kind) -> tuple:
    """(track, artist) of an event: a follow or unfollow names an artist, the rest a track."""
    track, artist = raw.get("track"), raw.get("artist")
    if isinstance(kind, str) and kind in FOLLOW_TYPES:
        if track is not None:
            errors["track"] = [TRACK_KIND_ERROR]
        _check(errors, "artist", artist, _artist_error)
        return None, artist
    if artist is not None:
        errors["artist"] = [ARTIST_KIND_ERROR]
    _check(errors, "track", track, _track_error)
    return track, None


def _listener_error(value) -> str | None:
    return None if listener_id_valid(value) else LISTENER_ERROR


def _seconds_error(value, kind) -> str | None:
    if kind is not None and kind != EventType.PLAY:
        return SECONDS_KIND_ERROR
    # Only floats can be NaN/inf; isfinite() raises OverflowError on ints like 10**400.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number."
    if isinstance(value, float) and not math.isfinite(value):
        return "Must be a number."
    if not 0 <= value <= MAX_SECONDS:
        return f"Must be between 0 and {MAX_SECONDS}."
    return None


def _source_error(value) -> str | None:
    if not isinstance(value, str):
        return "Must be a string."
    if len(value) > MAX_SOURCE:
        return f"Must be at most {MAX_SOURCE} characters."
    if not value.isprintable():
        return "Must not contain control characters."
    return None


def _referrer_error(value) -> str | None:
    return None if isinstance(value, str) and referrer_valid(value) else REFERRER_ERROR


def _number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _ranges_error(value, kind) -> str | None:
    if kind is not None and kind != EventType.HEARD:
        return RANGES_KIND_ERROR
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RANGES:
        return f"Must be a list of 1 to {MAX_RANGES} [start, end] pairs."
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and all(map(_number, pair))):
            return "Each range must be [start, end], two numbers of seconds."
        if not 0 <= pair[0] < pair[1] <= MAX_SECONDS:
            return f"Each range must have 0 <= start < end <= {MAX_SECONDS}."
    return None


def _ip_error(value) -> str | None:
    if isinstance(value, str) and len(value) <= 45:
        try:
            ipaddress.ip_address(value)
            return None
        except ValueError:
            pass
    return "Must be an IPv4 or IPv6 address."


def _ua_error(value) -> str | None:
    if not isinstance(value, str):
        return "Must be a string."
    if len(value) > MAX_USER_AGENT:
        return f"Must be at most {MAX_USER_AGENT} characters."
    return None if value.isprintable() else "Must not contain control characters."


def _ts_parse(value, *, naive_is_utc: bool) -> datetime | None:
    """An aware UTC datetime, or None. Clients may omit the zone (UTC is assumed); queued
    payloads always carry one."""
    # Python 3.11's fromisoformat accepts a trailing NUL; ISO 8601 text is printable ASCII.
    if (
        not isinstance(value, str)
        or len(value) > 40
        or not (value.isascii() and value.isprintable())
    ):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        if not naive_is_utc:
            return None
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- the edge ------------------------------------------------------------------------------
def event_validate(raw, *, edge: Edge) -> tuple[dict | None, dict]:
    """Return (payload, {}) for a valid event or (None, errors by field) for an invalid one.

    The payload is plain JSON data, ready to queue: ids, strings, ISO timestamps, and the
    address only as its hash.
    """
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Each event must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - FIELDS)
    for name in unknown[:MAX_UNKNOWN_ECHOED]:
        # Names are echoed in the response: a lone surrogate ("\ud800") cannot be UTF-8 encoded.
        errors[str(name)[:64].encode("utf-8", "backslashreplace").decode()] = ["Unknown field."]
    if len(unknown) > MAX_UNKNOWN_ECHOED:
        errors["non_field_errors"] = [
            f"{len(unknown) - MAX_UNKNOWN_ECHOED} more unknown fields are not listed."
        ]

    event_id = raw.get("id")
    if event_id is None:
        errors["id"] = [REQUIRED]
    else:
        event_id, error = _id_rule(event_id)
        if error:
            errors["id"] = [error]
    kind = raw.get("type")
    _check(errors, "type", kind, _type_error)
    track, artist = _target_check(errors, raw, kind)
    listener, address, user_agent, country = _who(raw, edge, errors)

    ts = raw.get("ts")
    if ts is None:
        ts = edge.now
    else:
        ts = _ts_parse(ts, naive_is_utc=True)
        if ts is None:
            errors["ts"] = [TS_ERROR]
        elif ts > edge.now + edge.max_skew:
            errors["ts"] = ["Is in the future."]
        elif ts < edge.now - edge.max_age:
            errors["ts"] = [f"Is older than {edge.max_age.total_seconds() / 86400:g} days."]

    seconds = raw.get("seconds")
    if seconds is not None or kind == EventType.PLAY:
        if seconds is None:
            errors["seconds"] = [SECONDS_REQUIRED]
        else:
            _check(errors, "seconds", seconds, lambda value: _seconds_error(value, kind))
    source = raw.get("source")
    if source is not None:
        _check(errors, "source", source, _source_error)
    referrer = raw.get("referrer")
    if referrer is not None:
        _check(errors, "referrer", referrer, _referrer_error)
    ranges = raw.get("ranges")
    if ranges is not None or kind == EventType.HEARD:
        if ranges is None:
            errors["ranges"] = [RANGES_REQUIRED]
        else:
            _check(errors, "ranges", ranges, lambda value: _ranges_error(value, kind))
    for name in OPTIONAL_NOT_NULL:
        if name in raw and raw[name] is None and name not in errors:
            errors[name] = [NULL_ERROR]

    if errors:
        return None, errors
    payload = {
        "id": event_id,
        "type": kind,
        "track": track,
        "listener": listener,
        "ts": ts.isoformat(),
        "received_at": edge.now.isoformat(),
        "seconds": float(seconds) if seconds is not None else None,
        "source": source or "",
        "referrer": referrer.lower() if referrer else "",
        "ranges": [[float(a), float(b)] for a, b in ranges] if ranges is not None else None,
        "country": country,
        "address": address,
        "ua": user_agent,
    }
    if artist is not None:
        payload["artist"] = artist
    return payload, {}


def _who(raw: dict, edge: Edge, errors: dict) -> tuple[str | None, str, str, str]:
    """The listener, address hash, user agent and country of an event: a browser's come
    from its cookie and request; an ingest-key client names them in the event."""
    if not edge.trusted:
        for name in TRUSTED_FIELDS:
            if name in raw:
                errors[name] = [UNTRUSTED_ERROR]
        if edge.listener is None:
            errors["listener"] = [NO_LISTENER_ERROR]
        # A body listener other than the cookie's is ignored: browsers cannot name listeners.
        return edge.listener, edge.address, edge.user_agent, edge.country
    listener = raw.get("listener")
    _check(errors, "listener", listener, _listener_error)
    address, user_agent, country = edge.address, edge.user_agent, edge.country
    ip = raw.get("ip")
    if ip is not None and not _check(errors, "ip", ip, _ip_error):
        address, country = edge.address_hash(ip), edge.country_of(ip)
    ua = raw.get("ua")
    if ua is not None and not _check(errors, "ua", ua, _ua_error):
        user_agent = ua
    return listener, address, user_agent, country


def _check(errors: dict, name: str, value, rule) -> bool:
    """Record the error of `value` under `name`, if any; True if there was one."""
    if value is None:
        errors[name] = [REQUIRED]
    elif (error := rule(value)) is not None:
        errors[name] = [error]
    else:
        return False
    return True
