# ruff: noqa: S608 -- the statements are built from constants; values are parameters.
"""A synthetic history, bulk-loaded with SQL: counted events (a few filtered) spread over a
time range and over a catalog of thousands of tracks and millions of listeners, then the
counters, hourly buckets, listener sets and like states rebuilt from every stored event as
reconciliation would, and the tables vacuumed and checkpointed."""

import time
from datetime import UTC, datetime

from bench.db import ANALYTICS_TABLES
from bench.fans import PLAY_SECONDS

# Listeners of the synthetic history, and the share of it filtered (bots, too_fast plays):
# the stats pages read filtered hours as well as counters. A few listeners play a lot: the
# n-th is drawn as L * random()^2 (listener 1 is the bench's busiest returning fan too).
HISTORY_LISTENERS = 2_000_000
HISTORY_FILTERED = 0.03
# Half the history is on the bench's own tracks (the popular artists whose pages are timed and
# whose tracks the timed counting writes to); the other half on a catalog of artists of its
# own, a few tracks far more played than most (the n-th drawn as T * random()^2).
HISTORY_ARTISTS = 200
HISTORY_TRACKS_PER_ARTIST = 10
HISTORY_ON_BENCH_TRACKS = 0.5
HISTORY_PREFIX = "history-"

CATALOG_SQL = [
    f"""INSERT INTO mvsic_artist (name, slug, bio, timezone, picture, created_at)
        SELECT 'History artist ' || i, '{HISTORY_PREFIX}' || i, '', 'UTC', '', now()
        FROM generate_series(1, %(artists)s) i
        WHERE NOT EXISTS (SELECT 1 FROM mvsic_artist WHERE slug = '{HISTORY_PREFIX}' || i)""",
    f"""INSERT INTO mvsic_track (artist_id, title, audio, original, duration, position, status,
                                failure, peaks, created_at)
        SELECT a.id, 'History track ' || j, 'tracks/none.wav', '', 120 + (a.id + j) %% 180, j,
               'ready', '', '[]', now()
        FROM mvsic_artist a CROSS JOIN generate_series(1, %(per_artist)s) j
        WHERE a.slug LIKE '{HISTORY_PREFIX}%%' AND NOT EXISTS
              (SELECT 1 FROM mvsic_track t WHERE t.artist_id = a.id AND t.position = j)""",
]
CATALOG_TRACKS_SQL = f"""
SELECT t.id FROM mvsic_track t JOIN mvsic_artist a ON a.id = t.artist_id
WHERE a.slug LIKE '{HISTORY_PREFIX}%%' ORDER BY t.id"""

HISTORY_SQL = """
INSERT INTO analytics_event (id, type, track_id, listener, ts, received_at, seconds, source,
                             counted_at, reason)
SELECT gen_random_uuid(), k.kind,
       CASE WHEN k.t < %(on_bench)s THEN %(first)s + (random() * %(span_tracks)s)::int
            ELSE (%(catalog)s::bigint[])[1 + floor(power(random(), 2) * %(catalog_size)s)::int]
       END,
       'fan-' || (1 + floor(power(random(), 2) * %(listeners)s)::int), k.ts, k.ts,
       CASE WHEN k.kind = 'play' THEN %(seconds)s END, 'history', k.ts,
       CASE WHEN k.f < %(bots)s THEN 'bot'
            WHEN k.f < %(filtered)s AND k.kind = 'play' THEN 'too_fast' ELSE '' END
FROM (
    SELECT CASE WHEN r < 0.9 THEN 'play' WHEN r < 0.97 THEN 'like' ELSE 'unlike' END AS kind,
           %(start)s::timestamptz + random() * (%(end)s::timestamptz - %(start)s::timestamptz)
               AS ts,
           random() AS f, random() AS t
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
    # A bulk load changes closed days behind counting's back: a new history version, as a
    # rebuild raises it (analytics.closed_days), so no read keeps what it saw before.
    """INSERT INTO analytics_artiststats (artist_id, plays, likes, listeners, updated_at,
                                         history_version)
       SELECT a.id,
              (SELECT coalesce(sum(s.plays), 0) FROM analytics_trackstats s
                 JOIN mvsic_track t ON t.id = s.track_id WHERE t.artist_id = a.id),
              (SELECT coalesce(sum(s.likes), 0) FROM analytics_trackstats s
                 JOIN mvsic_track t ON t.id = s.track_id WHERE t.artist_id = a.id),
              (SELECT count(DISTINCT e.listener) FROM analytics_event e
                 JOIN mvsic_track t ON t.id = e.track_id
                 WHERE t.artist_id = a.id AND e.type = 'play' AND e.reason = ''), now(),
              (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
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
        for statement in CATALOG_SQL:
            cursor.execute(
                statement,
                {"artists": HISTORY_ARTISTS, "per_artist": HISTORY_TRACKS_PER_ARTIST},
            )
        cursor.execute(CATALOG_TRACKS_SQL)
        catalog = [row[0] for row in cursor.fetchall()]
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
                    "listeners": HISTORY_LISTENERS,
                    "on_bench": HISTORY_ON_BENCH_TRACKS,
                    "catalog": catalog,
                    "catalog_size": len(catalog),
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
