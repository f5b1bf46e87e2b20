"""Writes of the analytics pipeline: accepting events at the edge and counting them in workers."""

import json
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics import publisher, reconciliation, selectors, validation
from analytics.models import (
    ArtistListener,
    ArtistStats,
    Event,
    EventType,
    LikeState,
    ListenerHour,
    PoisonEvent,
    ReconcileRun,
    TrackHour,
    TrackListener,
    TrackStats,
)
from mvsic.models import Track

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountableEvent:
    id: uuid.UUID
    type: str
    track_id: int
    listener: str
    ts: datetime
    received_at: datetime
    seconds: float | None
    source: str

    @property
    def hour(self) -> datetime:
        return self.ts.replace(minute=0, second=0, microsecond=0)


class PoisonPayload(ValueError):
    """A payload that no retry can ever apply."""


@dataclass
class Acceptance:
    accepted: int
    rejected: list[dict]


def events_accept(*, raw_events: list, listener_cookie: str | None) -> Acceptance:
    """Validate fan events and queue each valid one for counting; no counter is touched here.

    Each valid event is either confirmed by the broker or written to the local spool
    before this returns. Raises publisher.PublishFailed when neither could take them, and
    DatabaseError when track ids must be checked and the database does not answer.
    """
    now = timezone.now()
    max_skew = timedelta(seconds=settings.MVSIC_MAX_CLOCK_SKEW_SECONDS)
    cookie = listener_cookie if validation.listener_valid(listener_cookie) else None
    valid: list[tuple[int, dict]] = []
    rejected: list[dict] = []
    for index, raw in enumerate(raw_events):
        payload, errors = validation.event_validate(
            raw, listener_cookie=cookie, now=now, max_skew=max_skew
        )
        if errors:
            rejected.append({"index": index, "errors": errors})
        else:
            valid.append((index, payload))
    known = selectors.track_ids_existing(ids={p["track"] for _, p in valid})
    payloads = []
    for index, payload in valid:
        if payload["track"] in known:
            payloads.append(payload)
        else:
            rejected.append({"index": index, "errors": {"track": ["Unknown track."]}})
    rejected.sort(key=lambda r: r["index"])
    if payloads:
        publisher.events_publish(payloads)
    return Acceptance(accepted=len(payloads), rejected=rejected)


def _payload_parse(payload: dict) -> CountableEvent:
    try:
        ts = parse_datetime(payload["ts"])
        received_at = parse_datetime(payload["received_at"])
        if ts is None or received_at is None or ts.tzinfo is None:
            raise ValueError("timestamps must be ISO 8601 with a zone")
        if payload["type"] not in validation.TYPES:
            raise ValueError(f"unknown type {payload['type']!r}")
        if not validation.listener_valid(payload["listener"]):
            raise ValueError("listener must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
        source = payload.get("source") or ""
        if not isinstance(source, str) or not validation.source_valid(source):
            raise ValueError("source must be a short printable string")
        seconds = payload.get("seconds")
        return CountableEvent(
            id=uuid.UUID(str(payload["id"])),
            type=payload["type"],
            track_id=int(payload["track"]),
            listener=str(payload["listener"]),
            ts=ts.astimezone(UTC),
            received_at=received_at.astimezone(UTC),
            seconds=float(seconds) if seconds is not None else None,
            source=source,
        )
    # OverflowError: a JSON Infinity as track id, or seconds too large for a float.
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise PoisonPayload(f"malformed payload: {exc}") from exc


def _insert_returning(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str],
    returning: Sequence[str] = (),
    update_sql: str = "",
) -> list[tuple]:
    """One multi-row INSERT ... ON CONFLICT; returns the `returning` columns of written rows.

    Works on PostgreSQL and SQLite (3.35+). Values are prepared by the model's own fields.
    """
    rows = list(rows)
    if not rows:
        return []
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = [f.column for f in model_fields]
    # psycopg2 adapts ints, strings, datetimes, UUIDs and bools itself; other databases
    # (and JSON on any) get the field's own preparation.
    native = connection.vendor == "postgresql"
    preps = [
        None if native and not isinstance(f, models.JSONField) else f.get_db_prep_save
        for f in model_fields
    ]
    params: list = []
    for row in rows:
        params.extend(
            value if prep is None else prep(value, connection)
            for prep, value in zip(preps, row, strict=True)
        )
    qn = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict_cols = ", ".join(qn(meta.get_field(n).column) for n in conflict)
    action = f"DO UPDATE SET {update_sql}" if update_sql else "DO NOTHING"
    # Identifiers come from model metadata and are quoted; every value is a parameter.
    target = f"{qn(meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {target} VALUES {values} ON CONFLICT ({conflict_cols}) {action}"  # noqa: S608
    if returning:
        sql += " RETURNING " + ", ".join(qn(meta.get_field(n).column) for n in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def poison_record(*, payload, reason: str) -> None:
    """Park a payload that can never be counted, with the reason, once per event id."""
    event_id = str(payload.get("id", ""))[:64] if isinstance(payload, dict) else ""
    event_id = event_id.replace("\x00", "\ufffd") or f"no-id-{uuid.uuid4()}"
    logger.warning("poison event %s: %s", event_id, reason)
    # PostgreSQL's text and jsonb cannot hold NUL characters, nor NaN or Infinity.
    try:
        text = json.dumps(payload, default=repr, allow_nan=False)
    except ValueError:
        text = json.dumps({"unstorable": repr(payload)[:4000]})
    stored = json.loads(text.replace("\\u0000", "\\ufffd"))
    _insert_returning(
        PoisonEvent,
        ["event_id", "payload", "reason", "created_at"],
        [(event_id, stored, reason.replace("\x00", "\ufffd"), timezone.now())],
        conflict=["event_id"],
    )


def events_count(*, payloads: Sequence[dict]) -> int:
    """Apply a batch of accepted events to the counters, exactly once per event id.

    The event table's primary key decides duplicates inside the same transaction as the
    counter updates, so a redelivered batch changes nothing. Events that can never be
    applied (malformed, or their track is gone) are parked as PoisonEvent rows.
    Returns the number of events newly counted.
    """
    parsed: dict[uuid.UUID, CountableEvent] = {}
    for payload in payloads:
        try:
            event = _payload_parse(payload)
        except PoisonPayload as exc:
            poison_record(payload=payload, reason=str(exc))
            continue
        parsed.setdefault(event.id, event)
    if not parsed:
        return 0

    with transaction.atomic():
        artist_of = dict(
            Track.objects.filter(id__in={e.track_id for e in parsed.values()}).values_list(
                "id", "artist_id"
            )
        )
        for event in [e for e in parsed.values() if e.track_id not in artist_of]:
            del parsed[event.id]
            poison_record(
                payload=_payload_of(event), reason=f"track {event.track_id} does not exist"
            )
        if not parsed:
            return 0
        track_ids = sorted({e.track_id for e in parsed.values()})
        artist_ids = sorted({artist_of[t] for t in track_ids})
        _stats_lock(track_ids=track_ids, artist_ids=artist_ids)

        new_ids = {
            uuid.UUID(str(row[0]))
            for row in _insert_returning(
                Event,
                [
                    "id",
                    "type",
                    "track",
                    "listener",
                    "ts",
                    "received_at",
                    "seconds",
                    "source",
                    "counted_at",
                ],
                (
                    (
                        e.id,
                        e.type,
                        e.track_id,
                        e.listener,
                        e.ts,
                        e.received_at,
                        e.seconds,
                        e.source,
                        timezone.now(),
                    )
                    for e in parsed.values()
                ),
                conflict=["id"],
                returning=["id"],
            )
        }
        fresh = [e for e in parsed.values() if e.id in new_ids]
        if fresh:
            _counters_apply(events=fresh, artist_of=artist_of)
        return len(fresh)


def _payload_of(event: CountableEvent) -> dict:
    return {
        "id": str(event.id),
        "type": event.type,
        "track": event.track_id,
        "listener": event.listener,
        "ts": event.ts.isoformat(),
        "received_at": event.received_at.isoformat(),
        "seconds": event.seconds,
        "source": event.source,
    }


def _stats_lock(*, track_ids: list[int], artist_ids: list[int]) -> None:
    """Create and lock the counter rows, tracks then artists, each in id order (no deadlock).

    An upsert that touches the row takes its lock; later statements of this transaction
    then see every change committed before it.
    """
    for model, key, ids in ((TrackStats, "track", track_ids), (ArtistStats, "artist", artist_ids)):
        table = connection.ops.quote_name(model._meta.db_table)
        _insert_returning(
            model,
            [key],
            [(i,) for i in ids],
            conflict=[key],
            update_sql=f"updated_at = {table}.updated_at",
        )


def _counters_apply(*, events: list[CountableEvent], artist_of: dict[int, int]) -> None:
    now = timezone.now()
    plays = [e for e in events if e.type == EventType.PLAY]
    likes = [e for e in events if e.type != EventType.PLAY]

    # Hourly buckets: one upsert for every (track, hour) the batch touches.
    hours: dict[tuple[int, datetime], Counter] = defaultdict(Counter)
    for e in events:
        hours[(e.track_id, e.hour)][e.type] += 1
    table = connection.ops.quote_name(TrackHour._meta.db_table)
    _insert_returning(
        TrackHour,
        ["track", "hour", "plays", "likes", "unlikes"],
        (
            (track, hour, c[EventType.PLAY], c[EventType.LIKE], c[EventType.UNLIKE])
            for (track, hour), c in sorted(hours.items())
        ),
        conflict=["track", "hour"],
        update_sql=(
            f"plays = {table}.plays + excluded.plays, likes = {table}.likes + excluded.likes, "
            f"unlikes = {table}.unlikes + excluded.unlikes"
        ),
    )

    # Unique listeners: a row per (track, listener) and (artist, listener); count new rows.
    new_track_listeners = Counter(
        row[0]
        for row in _insert_returning(
            TrackListener,
            ["track", "listener"],
            sorted({(e.track_id, e.listener) for e in plays}),
            conflict=["track", "listener"],
            returning=["track"],
        )
    )
    new_artist_listeners = Counter(
        row[0]
        for row in _insert_returning(
            ArtistListener,
            ["artist", "listener"],
            sorted({(artist_of[e.track_id], e.listener) for e in plays}),
            conflict=["artist", "listener"],
            returning=["artist"],
        )
    )
    _insert_returning(
        ListenerHour,
        ["track", "hour", "listener"],
        sorted({(e.track_id, e.hour, e.listener) for e in plays}),
        conflict=["track", "hour", "listener"],
    )

    # Likes: keep each listener's latest like/unlike; a later-stamped one always wins.
    latest: dict[tuple[int, str], CountableEvent] = {}
    for e in sorted(likes, key=lambda e: (e.ts, e.received_at, e.id.hex)):
        latest[(e.track_id, e.listener)] = e
    likes_table = connection.ops.quote_name(LikeState._meta.db_table)
    _insert_returning(
        LikeState,
        ["track", "listener", "liked", "ts", "received_at", "event_id"],
        (
            (e.track_id, e.listener, e.type == EventType.LIKE, e.ts, e.received_at, e.id)
            for _, e in sorted(latest.items())
        ),
        conflict=["track", "listener"],
        update_sql=(
            "liked = excluded.liked, ts = excluded.ts, received_at = excluded.received_at, "
            "event_id = excluded.event_id "
            f"WHERE (excluded.ts, excluded.received_at, excluded.event_id) > "
            f"({likes_table}.ts, {likes_table}.received_at, {likes_table}.event_id)"
        ),
    )

    play_count = Counter(e.track_id for e in plays)
    liked_tracks = {e.track_id for e in likes}
    _stats_add(
        TrackStats,
        "track",
        rows=[
            (t, play_count[t], new_track_listeners[t], t in liked_tracks, now)
            for t in sorted({e.track_id for e in events})
        ],
        likes_sql=(
            f"SELECT COUNT(*) FROM {likes_table} l "  # noqa: S608
            "WHERE l.track_id = {table}.track_id AND l.liked"
        ),
    )
    artist_plays = Counter()
    for track_id, n in play_count.items():
        artist_plays[artist_of[track_id]] += n
    liked_artists = {artist_of[t] for t in liked_tracks}
    stats_table = connection.ops.quote_name(TrackStats._meta.db_table)
    track_table = connection.ops.quote_name(Track._meta.db_table)
    _stats_add(
        ArtistStats,
        "artist",
        rows=[
            (a, artist_plays[a], new_artist_listeners[a], a in liked_artists, now)
            for a in sorted({artist_of[e.track_id] for e in events})
        ],
        likes_sql=(
            f"SELECT COALESCE(SUM(s.likes), 0) FROM {stats_table} s "  # noqa: S608
            f"JOIN {track_table} t ON t.id = s.track_id WHERE t.artist_id = {{table}}.artist_id"
        ),
    )


def _stats_add(model, key: str, *, rows: list[tuple], likes_sql: str) -> None:
    """One statement for all counter rows: add plays and new listeners; recount likes
    (from the like states) only where the batch had likes or unlikes."""
    table = connection.ops.quote_name(model._meta.db_table)
    _insert_returning(
        model,
        [key, "plays", "listeners", "likes", "updated_at"],
        [
            (k, plays, listeners, 1 if recount else 0, now)
            for k, plays, listeners, recount, now in rows
        ],
        conflict=[key],
        update_sql=(
            f"plays = {table}.plays + excluded.plays, "
            f"listeners = {table}.listeners + excluded.listeners, "
            f"likes = CASE WHEN excluded.likes = 1 THEN ({likes_sql.format(table=table)}) "
            f"ELSE {table}.likes END, "
            "updated_at = excluded.updated_at"
        ),
    )


def artist_stats_refresh(*, artist_id: int) -> None:
    """Recompute an artist's counters from the tracks it has now (after one is deleted)."""
    with transaction.atomic():
        stats = ArtistStats.objects.select_for_update().filter(artist_id=artist_id).first()
        if stats is None:  # the artist is gone too, or never had an event
            return
        ArtistListener.objects.filter(artist_id=artist_id).delete()
        ArtistListener.objects.bulk_create(
            (
                ArtistListener(artist_id=artist_id, listener=listener)
                for listener in Event.objects.filter(
                    type=EventType.PLAY, track__artist_id=artist_id
                )
                .values_list("listener", flat=True)
                .distinct()
                .iterator()
            ),
            batch_size=5000,
        )
        totals = TrackStats.objects.filter(track__artist_id=artist_id).aggregate(
            plays=models.Sum("plays"), likes=models.Sum("likes")
        )
        stats.plays = totals["plays"] or 0
        stats.likes = totals["likes"] or 0
        stats.listeners = ArtistListener.objects.filter(artist_id=artist_id).count()
        stats.updated_at = timezone.now()
        stats.save()


def counts_reconcile(*, fix: bool = False) -> ReconcileRun:
    """Compare every counter with what the stored events imply; with `fix`, rebuild them.

    The check reads one consistent snapshot; the fix holds the counter tables locked
    (workers wait) while it rebuilds counters and the sets behind them from the events.
    """
    started = timezone.now()
    postgres = connection.vendor == "postgresql"
    # A snapshot needs a transaction of its own (not one nested in a caller's).
    snapshot = postgres and not fix and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if fix and postgres:
            tables = [m._meta.db_table for m in (TrackStats, ArtistStats, Event)]
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        elif snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        expected = reconciliation.counts_expected_get()
        differences = _differences(expected)
        if fix and differences:
            _counts_rebuild(expected)
    return ReconcileRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        events=expected.events,
        drift=len(differences),
        fixed=bool(fix and differences),
        details=differences[:100],
    )


def _differences(expected: reconciliation.Expected) -> list[dict]:
    found = []

    def compare(table, key, stored: dict, wanted: dict, figures) -> None:
        for name in figures:
            if stored.get(name, 0) != wanted.get(name, 0):
                found.append(
                    {
                        "table": table,
                        "key": key,
                        "field": name,
                        "stored": stored.get(name, 0),
                        "expected": wanted.get(name, 0),
                    }
                )

    figures = reconciliation.FIGURES
    stored_tracks = {r["track_id"]: r for r in TrackStats.objects.values("track_id", *figures)}
    for track_id in sorted(stored_tracks.keys() | expected.tracks.keys()):
        compare(
            "track", track_id, stored_tracks.get(track_id, {}), expected.tracks.get(track_id, {}),
            figures,
        )  # fmt: skip
    stored_artists = {r["artist_id"]: r for r in ArtistStats.objects.values("artist_id", *figures)}
    for artist_id in sorted(stored_artists.keys() | expected.artists.keys()):
        compare(
            "artist", artist_id, stored_artists.get(artist_id, {}),
            expected.artists.get(artist_id, {}), figures,
        )  # fmt: skip
    hour_figures = ("plays", "likes", "unlikes")
    stored_hours = {
        (r["track_id"], r["hour"]): r
        for r in TrackHour.objects.values("track_id", "hour", *hour_figures)
    }
    for key in sorted(stored_hours.keys() | expected.hours.keys()):
        compare(
            "hour", f"{key[0]}@{key[1].isoformat()}", stored_hours.get(key, {}),
            expected.hours.get(key, {}), hour_figures,
        )  # fmt: skip
    return found


def _counts_rebuild(expected: reconciliation.Expected) -> None:
    now = timezone.now()
    figures = reconciliation.FIGURES
    overwrite = ", ".join(f"{f} = excluded.{f}" for f in (*figures, "updated_at"))
    zero = dict.fromkeys(figures, 0)
    track_ids = set(TrackStats.objects.values_list("track_id", flat=True)) | expected.tracks.keys()
    _insert_returning(
        TrackStats,
        ["track", *figures, "updated_at"],
        [(t, *expected.tracks.get(t, zero).values(), now) for t in sorted(track_ids)],
        conflict=["track"],
        update_sql=overwrite,
    )
    artist_ids = (
        set(ArtistStats.objects.values_list("artist_id", flat=True)) | expected.artists.keys()
    )
    _insert_returning(
        ArtistStats,
        ["artist", *figures, "updated_at"],
        [(a, *expected.artists.get(a, zero).values(), now) for a in sorted(artist_ids)],
        conflict=["artist"],
        update_sql=overwrite,
    )
    TrackHour.objects.all().delete()
    TrackHour.objects.bulk_create(
        (TrackHour(track_id=t, hour=h, **c) for (t, h), c in sorted(expected.hours.items())),
        batch_size=5000,
    )
    plays = Event.objects.filter(type=EventType.PLAY)
    TrackListener.objects.all().delete()
    TrackListener.objects.bulk_create(
        (TrackListener(track_id=t, listener=lis) for t, lis in
         plays.values_list("track_id", "listener").distinct().iterator()),
        batch_size=5000,
    )  # fmt: skip
    ArtistListener.objects.all().delete()
    ArtistListener.objects.bulk_create(
        (ArtistListener(artist_id=a, listener=lis) for a, lis in
         plays.values_list("track__artist_id", "listener").distinct().iterator()),
        batch_size=5000,
    )  # fmt: skip
    ListenerHour.objects.all().delete()
    ListenerHour.objects.bulk_create(
        (ListenerHour(track_id=t, hour=h, listener=lis) for t, h, lis in
         plays.annotate(hour=TruncHour("ts")).values_list("track_id", "hour", "listener")
         .distinct().iterator()),
        batch_size=5000,
    )  # fmt: skip
    LikeState.objects.all().delete()
    LikeState.objects.bulk_create(
        (
            LikeState(track_id=e.track_id, listener=e.listener, liked=e.type == EventType.LIKE,
                      ts=e.ts, received_at=e.received_at, event_id=e.id)
            for e in Event.objects.raw(reconciliation.latest_likes_sql()).iterator()
        ),
        batch_size=5000,
    )  # fmt: skip
