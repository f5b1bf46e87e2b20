"""The bench's PostgreSQL database: create, migrate, copy and drop it, run SQL, seed the
bench artists, tracks and ingest key, and count stored events."""

import contextlib

from bench.context import ARTISTS, MARKER_TRACKS, TRACKS_PER_ARTIST, database_port, retry
from bench.fans import TRACK_SECONDS

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
