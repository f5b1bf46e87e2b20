"""The bench's PostgreSQL database: create, migrate, copy and drop it, run SQL, seed the
bench artists, tracks and ingest key, count stored events, and bulk-load synthetic history."""

import contextlib
import time
from datetime import UTC, datetime

from bench.context import ARTISTS, MARKER_TRACKS, TRACKS_PER_ARTIST, database_port, retry
from bench.fans import PLAY_SECONDS, TRACK_SECONDS

# Listeners of the synthetic history, and the share of it filtered (bots, too_fast plays):
# the stats pages read filtered hours as well as counters.
HISTORY_LISTENERS = 100_000
HISTORY_FILTERED = 0.03

INGEST_KEY_NAME = "bench"
# Events, counters, and the integrity rules' working sets (user agents and the day's
# address key are kept: processes of this run may hold their ids and the key).
ANALYTICS_TABLES = [
    "analytics_event",
    "analytics_eventkey",
    "analytics_trackstats",
    "analytics_artiststats",
    "analytics_trackhour",
    "analytics_filteredhour",
    "analytics_trackfiltered",
    "analytics_listenerhour",
    "analytics_likestate",
    "analytics_poisonevent",
    "analytics_listenerhouruse",
    "analytics_addresshour",
    "analytics_rollup",
    "analytics_reachcell",
    "analytics_listenerday",
    "analytics_breakdownlistener",
    "analytics_trendingtrack",
]


@contextlib.contextmanager
def admin_cursor():
    """A cursor on the server's `postgres` database, outside any transaction (for CREATE and
    DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(
        host="127.0.0.1", port=database_port(), user="postgres", dbname="postgres"
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def database_prepare(args) -> None:
    def create():
        with admin_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
            if not cursor.fetchone():
                cursor.execute(f'CREATE DATABASE "{args.db}"')

    retry("creating the database", create)
    import django

    django.setup()
    from django.core.management import call_command

    retry("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))


def database_copy(source: str, target: str) -> None:
    """Make `target` a copy of `source`; nothing may be connected to `source` meanwhile."""
    from django.db import connections

    connections.close_all()

    def copy():
        with admin_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
            cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')

    retry(f"copying {source} to {target}", copy)


def database_drop(name: str) -> None:
    with admin_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def sql(statement: str, params=None, *, fetch: bool = False):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if fetch else None


def analytics_reset() -> None:
    sql(f"TRUNCATE {', '.join(ANALYTICS_TABLES)}")


def event_count() -> int:
    """Events counted so far, as far as the phases can tell: the ids of the deduplication
    window. Every event the bench sends is recent, so each one counted adds one; a
    count(*) of the events table would scan the whole history (a core for a second per
    poll at 10 million events, taken from the worker being timed)."""
    return retry(
        "counting events", lambda: sql("SELECT count(*) FROM analytics_eventkey", fetch=True)
    )[0][0]


# --- seeding ----------------------------------------------------------------------------------
def seed() -> dict:
    """Artists, tracks, marker tracks, a member login with a token and a session, and the
    ingest key the bench sends events with."""
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    from mvsic.models import Track

    user, _ = get_user_model().objects.get_or_create(username="bench-member")
    tracks = _tracks_seed(user)
    _, token = AuthToken.objects.create(user=user)
    session = _session_create(user)
    key_id, key = _ingest_key_make()
    load = sorted(t for t, marker in tracks if not marker)
    # Load tracks must be one contiguous id range (the wrk script picks ids in a range).
    assert load == list(range(load[0], load[-1] + 1)), "bench tracks are not contiguous"
    return {
        "first_track": load[0],
        "last_track": load[-1],
        "markers": sorted(t for t, marker in tracks if marker),
        "artist_slug": "bench-artist-1",
        "artist_track": Track.objects.filter(artist__slug="bench-artist-1")
        .order_by("id")
        .first()
        .id,
        "token": token,
        "session": session,
        "ingest_key": key,
        "ingest_key_id": key_id,
    }


def _tracks_seed(user) -> list[tuple[int, bool]]:
    """The bench artists' tracks and the marker tracks, as (track id, is a marker)."""
    from mvsic.models import Artist, Track

    tracks = []
    for a in range(1, ARTISTS + 2):
        marker = a == ARTISTS + 1
        slug = "bench-markers" if marker else f"bench-artist-{a}"
        artist, _ = Artist.objects.get_or_create(slug=slug, defaults={"name": slug})
        artist.members.add(user)
        for t in range(1, (MARKER_TRACKS if marker else TRACKS_PER_ARTIST) + 1):
            track, _ = Track.objects.get_or_create(
                artist=artist,
                title=f"{slug} track {t:02d}",
                defaults={"duration": TRACK_SECONDS, "audio": "tracks/none.wav"},
            )
            tracks.append((track.id, marker))
    # As long as bench/fans.py assumes, also in the database of an older run.
    Track.objects.filter(id__in=[t for t, _ in tracks]).update(duration=TRACK_SECONDS)
    return tracks


def _ingest_key_make() -> tuple[int, str]:
    """A new ingest key for the bench's client (an earlier run's is deleted): (id, key)."""
    from analytics.models import IngestKey
    from analytics.services.ingest_keys import ingest_key_create

    IngestKey.objects.filter(name=INGEST_KEY_NAME).delete()
    row, key = ingest_key_create(name=INGEST_KEY_NAME)
    return row.id, key


def _session_create(user) -> str:
    """A logged-in session of `user`; returns its key (the dashboard's cookie)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


# --- synthetic history ------------------------------------------------------------------------
HISTORY_SQL = """
INSERT INTO analytics_event (id, type, track_id, listener, ts, received_at, seconds, source,
                             counted_at, reason)
SELECT gen_random_uuid(), k.kind, %(first)s + (random() * %(span_tracks)s)::int,
       'fan-' || (1 + (random() * %(listeners)s)::int), k.ts, k.ts,
       CASE WHEN k.kind = 'play' THEN %(seconds)s END, 'history', k.ts,
       CASE WHEN k.f < %(bots)s THEN 'bot'
            WHEN k.f < %(filtered)s AND k.kind = 'play' THEN 'too_fast' ELSE '' END
FROM (
    SELECT CASE WHEN r < 0.9 THEN 'play' WHEN r < 0.97 THEN 'like' ELSE 'unlike' END AS kind,
           %(start)s::timestamptz + random() * (%(end)s::timestamptz - %(start)s::timestamptz)
               AS ts,
           random() AS f
    FROM (SELECT random() AS r FROM generate_series(1, %(n)s)) g
) k
"""

# Counters and the sets behind them, rebuilt from the stored events as reconciliation does:
# counters from the credited events (reason ''), filtered hours from the others. Hourly
# buckets in the same order: by track, then hour, so a track's week is a few pages.
REBUILD_SQL = [
    "TRUNCATE analytics_trackhour, analytics_filteredhour, analytics_trackfiltered, "
    "analytics_listenerhour, analytics_likestate, "
    "analytics_trackstats, analytics_artiststats",
    """INSERT INTO analytics_trackhour (track_id, hour, plays, likes, unlikes)
       SELECT track_id, date_trunc('hour', ts), count(*) FILTER (WHERE type = 'play'),
              count(*) FILTER (WHERE type = 'like'), count(*) FILTER (WHERE type = 'unlike')
       FROM analytics_event WHERE reason = '' GROUP BY 1, 2 ORDER BY 1, 2""",
    """INSERT INTO analytics_filteredhour (track_id, hour, reason, events)
       SELECT track_id, date_trunc('hour', ts), reason, count(*) FROM analytics_event
       WHERE reason <> '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
    """INSERT INTO analytics_trackfiltered (track_id, reason, events)
       SELECT track_id, reason, sum(events) FROM analytics_filteredhour GROUP BY 1, 2""",
    # The last three days only, as pruning keeps them (LISTENER_HOURS_KEPT).
    """INSERT INTO analytics_listenerhour (track_id, hour, listener)
       SELECT DISTINCT track_id, date_trunc('hour', ts), listener FROM analytics_event
       WHERE type = 'play' AND reason = '' AND ts >= now() - interval '3 days'""",
    """INSERT INTO analytics_likestate (track_id, listener, liked, ts, received_at, event_id)
       SELECT DISTINCT ON (track_id, listener) track_id, listener, type = 'like', ts,
              received_at, id
       FROM analytics_event WHERE type IN ('like', 'unlike') AND reason = ''
       ORDER BY track_id, listener, ts DESC, received_at DESC, id DESC""",
    """INSERT INTO analytics_trackstats (track_id, plays, likes, listeners, updated_at)
       SELECT t.id,
              (SELECT count(*) FROM analytics_event e WHERE e.track_id = t.id
                 AND e.type = 'play' AND e.reason = ''),
              (SELECT count(*) FROM analytics_likestate s WHERE s.track_id = t.id AND s.liked),
              (SELECT count(DISTINCT listener) FROM analytics_event e WHERE e.track_id = t.id
                 AND e.type = 'play' AND e.reason = ''), now()
       FROM mvsic_track t""",
    """INSERT INTO analytics_artiststats (artist_id, plays, likes, listeners, updated_at)
       SELECT a.id,
              (SELECT coalesce(sum(s.plays), 0) FROM analytics_trackstats s
                 JOIN mvsic_track t ON t.id = s.track_id WHERE t.artist_id = a.id),
              (SELECT coalesce(sum(s.likes), 0) FROM analytics_trackstats s
                 JOIN mvsic_track t ON t.id = s.track_id WHERE t.artist_id = a.id),
              (SELECT count(DISTINCT e.listener) FROM analytics_event e
                 JOIN mvsic_track t ON t.id = e.track_id
                 WHERE t.artist_id = a.id AND e.type = 'play' AND e.reason = ''), now()
       FROM mvsic_artist a""",
]


def history_add(n: int, start: datetime, end: datetime, seed_info: dict) -> float:
    """Store n counted events (a few filtered) spread between start and end, rebuild the
    counters and filtered hours from all stored events, and leave the tables vacuumed and
    checkpointed; returns the seconds."""
    from django.db import connection

    from analytics.partitions import partitions_between
    from analytics.services.pruning import dedupe_since

    began = time.monotonic()
    partitions_between(start, end)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '256MB'")
        step = 1_000_000
        for offset in range(0, n, step):
            cursor.execute(
                HISTORY_SQL,
                {
                    "n": min(step, n - offset),
                    "first": seed_info["first_track"],
                    "span_tracks": seed_info["last_track"] - seed_info["first_track"],
                    "listeners": HISTORY_LISTENERS - 1,
                    "seconds": PLAY_SECONDS,
                    "bots": HISTORY_FILTERED * 2 / 3,
                    "filtered": HISTORY_FILTERED,
                    "start": start,
                    "end": end,
                },
            )
        # The ids counting remembers: those of the deduplication window.
        cursor.execute(
            "INSERT INTO analytics_eventkey (id, ts) SELECT id, ts FROM analytics_event"
            " WHERE ts >= %s ON CONFLICT DO NOTHING",
            [dedupe_since(datetime.now(UTC))],
        )
        for statement in REBUILD_SQL:
            cursor.execute(statement)
        from bench.rollups_sql import rollup_statements

        for statement, params in rollup_statements():
            cursor.execute(statement, params)
        cursor.execute("RESET work_mem")
    # As autovacuum would have by then: fresh planner statistics and visibility map.
    old = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        for table in ANALYTICS_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        # Write the bulk load's dirty pages now, so that no checkpoint overlaps the timing.
        cursor.execute("CHECKPOINT")
    connection.set_autocommit(old)
    return time.monotonic() - began
