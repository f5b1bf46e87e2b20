"""Capture: fan events validated at the edge and handed over durably, before the 202.

No counter is touched here: the web request only validates, drops unknown tracks and hands
the valid events to the relay (analytics.relay), which has them on disk or confirmed by the
broker before this returns.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from analytics import relay
from analytics.addresses import address_hash
from analytics.clients import Client
from analytics.dimensions import country_of
from analytics.validation import Edge, event_validate
from mvsic.models import Artist, Track


@dataclass
class Acceptance:
    accepted: int
    rejected: list[dict]


def events_accept(*, raw_events: list, client: Client) -> Acceptance:
    """Validate fan events and hand each valid one over for counting.

    Raises broker.PublishFailed when neither the spool nor the broker could take them, and
    DatabaseError when track ids must be checked and the database does not answer.
    """
    edge = edge_of(client, timezone.now())
    valid: list[tuple[int, dict]] = []
    rejected: list[dict] = []
    for index, raw in enumerate(raw_events):
        payload, errors = event_validate(raw, edge=edge)
        if errors:
            rejected.append({"index": index, "errors": errors})
        else:
            valid.append((index, payload))
    known = track_ids_existing(ids={p["track"] for _, p in valid} - {None})
    # Follows name an artist (only when the request has any: plays and likes pay nothing).
    artists = {p["artist"] for _, p in valid if p["track"] is None}
    known_artists = artist_ids_existing(ids=artists) if artists else set()
    payloads = []
    for index, payload in valid:
        if payload["track"] in known:
            payloads.append(payload)
        elif payload["track"] is not None:
            rejected.append({"index": index, "errors": {"track": ["Unknown track."]}})
        elif payload["artist"] in known_artists:
            payloads.append(payload)
        else:
            rejected.append({"index": index, "errors": {"artist": ["Unknown artist."]}})
    rejected.sort(key=lambda r: r["index"])
    if payloads:
        relay.events_hand_over(payloads)
    return Acceptance(accepted=len(payloads), rejected=rejected)


def edge_of(client: Client, now: datetime) -> Edge:
    """What the edge knows of a client's request, for every event in it."""
    return Edge(
        now=now,
        max_skew=timedelta(seconds=settings.MVSIC_MAX_CLOCK_SKEW_SECONDS),
        max_age=timedelta(seconds=settings.MVSIC_MAX_EVENT_AGE_SECONDS),
        trusted=client.trusted,
        listener=client.listener,
        address=address_hash(client.ip, now=now) if client.ip else "",
        user_agent=client.user_agent,
        address_hash=lambda ip: address_hash(ip, now=now),
        country=country_of(client.ip) if client.ip else "",
        country_of=country_of,
    )


class _TrackCache:
    """Track ids seen to exist, per process, for a few seconds (no query per event)."""

    def __init__(self):
        self.expiry: dict[int, float] = {}

    def forget(self, track_id: int) -> None:
        self.expiry.pop(track_id, None)


track_cache = _TrackCache()


def track_ids_existing(*, ids: set[int]) -> set[int]:
    """The subset of `ids` that are tracks. Raises DatabaseError if it must ask and cannot."""
    now = time.monotonic()
    known = {i for i in ids if track_cache.expiry.get(i, 0.0) > now}
    missing = ids - known
    if missing:
        found = set(Track.objects.visible().filter(id__in=missing).values_list("id", flat=True))
        if len(track_cache.expiry) > 100_000:
            track_cache.expiry.clear()
        until = now + settings.MVSIC_TRACK_CACHE_SECONDS
        track_cache.expiry.update(dict.fromkeys(found, until))
        known |= found
    return known


artist_cache = _TrackCache()


def artist_ids_existing(*, ids: set[int]) -> set[int]:
    """The subset of `ids` that are artists, cached like tracks."""
    now = time.monotonic()
    known = {i for i in ids if artist_cache.expiry.get(i, 0.0) > now}
    missing = ids - known
    if missing:
        found = set(Artist.objects.filter(id__in=missing).values_list("id", flat=True))
        if len(artist_cache.expiry) > 100_000:
            artist_cache.expiry.clear()
        until = now + settings.MVSIC_TRACK_CACHE_SECONDS
        artist_cache.expiry.update(dict.fromkeys(found, until))
        known |= found
    return known
