"""Integrity: which fresh events are credited, and why the others are filtered.

Applied by the worker to the events of a batch that were not counted before, inside the
counting transaction: first the rules that need no history (blocked, bot, own_play, short,
too_long), then the limits that depend on what was credited before (services.limits).
docs/reliability.md, "Integrity", explains each rule, its setting and its limits.
"""

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from analytics.bots import user_agent_is_bot
from analytics.models import Block, BlockKind, EventType, FilterReason, UserAgent
from analytics.payloads import CountableEvent
from analytics.services.limits import TrackInfo, limits_apply
from analytics.upsert import insert_on_conflict
from mvsic.models import ListenerUser

CACHE_SECONDS = 5.0  # how long a worker reuses the blocks it read


def event_order(event: CountableEvent) -> tuple:
    """The order the rules see events in: event time, then arrival, then id."""
    return (event.ts, event.received_at, event.id)


# --- user agents: classified once each, not per event ---------------------------------------
class _AgentCache:
    def __init__(self):
        self.known: dict[str, tuple[int, bool]] = {}

    def clear(self) -> None:
        self.known.clear()


agent_cache = _AgentCache()


def user_agents_resolve(texts: set[str]) -> dict[str, tuple[int, bool]]:
    """text -> (UserAgent id, is a bot), adding the agents seen for the first time."""
    known = agent_cache.known  # another counting thread may clear it meanwhile
    found = {t: hit for t in texts if (hit := known.get(t)) is not None}
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
        reasons.update(limits_apply(pending, tracks))
    return reasons
