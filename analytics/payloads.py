"""The worker's side of the event rules: a queued payload back into the event counting applies.

`payload_parse` applies the field rules of analytics.validation to a payload taken off the
queue (which an older release or another producer may have queued).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from analytics.field_rules import (
    ADDRESS_CHARS,
    ID_ERROR,
    _artist_error,
    _id_parse,
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
from analytics.models import FOLLOW_TYPES
from mvsic.hours import hour_floor


@dataclass(frozen=True)
class CountableEvent:
    """A queued event that passed the rules, ready to be counted."""

    id: uuid.UUID
    type: str
    track_id: int | None  # None for a follow or unfollow (of an artist)
    listener: str
    ts: datetime
    received_at: datetime
    seconds: float | None
    source: str
    address: str = ""
    user_agent: str | None = None  # None: queued before user agents were recorded
    referrer: str = ""
    country: str = ""
    ranges: tuple[tuple[float, float], ...] | None = None  # a summary's parts played
    artist_id: int | None = None  # a follow's or unfollow's

    @cached_property
    def hour(self) -> datetime:
        return hour_floor(self.ts)

    def payload(self) -> dict:
        """The queued form of this event (what `event_validate` made of it)."""
        payload = {
            "id": str(self.id),
            "type": self.type,
            "track": self.track_id,
            "listener": self.listener,
            "ts": self.ts.isoformat(),
            "received_at": self.received_at.isoformat(),
            "seconds": self.seconds,
            "source": self.source,
            "address": self.address,
            "ua": self.user_agent,
            "referrer": self.referrer,
            "country": self.country,
            "ranges": [list(r) for r in self.ranges] if self.ranges is not None else None,
        }
        if self.artist_id is not None:
            payload["artist"] = self.artist_id
        return payload


class InvalidPayload(ValueError):
    """A queued payload that breaks the rules: no retry can ever count it."""


def payload_parse(payload) -> CountableEvent:
    """The event a queued payload describes, by the same rules as the edge; raises
    InvalidPayload naming every field that breaks them."""
    if not isinstance(payload, dict):
        raise InvalidPayload("an event payload must be a JSON object")
    errors: dict[str, str] = {}
    event_id = _id_parse(payload.get("id"))
    if event_id is None:
        errors["id"] = ID_ERROR
    kind = payload.get("type")
    follow = isinstance(kind, str) and kind in FOLLOW_TYPES
    target = ("artist", _artist_error) if follow else ("track", _track_error)
    for name, rule in (("type", _type_error), target):
        if (error := rule(payload.get(name))) is not None:
            errors[name] = error
    if follow and payload.get("track") is not None:
        errors["track"] = "A follow has an artist, not a track."
    if (error := _listener_error(payload.get("listener"))) is not None:
        errors["listener"] = error
    ts = _ts_parse(payload.get("ts"), naive_is_utc=False)
    received_at = _ts_parse(payload.get("received_at"), naive_is_utc=False)
    for name, value in (("ts", ts), ("received_at", received_at)):
        if value is None:
            errors[name] = "Must be an ISO 8601 date and time with a zone."
    seconds = payload.get("seconds")
    if seconds is not None and (error := _seconds_error(seconds, kind)) is not None:
        errors["seconds"] = error
    source = payload.get("source") or ""
    if (error := _source_error(source)) is not None:
        errors["source"] = error
    address = payload.get("address") or ""  # absent in payloads queued before integrity
    if address and not (
        isinstance(address, str) and len(address) <= ADDRESS_CHARS and address.isalnum()
    ):
        errors["address"] = f"Must be a hash of at most {ADDRESS_CHARS} characters."
    user_agent = payload.get("ua")
    if user_agent is not None and (error := _ua_error(user_agent)) is not None:
        errors["ua"] = error
    # Absent in payloads queued before breakdowns and summaries.
    referrer = payload.get("referrer") or ""
    if referrer and (error := _referrer_error(referrer)) is not None:
        errors["referrer"] = error
    country = payload.get("country") or ""
    if country and not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        errors["country"] = "Must be a two-letter country code."
    ranges = payload.get("ranges")
    if (ranges is not None or kind == "heard") and (error := _ranges_error(ranges, kind)):
        errors["ranges"] = error
    if errors:
        raise InvalidPayload("; ".join(f"{name}: {error}" for name, error in errors.items()))
    return CountableEvent(
        id=event_id,
        type=kind,
        track_id=None if follow else payload["track"],
        listener=payload["listener"],
        ts=ts,
        received_at=received_at,
        seconds=float(seconds) if seconds is not None else None,
        source=source,
        address=address,
        user_agent=user_agent,
        referrer=referrer,
        country=country.upper(),
        ranges=tuple((float(a), float(b)) for a, b in ranges) if ranges is not None else None,
        artist_id=payload["artist"] if follow else None,
    )
