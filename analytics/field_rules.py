"""One rule per field of a fan event: the normalised value, or the error a client reads.

Shared by the edge (analytics.validation) and the worker (analytics.payloads), so an event
is held to the same rules wherever it is checked.
"""

import ipaddress
import math
import uuid
from datetime import UTC, datetime

from analytics.dimensions import referrer_valid
from analytics.hearing import MAX_RANGES
from analytics.models import EventType
from mvsic.listeners import listener_id_valid

MAX_TRACK_ID = 2**63 - 1
MAX_SECONDS = 10_000_000
MAX_SOURCE = 64
MAX_USER_AGENT = 512
ADDRESS_CHARS = 16
# EventType.values builds a new list on every access.
TYPES = frozenset(EventType.values)
ID_ERROR = "Must be a UUID string."
TYPE_ERROR = f"Must be one of: {', '.join(EventType.values)}."
TRACK_ERROR = "Must be a positive integer track id."
ARTIST_ERROR = "Must be a positive integer artist id."
LISTENER_ERROR = "Must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'."
SECONDS_KIND_ERROR = "Only plays have seconds."
RANGES_KIND_ERROR = "Only playback summaries (type heard) have ranges."
REFERRER_ERROR = "Must be the host name of the page that linked here, e.g. blog.example.com."


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
