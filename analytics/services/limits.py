"""The limits that depend on what was credited before, applied to a batch in event-time order.

- too_fast: one credited play of a track per listener per slot of time as long as the track
  (the slots of a listener's hour are listed in its ListenerHourUse row);
- too_much_listening: a listener's credited seconds in an hour (ListenerHourUse);
- too_many_listeners: distinct listeners first credited from an address hash in an hour
  (AddressHour; a listener counts toward the first address it was credited from that hour);
- too_many_likes: likes and unlikes credited from an address hash in an hour (AddressHour).

What earlier batches used up is read with one statement per table for exactly this batch's
keys; the batch is decided in memory; what its credited events add is written back with one
statement per table, as increments (two workers may add to one row).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings

from analytics.models import AddressHour, EventType, FilterReason, ListenerHourUse
from analytics.payloads import CountableEvent
from analytics.upsert import insert_on_conflict, rows_by_keys, table

HOUR_SECONDS = 3600


@dataclass(frozen=True)
class TrackInfo:
    artist_id: int
    duration: float


def play_slot(event: CountableEvent, track: TrackInfo) -> int:
    """The track-length slot of time a play falls in: one credited play per slot."""
    return int(event.ts.timestamp() // _slot_seconds(track))


def _slot_seconds(track: TrackInfo) -> float:
    return max(track.duration, 1.0)


def _slot_hours(event: CountableEvent, track: TrackInfo) -> list[datetime]:
    """The hours a play's slot overlaps (its own, and earlier ones the slot began in)."""
    start = datetime.fromtimestamp(play_slot(event, track) * _slot_seconds(track), UTC)
    hours, hour = [], event.hour
    while hour > start:
        hours.append(hour)
        hour -= timedelta(hours=1)
    return [*hours, hour]


@dataclass
class _Used:
    """What is used up for the keys of one batch: before it, and what it adds."""

    slots: set = field(default_factory=set)  # (track, listener, slot)
    new_plays: dict = field(default_factory=lambda: defaultdict(str))  # ",track:slot" added
    seconds: dict = field(default_factory=dict)  # (listener, hour) -> seconds; present: known
    listeners: dict = field(default_factory=lambda: defaultdict(int))  # (address, hour)
    likes: dict = field(default_factory=lambda: defaultdict(int))  # (address, hour)
    added_seconds: dict = field(default_factory=lambda: defaultdict(float))
    first_address: dict = field(default_factory=dict)  # (listener, hour) -> address
    added_listeners: dict = field(default_factory=lambda: defaultdict(int))
    added_likes: dict = field(default_factory=lambda: defaultdict(int))


def limits_apply(events: Sequence[CountableEvent], tracks: dict[int, TrackInfo]) -> dict:
    """event id -> reason for the events (in event-time order) that a limit filters; what
    the others use up is recorded."""
    used = _used_load(events, tracks)
    reasons = {}
    for event in events:
        if reason := _limit(event, tracks[event.track_id], used):
            reasons[event.id] = reason
    _used_save(used)
    return reasons


def _used_load(events: Sequence[CountableEvent], tracks: dict[int, TrackInfo]) -> _Used:
    used = _Used()
    listener_hours = {(e.listener, e.hour) for e in events}
    for e in events:
        if e.type == EventType.PLAY:
            listener_hours.update((e.listener, h) for h in _slot_hours(e, tracks[e.track_id]))
    for (listener, hour), seconds, plays in rows_by_keys(
        ListenerHourUse, ["listener", "hour"], listener_hours, ["seconds", "plays"]
    ):
        used.seconds[(listener, hour)] = seconds
        for entry in filter(None, plays.split(",")):
            track, slot = entry.split(":")
            used.slots.add((int(track), listener, int(slot)))
    spots = {(e.address, e.hour) for e in events if e.address}
    for key, listeners, likes in rows_by_keys(
        AddressHour, ["address", "hour"], spots, ["listeners", "likes"]
    ):
        used.listeners[key], used.likes[key] = listeners, likes
    return used


def _limit(e: CountableEvent, track: TrackInfo, used: _Used) -> str:
    """The limit that filters `e`, or "" (then what it uses is recorded in `used`)."""
    if e.type == EventType.HEARD:
        return ""  # a summary credits nothing: only the rules without history apply
    me, spot = (e.listener, e.hour), (e.address, e.hour)
    new_here = me not in used.seconds and bool(e.address)
    if new_here and used.listeners[spot] >= settings.MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR:
        return FilterReason.TOO_MANY_LISTENERS
    if e.type == EventType.PLAY:
        slot = (e.track_id, e.listener, play_slot(e, track))
        if slot in used.slots:
            return FilterReason.TOO_FAST
        budget = HOUR_SECONDS * settings.MVSIC_LISTENING_FACTOR
        if used.seconds.get(me, 0.0) + e.seconds > budget:
            return FilterReason.TOO_MUCH_LISTENING
        used.slots.add(slot)
        used.new_plays[me] += f",{slot[0]}:{slot[2]}"
    elif e.address:
        if used.likes[spot] >= settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR:
            return FilterReason.TOO_MANY_LIKES
        used.likes[spot] += 1
        used.added_likes[spot] += 1
    seconds = e.seconds if e.type == EventType.PLAY else 0.0
    if me not in used.seconds:
        used.seconds[me] = 0.0
        used.first_address[me] = e.address
        if e.address:
            used.listeners[spot] += 1
            used.added_listeners[spot] += 1
    used.seconds[me] += seconds
    used.added_seconds[me] += seconds
    return ""


def _used_save(used: _Used) -> None:
    uses = table(ListenerHourUse)
    insert_on_conflict(
        ListenerHourUse,
        ["listener", "hour", "seconds", "address", "plays"],
        sorted(
            (*key, seconds, used.first_address.get(key, ""), used.new_plays.get(key, ""))
            for key, seconds in used.added_seconds.items()
        ),
        conflict=["listener", "hour"],
        update_sql=(
            f"seconds = {uses}.seconds + excluded.seconds, plays = {uses}.plays || excluded.plays"
        ),
    )
    hours = table(AddressHour)
    spots = sorted(set(used.added_listeners) | set(used.added_likes))
    insert_on_conflict(
        AddressHour,
        ["address", "hour", "listeners", "likes"],
        ((a, h, used.added_listeners[(a, h)], used.added_likes[(a, h)]) for a, h in spots),
        conflict=["address", "hour"],
        update_sql=(
            f"listeners = {hours}.listeners + excluded.listeners, "
            f"likes = {hours}.likes + excluded.likes"
        ),
    )
