"""Counting: a batch of queued events applied to the counters, exactly once per event id.

EventKey's primary key decides duplicates in the same transaction as the counter updates,
so a redelivered batch changes nothing; only new events are stored, with their reason. Each
table gets one upsert per batch.
"""

import uuid
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from analytics.hearing import heard_summary
from analytics.models import (
    ArtistStats,
    Event,
    EventKey,
    EventType,
    FilteredHour,
    TrackFiltered,
    TrackStats,
)
from analytics.partitions import partitions_for
from analytics.payloads import CountableEvent, InvalidPayload, payload_parse
from analytics.periods import zone_get
from analytics.placed import Placed, place
from analytics.services.counters import counters_apply
from analytics.services.follows import follows_apply, follows_filtered_rows, follows_store
from analytics.services.integrity import events_classify, user_agents_resolve
from analytics.services.limits import TrackInfo
from analytics.services.poison import poison_record
from analytics.services.rollups import rollups_count, rollups_write
from analytics.upsert import insert_on_conflict, table
from mvsic.models import Track

EVENT_COLUMNS = [
    "id", "type", "track", "listener", "ts", "received_at", "seconds", "source", "address",
    "user_agent", "counted_at", "referrer", "country", "heard", "reason",
]  # fmt: skip


def events_count(*, payloads: Sequence[dict]) -> int:
    """Apply a batch of accepted events to the counters, exactly once per event id.

    Each new event is credited or filtered with a reason (services.integrity); counters
    take the credited ones, FilteredHour the others. Events that can never be applied
    (malformed, or their track is gone) are parked as PoisonEvent rows. Returns the number
    of events newly counted (credited or filtered). Follows and unfollows (of an artist)
    go to services.follows, in the same transaction, only when the batch has some.
    """
    parsed: dict[uuid.UUID, CountableEvent] = {}
    follows: dict[uuid.UUID, CountableEvent] = {}
    for payload in payloads:
        try:
            event = payload_parse(payload)
        except InvalidPayload as exc:
            poison_record(payload=payload, reason=f"malformed payload: {exc}")
            continue
        (parsed if event.track_id is not None else follows).setdefault(event.id, event)
    if not follows:  # plays, likes and summaries only: nothing more to do than ever
        if not parsed:
            return 0
        with transaction.atomic():
            return _track_events_count(parsed, set())[0]
    with transaction.atomic():
        fresh, reasons = follows_store(events=list(follows.values()))
        credited = [e for e in fresh if e.id not in reasons]
        artists = {e.artist_id for e in fresh}  # filtered ones too: their rollups
        counted, zones = _track_events_count(parsed, artists) if parsed else (0, None)
        if fresh:
            if zones is None:  # no counter row locked yet: the follows' artists, in order
                zones = _stats_lock(track_ids=[], artist_ids=sorted(artists))
            rows = follows_apply(events=credited, zones=zones) if credited else Counter()
            filtered = [e for e in fresh if e.id in reasons]
            rows.update(follows_filtered_rows(events=filtered, reasons=reasons, zones=zones))
            rollups_write(rows, {})
        return counted + len(fresh)


def _track_events_count(parsed: dict[uuid.UUID, CountableEvent], follow_artists: set[int]):
    """(events newly counted, the zones of the artists whose counter rows are now locked,
    or None if none is), for the events of tracks; the artists of the batch's credited
    follows are locked with the tracks' (one lock order for the whole batch)."""
    tracks = {
        pk: TrackInfo(artist_id=artist_id, duration=duration)
        for pk, artist_id, duration in Track.objects.filter(
            id__in={e.track_id for e in parsed.values()}
        ).values_list("id", "artist_id", "duration")
    }
    artist_of = {pk: info.artist_id for pk, info in tracks.items()}
    for event in [e for e in parsed.values() if e.track_id not in artist_of]:
        del parsed[event.id]
        poison_record(payload=event.payload(), reason=f"track {event.track_id} does not exist")
    if not parsed:
        return 0, None
    # First, before this transaction writes to the events table: creating a partition
    # waits for the transactions writing there (analytics/partitions.py).
    partitions_for(e.ts for e in parsed.values())
    agents = user_agents_resolve({e.user_agent for e in parsed.values()} - {None})
    written = insert_on_conflict(
        EventKey,
        ["id", "ts"],
        sorted((e.id, e.ts) for e in parsed.values()),  # one lock order for every batch
        conflict=["id"],
        returning=["id"],
    )
    # psycopg2 returns UUIDs, SQLite their text.
    new_ids = {row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(row[0]) for row in written}
    fresh = [e for e in parsed.values() if e.id in new_ids]
    if not fresh:
        return 0, None
    bots = {text: bot for text, (_, bot) in agents.items()}
    reasons = events_classify(events=fresh, tracks=tracks, bots=bots)
    credited = [e for e in fresh if e.id not in reasons]
    # A summary is stored as the parts of its track it heard, and for how long.
    heard = {
        e.id: heard_summary(e.ranges or (), tracks[e.track_id].duration)
        for e in fresh
        if e.type == EventType.HEARD
    }
    _events_store(fresh, agents, reasons, heard)
    # Only the counters need concurrent batches in line: everything before runs in
    # parallel (a duplicate id waits on the other batch's insert; the limits' rows are
    # written in key order).
    track_ids = sorted({e.track_id for e in fresh})
    zones = _stats_lock(
        track_ids=track_ids,
        artist_ids=sorted({artist_of[t] for t in track_ids} | follow_artists),
    )
    placed = {
        e.id: _place(e, tracks[e.track_id], zones, reasons.get(e.id, ""), heard.get(e.id))
        for e in fresh
    }
    if reasons:
        _filtered_record(
            events=[e for e in fresh if e.id in reasons], reasons=reasons, placed=placed
        )
    first_heard = rollups_count(list(placed.values()))
    if credited:
        counters_apply(events=credited, artist_of=artist_of, placed=placed, first_heard=first_heard)
    return len(fresh), zones


def _events_store(fresh: list[CountableEvent], agents: dict, reasons: dict, heard: dict) -> None:
    """Store the new events once, each with its reason ('' for credited)."""
    now = timezone.now()
    insert_on_conflict(
        Event,
        EVENT_COLUMNS,
        (
            (e.id, e.type, e.track_id, e.listener, e.ts, e.received_at,
             heard[e.id][1] if e.id in heard else e.seconds, e.source, e.address,
             agents[e.user_agent][0] if e.user_agent is not None else None, now,
             e.referrer, e.country, heard[e.id][0] if e.id in heard else None,
             reasons.get(e.id, ""))
            for e in fresh
        ),
        conflict=(),
    )  # fmt: skip


def _place(event: CountableEvent, track: TrackInfo, zones, reason: str, heard) -> Placed:
    hour, day = place(event.ts, zones[track.artist_id])
    return Placed(
        type=event.type,
        track_id=event.track_id,
        artist_id=track.artist_id,
        listener=event.listener,
        hour=hour,
        day=day,
        reason=reason,
        seconds=heard[1] if heard else event.seconds,
        heard=heard[0] if heard else None,
        duration=track.duration,
        source=event.source,
        referrer=event.referrer,
        country=event.country,
        user_agent=event.user_agent,
        zone=zones[track.artist_id].key,
    )


def _filtered_record(*, events: list[CountableEvent], reasons: dict, placed: dict) -> None:
    """Add the filtered events to the filtered hours and totals, by reason."""
    for model, key in (
        (FilteredHour, lambda e: (e.track_id, placed[e.id].hour)),
        (TrackFiltered, lambda e: (e.track_id,)),
    ):
        counted = Counter((*key(e), reasons[e.id]) for e in events)
        fields = ["track", "hour", "reason"] if model is FilteredHour else ["track", "reason"]
        insert_on_conflict(
            model,
            [*fields, "events"],
            sorted((*k, n) for k, n in counted.items()),
            conflict=fields,
            update_sql=f"events = {table(model)}.events + excluded.events",
        )


def _stats_lock(*, track_ids: list[int], artist_ids: list[int]) -> dict[int, ZoneInfo]:
    """Create and lock the counter rows, tracks then artists, each in id order (no deadlock);
    returns each artist's time zone as it is under the lock (a zone change waits for it).

    An upsert that touches the row takes its lock; later statements of this transaction
    then see every change committed before it.
    """
    zones = {}
    for model, key, ids in ((TrackStats, "track", track_ids), (ArtistStats, "artist", artist_ids)):
        rows = insert_on_conflict(
            model,
            [key],
            [(i,) for i in ids],
            conflict=[key],
            update_sql=f"updated_at = {table(model)}.updated_at",
            returning=[key, "zone"] if model is ArtistStats else (),
        )
        zones.update((artist, zone_get(zone)) for artist, zone in rows)
    return zones
