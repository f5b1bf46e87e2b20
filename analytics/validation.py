"""Validation of fan events at the API edge: plain Python, cheap enough for 500-event batches."""

import math
import uuid
from datetime import UTC, datetime, timedelta

from analytics.models import EventType
from mvsic.listeners import listener_id_valid as listener_valid

FIELDS = frozenset({"id", "type", "track", "listener", "ts", "seconds", "source"})
MAX_TRACK_ID = 2**63 - 1
MAX_SECONDS = 10_000_000
MAX_SOURCE = 64
# An error response never grows much beyond the request: echo a few unknown names only.
MAX_UNKNOWN_ECHOED = 10
# EventType.values builds a new list on every access.
TYPES = frozenset(EventType.values)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def event_validate(
    raw, *, listener_cookie: str | None, now: datetime, max_skew: timedelta
) -> tuple[dict | None, dict]:
    """Return (payload, {}) for a valid event or (None, errors by field) for an invalid one.

    The payload is plain JSON data, ready to queue: ids, strings, ISO timestamps.
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
        errors["id"] = ["This field is required."]
    else:
        try:
            if not isinstance(event_id, str) or len(event_id) > 64:
                raise ValueError
            event_id = str(uuid.UUID(event_id))
        except ValueError:
            errors["id"] = ["Must be a UUID string."]

    kind = raw.get("type")
    if kind is None:
        errors["type"] = ["This field is required."]
    elif not isinstance(kind, str) or kind not in TYPES:
        errors["type"] = [f"Must be one of: {', '.join(EventType.values)}."]

    track = raw.get("track")
    if track is None:
        errors["track"] = ["This field is required."]
    elif not isinstance(track, int) or isinstance(track, bool) or not 1 <= track <= MAX_TRACK_ID:
        errors["track"] = ["Must be a positive integer track id."]

    listener = raw.get("listener", listener_cookie)
    if listener is None:
        errors["listener"] = ["Required when there is no listener cookie."]
    elif not listener_valid(listener):
        errors["listener"] = ["Must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'."]

    ts = raw.get("ts")
    if ts is None:
        ts = now
    else:
        ts = _ts_parse(ts)
        if ts is None:
            errors["ts"] = ["Must be an ISO 8601 date and time."]
        elif ts > now + max_skew:
            errors["ts"] = ["Is in the future."]

    seconds = raw.get("seconds")
    if seconds is not None:
        if kind is not None and kind != EventType.PLAY:
            errors["seconds"] = ["Only plays have seconds."]
        # Only floats can be NaN/inf; isfinite() raises OverflowError on ints like 10**400.
        elif not _is_number(seconds) or (isinstance(seconds, float) and not math.isfinite(seconds)):
            errors["seconds"] = ["Must be a number."]
        elif not 0 <= seconds <= MAX_SECONDS:
            errors["seconds"] = [f"Must be between 0 and {MAX_SECONDS}."]

    source = raw.get("source")
    if source is not None:
        if not isinstance(source, str):
            errors["source"] = ["Must be a string."]
        elif len(source) > MAX_SOURCE:
            errors["source"] = [f"Must be at most {MAX_SOURCE} characters."]
        elif not source.isprintable():
            errors["source"] = ["Must not contain control characters."]

    if errors:
        return None, errors
    return {
        "id": event_id,
        "type": kind,
        "track": track,
        "listener": listener,
        "ts": ts.isoformat(),
        "received_at": now.isoformat(),
        "seconds": float(seconds) if seconds is not None else None,
        "source": source or "",
    }, {}


def _ts_parse(value) -> datetime | None:
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
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def source_valid(value: str) -> bool:
    """A source is a short printable string (no NUL or other control characters)."""
    return len(value) <= MAX_SOURCE and value.isprintable()
