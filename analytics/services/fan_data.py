"""A fan's own data: what is kept under their listener id, to download, and to forget.

Forgetting replaces the listener id by a random pseudonym in every stored event and every
table keyed by listeners, in one transaction holding the counter rows of the tracks and
artists the fan touched (counting batches of theirs wait). Each fan's id becomes another
id that nobody holds: every counter keeps its totals, and every figure reconciliation
recomputes from the events is what it was, so reconciliation still reports drift 0.
"""

import secrets

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from analytics.models import (
    ArtistStats,
    Block,
    BlockKind,
    BreakdownListener,
    Event,
    FollowEvent,
    FollowState,
    LikeState,
    ListenerDay,
    ListenerHour,
    ListenerHourUse,
    TrackStats,
)
from mvsic.models import AccountListener, ListenerUser, Track

EVENT_FIELDS = ("id", "type", "track_id", "track__title", "track__artist__slug", "ts",
                "seconds", "source", "referrer", "country", "reason")  # fmt: skip
FOLLOW_FIELDS = ("id", "type", "artist__slug", "ts", "source", "country", "reason")
# Every table with a listener column, Event and FollowEvent first.
LISTENER_TABLES = (Event, FollowEvent, LikeState, FollowState, ListenerHour, ListenerDay,
                   BreakdownListener, ListenerHourUse)  # fmt: skip


def fan_data_get(*, listener: str, user=None) -> dict:
    """Everything kept under a listener id: its events (credited or not), the tracks it
    likes and the artists it follows now, and the account's email if signed in."""
    events = [
        dict(zip(("id", "type", "track", "title", "artist", "ts", "seconds", "source",
                  "referrer", "country", "status"), row, strict=True))
        for row in Event.objects.filter(listener=listener).order_by("ts", "id")
        .values_list(*EVENT_FIELDS)
    ]  # fmt: skip
    follows = [
        dict(zip(("id", "type", "artist", "ts", "source", "country", "status"), row, strict=True))
        for row in FollowEvent.objects.filter(listener=listener)
        .order_by("ts", "id")
        .values_list(*FOLLOW_FIELDS)
    ]
    for event in (*events, *follows):
        event["id"] = str(event["id"])
        event["ts"] = event["ts"].isoformat()
        event["status"] = event["status"] or "credited"
    return {
        "listener": listener,
        "account": {"email": user.email} if user is not None and user.is_authenticated else None,
        "events": events,
        "follow_events": follows,
        "likes": fan_likes_list(listener=listener),
        "follows": fan_follows_list(listener=listener),
    }


def fan_likes_list(*, listener: str) -> list[dict]:
    """The tracks a listener likes now (latest like wins), newest first."""
    liked = dict(
        LikeState.objects.filter(listener=listener, liked=True).values_list("track_id", "ts")
    )
    tracks = Track.objects.visible().filter(id__in=liked).select_related("artist")
    rows = [
        {"track": t.id, "title": t.title, "artist": t.artist.slug, "artist_name": t.artist.name,
         "since": liked[t.id].isoformat()}
        for t in tracks
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r["since"], reverse=True)


def fan_follows_list(*, listener: str) -> list[dict]:
    """The artists a listener follows now (latest follow wins), newest first."""
    return [
        {"artist": slug, "name": name, "since": ts.isoformat()}
        for slug, name, ts in FollowState.objects.filter(listener=listener, following=True)
        .order_by("-ts")
        .values_list("artist__slug", "artist__name", "ts")
    ]


def fan_forget(*, listener: str, user=None) -> str:
    """Replace `listener` by a random pseudonym everywhere it is stored, and delete the
    account (if any, and not an artist's member or staff: ValueError); returns the pseudonym."""
    if user is not None and user.is_authenticated and (user.is_staff or user.artists.exists()):
        raise ValueError("An artist's member or staff account is deleted by an admin.")
    pseudonym = "gone-" + secrets.token_urlsafe(16)
    with transaction.atomic():
        _counters_lock(listener)
        for model in LISTENER_TABLES:
            model.objects.filter(listener=listener).update(listener=pseudonym)
        Block.objects.filter(kind=BlockKind.LISTENER, value=listener).update(value=pseudonym)
        ListenerUser.objects.filter(listener=listener).delete()
        if user is not None and user.is_authenticated:
            AccountListener.objects.filter(user=user).delete()
            get_user_model().objects.filter(pk=user.pk).delete()
    return pseudonym


def _counters_lock(listener: str) -> None:
    """Lock the counter rows of the tracks and artists the listener has events of, tracks
    then artists in id order as counting does: their batches wait until this commits."""
    tracks = sorted(set(Event.objects.filter(listener=listener).values_list("track_id", flat=True)))
    artists = set(Track.objects.filter(id__in=tracks).values_list("artist_id", flat=True))
    artists |= set(
        FollowEvent.objects.filter(listener=listener).values_list("artist_id", flat=True)
    )
    if connection.vendor != "postgresql":
        return
    list(TrackStats.objects.select_for_update().filter(track_id__in=tracks).order_by("track_id"))
    list(
        ArtistStats.objects.select_for_update()
        .filter(artist_id__in=sorted(artists))
        .order_by("artist_id")
        .values_list("artist_id")
    )
