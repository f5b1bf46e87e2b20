"""Counting follows: a batch's follow and unfollow events, exactly once per event id.

Called by counting (services.counting) inside its transaction, only for batches that carry
follows. Each new event is stored (FollowEvent, keyed by its id), credited or filtered by
the rules likes obey (blocked, bot, a member of the artist, too many per address and hour),
and the credited ones:
  - keep each fan's latest follow or unfollow of an artist (FollowState, latest by
    (ts, received_at, id) wins, as likes);
  - move ArtistStats.followers and the artist's daily "followers" rollup: the change of
    followers on a local day is the change of fans following at the end of that day, so a
    late event that lands between earlier ones moves exactly the days it changes (what
    reconciliation recomputes from the events, services.follows_reconcile).
The filtered ones are counted by reason in the artist's daily and monthly
"filtered_follows" rollups (follows_filtered_rows), on their local day.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from analytics.models import (
    AddressFollows,
    ArtistStats,
    EventType,
    FilterReason,
    FollowEvent,
    FollowState,
)
from analytics.payloads import CountableEvent
from analytics.placed import place, spans
from analytics.services.integrity import blocks, event_order, members_of, user_agents_resolve
from analytics.services.poison import poison_record
from analytics.services.states import latest_states, states_write
from analytics.upsert import insert_on_conflict, rows_by_keys, table
from mvsic.models import Artist

METRIC = "followers"
FILTERED = "filtered_follows"  # the rollup of filtered follows and unfollows, by reason
COLUMNS = [
    "id", "type", "artist", "listener", "ts", "received_at", "source", "address",
    "user_agent", "country", "counted_at",
]  # fmt: skip


def follows_store(*, events: Sequence[CountableEvent]) -> tuple[list, dict]:
    """Store a batch's follows once each; (the new ones, event id -> filter reason)."""
    artists = set(
        Artist.objects.filter(id__in={e.artist_id for e in events}).values_list("id", flat=True)
    )
    known = []
    for e in events:
        if e.artist_id in artists:
            known.append(e)
        else:
            poison_record(payload=e.payload(), reason=f"artist {e.artist_id} does not exist")
    if not known:
        return [], {}
    agents = user_agents_resolve({e.user_agent for e in known} - {None})
    now = timezone.now()
    written = insert_on_conflict(
        FollowEvent,
        COLUMNS,
        (
            (e.id, e.type, e.artist_id, e.listener, e.ts, e.received_at, e.source, e.address,
             agents[e.user_agent][0] if e.user_agent is not None else None, e.country, now)
            for e in sorted(known, key=lambda e: e.id)  # one lock order: no deadlock
        ),
        conflict=["id"],
        returning=["id"],
    )  # fmt: skip
    new_ids = {r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(r[0]) for r in written}
    fresh = [e for e in known if e.id in new_ids]
    if not fresh:
        return [], {}
    bots = {text: bot for text, (_, bot) in agents.items()}
    reasons = follows_classify(events=fresh, bots=bots)
    by_reason = defaultdict(list)
    for event_id, reason in reasons.items():
        by_reason[reason].append(event_id)
    for reason, ids in sorted(by_reason.items()):
        FollowEvent.objects.filter(id__in=ids).update(reason=reason)
    return fresh, reasons


def follows_classify(*, events: Sequence[CountableEvent], bots: dict[str, bool]) -> dict:
    """event id -> filter reason for the follows that are not credited: blocked, bot, a
    member of the artist, then too_many_follows (what the credited ones use up is kept in
    AddressFollows)."""
    known = blocks.refresh()
    members = members_of({e.listener for e in events})
    spots = {(e.address, e.hour) for e in events if e.address}
    used = Counter(dict(rows_by_keys(AddressFollows, ["address", "hour"], spots, ["follows"])))
    added: Counter = Counter()
    reasons = {}
    for e in sorted(events, key=event_order):
        spot = (e.address, e.hour)
        if e.listener in known.listeners or (e.address and e.address in known.addresses):
            reasons[e.id] = FilterReason.BLOCKED
        elif e.user_agent is not None and bots.get(e.user_agent, True):
            reasons[e.id] = FilterReason.BOT
        elif e.artist_id in members.get(e.listener, ()):
            reasons[e.id] = FilterReason.OWN_PLAY
        elif e.address and used[spot] >= settings.MVSIC_MAX_FOLLOWS_PER_ADDRESS_HOUR:
            reasons[e.id] = FilterReason.TOO_MANY_FOLLOWS
        elif e.address:
            used[spot] += 1
            added[spot] += 1
    hours = table(AddressFollows)
    insert_on_conflict(
        AddressFollows,
        ["address", "hour", "follows"],
        ((a, h, n) for (a, h), n in sorted(added.items())),
        conflict=["address", "hour"],
        update_sql=f"follows = {hours}.follows + excluded.follows",
    )
    return reasons


def follows_apply(*, events: Sequence[CountableEvent], zones: dict[int, ZoneInfo]) -> Counter:
    """Apply credited follows (their artists' counter rows locked, `zones` their zones):
    latest states, followers now, and the rollup rows of the days they change, returned
    ((scope, key, span, start, metric, value) -> n) for the caller to write."""
    pairs = {(e.artist_id, e.listener) for e in events}
    new_ids = {e.id for e in events}
    history: dict[tuple, list] = defaultdict(list)
    for artist, listener, kind, ts, received_at, event_id in _history(pairs):
        history[(artist, listener)].append((ts, received_at, event_id, kind))
    rows: Counter = Counter()
    followers: Counter = Counter()
    for (artist, _), seen in history.items():
        zone = zones[artist]
        before = [h for h in seen if h[2] not in new_ids]
        change = day_changes(_placed(seen, zone))
        change.subtract(day_changes(_placed(before, zone)))
        for day, n in change.items():
            if n:
                for span, start in spans("a", day):
                    rows[("a", artist, span, start, METRIC, "")] += n
        followers[artist] += sum(change.values())
    _states_apply(events)
    stats = table(ArtistStats)
    insert_on_conflict(
        ArtistStats,
        ["artist", "followers"],
        sorted(followers.items()),
        conflict=["artist"],
        update_sql=f"followers = {stats}.followers + excluded.followers",
    )
    return rows


def follows_filtered_rows(
    *, events: Sequence[CountableEvent], reasons: dict, zones: dict[int, ZoneInfo]
) -> Counter:
    """The rollup rows of filtered follows and unfollows, one each on its local day and
    month by reason: (scope, key, span, start, metric, reason) -> n."""
    rows: Counter = Counter()
    for e in events:
        for span, start in spans("a", place(e.ts, zones[e.artist_id])[1]):
            rows[("a", e.artist_id, span, start, FILTERED, str(reasons[e.id]))] += 1
    return rows


def _history(pairs: set[tuple[int, str]]) -> list[tuple]:
    """Every credited follow and unfollow of these (artist, listener) pairs, this batch's
    included: (artist, listener, type, ts, received_at, id)."""
    found = rows_by_keys(
        FollowEvent, ["artist", "listener"], pairs, ["type", "ts", "received_at", "id", "reason"]
    )
    return [(*key, kind, ts, rec, i) for key, kind, ts, rec, i, reason in found if not reason]


def _placed(history: Iterable[tuple], zone: ZoneInfo) -> list[tuple[date, bool]]:
    ordered = sorted(history, key=lambda h: (h[0], h[1], str(h[2])))
    return [(place(ts, zone)[1], kind == EventType.FOLLOW) for ts, _, _, kind in ordered]


def day_changes(history: Sequence[tuple[date, bool]]) -> Counter:
    """A fan's change of following an artist by local day (+1 or -1): its state at the end
    of each day against the day before, from its events in order (date, following)."""
    changes: Counter = Counter()
    state = False
    end_of_day: dict[date, bool] = {}
    for day, following in history:
        end_of_day[day] = following
    for day in sorted(end_of_day):
        if end_of_day[day] != state:
            state = end_of_day[day]
            changes[day] += 1 if state else -1
    return changes


def _states_apply(events: Sequence[CountableEvent]) -> None:
    """Keep each listener's latest follow/unfollow; a later-stamped one always wins."""
    latest = latest_states(events, "artist_id")
    states_write(FollowState, latest, key="artist", flag="following", on=EventType.FOLLOW)
