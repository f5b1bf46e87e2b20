"""The rules of a valid fan event, applied at the edge and again in the worker.

`event_validate` turns what a client sent into a payload to queue, or into errors by field
for the client; analytics.payloads applies the same field rules to a payload taken off the
queue. Plain Python: cheap enough for 500-event requests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.field_rules import (
    _artist_error,
    _id_rule,
    _ip_error,
    _listener_error,
    _ranges_error,
    _referrer_error,
    _seconds_error,
    _source_error,
    _track_error,
    _ts_parse,
    _type_error,
    _ua_error,
)
from analytics.models import FOLLOW_TYPES, EventType

FIELDS = frozenset(
    [
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
    ]
)
TRUSTED_FIELDS = ("ip", "ua")  # only ingest-key clients may send these
# An error response never grows much beyond the request: echo a few unknown names only.
MAX_UNKNOWN_ECHOED = 10

REQUIRED = "This field is required."
TRACK_KIND_ERROR = "Follows and unfollows are of an artist: send artist, not track."
ARTIST_KIND_ERROR = "Only follows and unfollows have an artist."
TS_ERROR = "Must be an ISO 8601 date and time."
SECONDS_REQUIRED = "Required for a play: the seconds listened."
UNTRUSTED_ERROR = "Only clients with an ingest key may set this."
NULL_ERROR = "May be left out, but not null."
OPTIONAL_NOT_NULL = ("ts", "seconds", "source", "referrer", "ranges", "ip", "ua")
RANGES_REQUIRED = "Required for a summary: the [start, end] seconds of the track played."
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
