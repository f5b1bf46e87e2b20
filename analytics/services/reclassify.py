"""Re-apply the integrity rules to every stored event (`reconcile_counts --fix`).

Workers classify events in the order batches arrive; this replays all stored events in
event-time order from empty working sets, with today's settings, user-agent list and
blocks, and stores each event's reason. The caller holds the event and counter tables
locked and rebuilds the counters from the reasons afterwards.
"""

from itertools import islice

from analytics.bots import user_agent_is_bot
from analytics.models import (
    AddressFollows,
    AddressHour,
    Event,
    FollowEvent,
    ListenerHourUse,
    UserAgent,
)
from analytics.payloads import CountableEvent
from analytics.services.follows import follows_classify
from analytics.services.integrity import events_classify, lists_changed
from analytics.services.limits import TrackInfo
from mvsic.models import Track

CHUNK = 5000
FOLLOW_FIELDS = ("id", "type", "artist_id", "listener", "ts", "received_at", "source",
                 "address", "user_agent__text", "reason")  # fmt: skip
FIELDS = (
    "id", "type", "track_id", "listener", "ts", "received_at", "seconds", "source", "address",
    "user_agent__text", "reason",
)  # fmt: skip


def events_reclassify() -> int:
    """Store every event's reason as the rules decide it now; returns how many changed."""
    for model in (ListenerHourUse, AddressHour, AddressFollows):
        model.objects.all().delete()
    lists_changed()
    _user_agents_reclassify()
    bots = dict(UserAgent.objects.values_list("text", "bot"))
    tracks = {
        pk: TrackInfo(artist_id=artist_id, duration=duration)
        for pk, artist_id, duration in Track.objects.values_list("id", "artist_id", "duration")
    }
    rows = Event.objects.order_by("ts", "received_at", "id").values_list(*FIELDS).iterator(CHUNK)
    moved: dict[str, list] = {}
    while chunk := list(islice(rows, CHUNK)):
        events, stored = [], {}
        for *values, user_agent, reason in chunk:
            events.append(CountableEvent(*values, user_agent=user_agent))
            stored[values[0]] = reason
        reasons = events_classify(events=events, tracks=tracks, bots=bots)
        for event in events:
            wanted = reasons.get(event.id, "")
            if stored[event.id] != wanted:
                moved.setdefault(wanted, []).append((event.ts, event.id))
    # Written once the read is done (a cursor still reading the table is not updated under),
    # in time order: each chunk's time range finds its rows by the ts index (no index on ids).
    for reason, keys in sorted(moved.items()):
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            Event.objects.filter(
                ts__gte=chunk[0][0], ts__lte=chunk[-1][0], id__in=[i for _, i in chunk]
            ).update(reason=reason)
    return sum(len(ids) for ids in moved.values()) + _follows_reclassify(bots)


def _follows_reclassify(bots: dict[str, bool]) -> int:
    """The same for follows and unfollows, by their own rules (services.follows)."""
    rows = (
        FollowEvent.objects.order_by("ts", "received_at", "id")
        .values_list(*FOLLOW_FIELDS)
        .iterator(CHUNK)
    )
    moved: dict[str, list] = {}
    while chunk := list(islice(rows, CHUNK)):
        events, stored = [], {}
        for pk, kind, artist, listener, ts, received_at, source, address, agent, reason in chunk:
            events.append(
                CountableEvent(pk, kind, None, listener, ts, received_at, None, source,
                               address=address, user_agent=agent, artist_id=artist)
            )  # fmt: skip
            stored[pk] = reason
        reasons = follows_classify(events=events, bots=bots)
        for event in events:
            if stored[event.id] != (wanted := reasons.get(event.id, "")):
                moved.setdefault(wanted, []).append(event.id)
    for reason, ids in sorted(moved.items()):
        for start in range(0, len(ids), CHUNK):
            FollowEvent.objects.filter(id__in=ids[start : start + CHUNK]).update(reason=reason)
    return sum(len(ids) for ids in moved.values())


def _user_agents_reclassify() -> None:
    """Apply today's crawler list and MVSIC_BOT_ALLOW to every user agent seen."""
    for pk, text, bot in UserAgent.objects.values_list("id", "text", "bot").iterator():
        if user_agent_is_bot(text) != bot:
            UserAgent.objects.filter(id=pk).update(bot=not bot)
