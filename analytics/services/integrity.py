"""Integrity: which fresh events are credited, and why the others are filtered.

Applied by the worker to the events of a batch that were not counted before, inside the
counting transaction. Each table the rules read is queried once per batch; the limits that
depend on order (a listener's slots and seconds, an address's listeners and likes) are then
decided in one pass over the batch in event-time order, and what the credited events add to
them is written back with one statement per table. docs/reliability.md, "Integrity", explains
each rule, its setting and its limits.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from analytics.bots import user_agent_is_bot
from analytics.models import (
    AddressLikes,
    AddressListener,
    Block,
    BlockKind,
    EventType,
    FilterReason,
    ListenerSeconds,
    ListenerSlot,
    UserAgent,
)
from analytics.upsert import insert_on_conflict, table
from analytics.validation import CountableEvent
from mvsic.models import ListenerUser

HOUR_SECONDS = 3600
CACHE_SECONDS = 5.0  # how long a worker reuses the blocks it read


@dataclass(frozen=True)
class TrackInfo:
    artist_id: int
    duration: float


def event_order(event: CountableEvent) -> tuple:
    """The order the rules see events in: event time, then arrival, then id."""
    return (event.ts, event.received_at, event.id.hex)


# --- user agents: classified once each, not per event ---------------------------------------
class _AgentCache:
    def __init__(self):
        self.known: dict[str, tuple[int, bool]] = {}

    def clear(self) -> None:
        self.known.clear()


agent_cache = _AgentCache()


def user_agents_resolve(texts: set[str]) -> dict[str, tuple[int, bool]]:
    """text -> (UserAgent id, is a bot), adding the agents seen for the first time."""
    found = {t: agent_cache.known[t] for t in texts if t in agent_cache.known}
    missing = texts - found.keys()
    if missing:
        insert_on_conflict(
            UserAgent,
            ["text", "bot"],
            sorted((t, user_agent_is_bot(t)) for t in missing),
            conflict=["text"],
        )
        rows = {
            text: (pk, bot)
            for pk, text, bot in UserAgent.objects.filter(text__in=missing).values_list(
                "id", "text", "bot"
            )
        }
        found.update(rows)
        # Only ids that committed may be reused by the next transaction.
        transaction.on_commit(lambda: _agents_remember(rows))
    return found


def _agents_remember(rows: dict[str, tuple[int, bool]]) -> None:
    if len(agent_cache.known) > 50_000:
        agent_cache.clear()
    agent_cache.known.update(rows)


# --- blocks: a small table, read every few seconds ------------------------------------------
@dataclass
class _Blocks:
    expiry: float = 0.0
    listeners: frozenset = frozenset()
    addresses: frozenset = frozenset()

    def refresh(self) -> "_Blocks":
        now = time.monotonic()
        if now >= self.expiry:
            blocks = list(Block.objects.values_list("kind", "value"))
            self.listeners = frozenset(v for k, v in blocks if k == BlockKind.LISTENER)
            self.addresses = frozenset(v for k, v in blocks if k == BlockKind.ADDRESS)
            self.expiry = now + CACHE_SECONDS
        return self

    def clear(self) -> None:
        self.expiry = 0.0


blocks = _Blocks()


def lists_changed() -> None:
    """Blocks changed in this process: read them again on the next batch (other processes
    read them within CACHE_SECONDS)."""
    blocks.clear()


def members_of(listeners: set[str]) -> dict[str, set[int]]:
    """listener -> the artists whose member is logged in behind that listener cookie."""
    members: dict[str, set[int]] = defaultdict(set)
    for listener, artist_id in ListenerUser.objects.filter(
        listener__in=listeners, user__artists__isnull=False
    ).values_list("listener", "user__artists"):
        members[listener].add(artist_id)
    return members


# --- the rules -------------------------------------------------------------------------------
def reason_static(
    event: CountableEvent, track: TrackInfo, bot: bool, known: _Blocks, members: dict
) -> str:
    """The rules that need no history: blocked, bot, own_play, short, too_long ('' if none)."""
    if event.listener in known.listeners or (event.address and event.address in known.addresses):
        return FilterReason.BLOCKED
    if bot:
        return FilterReason.BOT
    if track.artist_id in members.get(event.listener, ()):
        return FilterReason.OWN_PLAY
    if event.type == EventType.PLAY:
        seconds = event.seconds or 0.0
        if seconds < min(settings.MVSIC_PLAY_THRESHOLD_SECONDS, track.duration):
            return FilterReason.SHORT
        if seconds > track.duration + settings.MVSIC_PLAY_SLACK_SECONDS:
            return FilterReason.TOO_LONG
    return ""


def play_slot(event: CountableEvent, track: TrackInfo) -> int:
    """The track-length slot of time a play falls in: one credited play per slot."""
    return int(event.ts.timestamp() // max(track.duration, 1.0))


@dataclass
class _State:
    """What the credited events so far have used up, for the keys of one batch."""

    slots: set = field(default_factory=set)  # (track, listener, slot)
    seconds: Counter = field(default_factory=Counter)  # (listener, hour)
    address_listeners: dict = field(default_factory=lambda: defaultdict(set))  # (addr, hour)
    address_likes: Counter = field(default_factory=Counter)  # (address, hour)
    new_slots: list = field(default_factory=list)
    new_seconds: Counter = field(default_factory=Counter)
    new_address_listeners: set = field(default_factory=set)
    new_address_likes: Counter = field(default_factory=Counter)


def _state_load(events: list[CountableEvent], tracks: dict[int, TrackInfo]) -> _State:
    state = _State()
    hours = {e.hour for e in events}
    plays = [e for e in events if e.type == EventType.PLAY]
    if plays:
        state.slots = set(
            ListenerSlot.objects.filter(
                track_id__in={e.track_id for e in plays},
                listener__in={e.listener for e in plays},
                slot__in={play_slot(e, tracks[e.track_id]) for e in plays},
            ).values_list("track_id", "listener", "slot")
        )
        for listener, hour, seconds in ListenerSeconds.objects.filter(
            listener__in={e.listener for e in plays}, hour__in={e.hour for e in plays}
        ).values_list("listener", "hour", "seconds"):
            state.seconds[(listener, hour)] = seconds
    addresses = {e.address for e in events if e.address}
    if addresses:
        for address, hour, listener in AddressListener.objects.filter(
            address__in=addresses, hour__in=hours
        ).values_list("address", "hour", "listener"):
            state.address_listeners[(address, hour)].add(listener)
        for address, hour, likes in AddressLikes.objects.filter(
            address__in=addresses, hour__in=hours
        ).values_list("address", "hour", "likes"):
            state.address_likes[(address, hour)] = likes
    return state


def _reason_limits(e: CountableEvent, track: TrackInfo, state: _State) -> str:
    """The limits that depend on what was credited before (state is updated if credited)."""
    hour = e.hour
    spot = (e.address, hour)
    cap = settings.MVSIC_MAX_LISTENERS_PER_ADDRESS_HOUR
    seen = state.address_listeners[spot]
    if e.address and e.listener not in seen and len(seen) >= cap:
        return FilterReason.TOO_MANY_LISTENERS
    if e.type == EventType.PLAY:
        slot = (e.track_id, e.listener, play_slot(e, track))
        if slot in state.slots:
            return FilterReason.TOO_FAST
        budget = HOUR_SECONDS * settings.MVSIC_LISTENING_FACTOR
        if state.seconds[(e.listener, hour)] + e.seconds > budget:
            return FilterReason.TOO_MUCH_LISTENING
        state.slots.add(slot)
        state.new_slots.append((*slot, hour))
        state.seconds[(e.listener, hour)] += e.seconds
        state.new_seconds[(e.listener, hour)] += e.seconds
    elif e.address:
        if state.address_likes[spot] >= settings.MVSIC_MAX_LIKES_PER_ADDRESS_HOUR:
            return FilterReason.TOO_MANY_LIKES
        state.address_likes[spot] += 1
        state.new_address_likes[spot] += 1
    if e.address and e.listener not in state.address_listeners[spot]:
        state.address_listeners[spot].add(e.listener)
        state.new_address_listeners.add((e.address, hour, e.listener))
    return ""


def events_classify(
    *, events: Sequence[CountableEvent], tracks: dict[int, TrackInfo], bots: dict[str, bool]
) -> dict:
    """event id -> filter reason for the events that are not credited (the rest are).

    `events` are fresh (never classified before); what the credited ones use up is recorded.
    """
    known = blocks.refresh()
    members = members_of({e.listener for e in events})
    ordered = sorted(events, key=event_order)
    reasons = {}
    pending = []
    for e in ordered:
        # No user agent recorded (queued by an older release): the bot rule cannot apply.
        bot = e.user_agent is not None and bots.get(e.user_agent, True)
        reason = reason_static(e, tracks[e.track_id], bot, known, members)
        if reason:
            reasons[e.id] = reason
        else:
            pending.append(e)
    if pending:
        state = _state_load(pending, tracks)
        for e in pending:
            if reason := _reason_limits(e, tracks[e.track_id], state):
                reasons[e.id] = reason
        _state_save(state)
    return reasons


def _state_save(state: _State) -> None:
    insert_on_conflict(
        ListenerSlot,
        ["track", "listener", "slot", "hour"],
        sorted(state.new_slots),
        conflict=["track", "listener", "slot"],
    )
    seconds_table = table(ListenerSeconds)
    insert_on_conflict(
        ListenerSeconds,
        ["listener", "hour", "seconds"],
        sorted((listener, hour, s) for (listener, hour), s in state.new_seconds.items()),
        conflict=["listener", "hour"],
        update_sql=f"seconds = {seconds_table}.seconds + excluded.seconds",
    )
    insert_on_conflict(
        AddressListener,
        ["address", "hour", "listener"],
        sorted(state.new_address_listeners),
        conflict=["address", "hour", "listener"],
    )
    likes_table = table(AddressLikes)
    insert_on_conflict(
        AddressLikes,
        ["address", "hour", "likes"],
        sorted((a, h, n) for (a, h), n in state.new_address_likes.items()),
        conflict=["address", "hour"],
        update_sql=f"likes = {likes_table}.likes + excluded.likes",
    )
