# ruff: noqa: S608 -- the statements are built from constants; values are parameters.
"""A catalog at scale, made in bulk with SQL: artists, their tags and tracks from generate_series,
events spread over a year (most on a few popular tracks), and the counters the fan pages read
(hours, a track's and an artist's totals) rebuilt from them as the workers would keep them."""

import time
from datetime import datetime

from bench.db import sql

# Generated artists' slugs start with this; everything under it is removed by catalog_drop.
PREFIX = "scale-"
# Two words of these name an artist (100 x 100 names), and its tracks.
_WORDS = (
    "amber arrow aspen autumn basalt beacon birch blue bramble bright canyon cedar cinder "
    "cloud cobalt comet copper coral crimson crystal dawn delta drift dune dusk echo ember "
    "fable fern field flint fog forest frost garnet ghost glass glow granite harbor haze "
    "heron hollow honey indigo iron ivory jade juniper lantern lark lava linen lotus lunar "
    "maple marble meadow mercury mist moss night north oak ocean onyx orchid paper pearl "
    "pine plum prairie quartz quiet rain raven reed river rose ruby rust sable saffron sage "
    "salt shadow silver slate smoke snow solar spark spruce stone storm summer thistle "
    "thunder tide velvet"
)
WORDS = _WORDS.split()
assert len(WORDS) == 100

ARTISTS_SQL = f"""
INSERT INTO mvsic_artist (name, slug, bio, timezone, picture, created_at)
SELECT initcap(w[1 + i %% 100]) || ' ' || initcap(w[1 + (i / 100) %% 100])
           || CASE WHEN i >= 10000 THEN ' ' || (i / 10000)::text ELSE '' END,
       '{PREFIX}' || i, 'Songs about ' || w[1 + (i * 7) %% 100] || ' and '
           || w[1 + (i * 13) %% 100] || '.', 'UTC', '', now()
FROM generate_series(0, %(artists)s - 1) i, (SELECT %(words)s::text[] AS w) words
ORDER BY i
"""

# A track per (artist, j): the first word differs for each j, so titles are unique per artist;
# one in a hundred is hidden (deleted), as in a catalog that has lived a while.
TRACKS_SQL = f"""
INSERT INTO mvsic_track (artist_id, title, audio, original, duration, position, status, failure,
                         peaks, created_at, hidden_at)
SELECT a.id, initcap(w[1 + (j + a.id) %% 100]) || ' ' || w[1 + (j * 7 + a.id * 3) %% 100],
       'tracks/none.wav', '', 60 + (a.id + j) %% 240, j, 'ready', '', '[]', now(),
       CASE WHEN (a.id * 31 + j) %% 100 = 0 THEN now() END
FROM mvsic_artist a CROSS JOIN generate_series(0, %(per_artist)s - 1) j,
     (SELECT %(words)s::text[] AS w) words
WHERE a.slug LIKE '{PREFIX}%%'
ORDER BY a.id, j
"""

# Tags of the generated artists: three each of fifty (about 600 artists a tag at full size).
TAGS = 50
TAGS_SQL = [
    f"""INSERT INTO mvsic_tag (name, slug)
        SELECT initcap(w), '{PREFIX}' || w FROM unnest(%(words)s::text[]) w""",
    f"""INSERT INTO mvsic_artist_tags (artist_id, tag_id)
        SELECT a.id, t.id
        FROM mvsic_artist a CROSS JOIN generate_series(0, 2) k
        JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM mvsic_tag
              WHERE slug LIKE '{PREFIX}%%') t ON t.n = (a.id * 7 + k * 17) %% {TAGS}
        WHERE a.slug LIKE '{PREFIX}%%'""",
]
# The tag the most generated artists have.
POPULAR_TAG = PREFIX + WORDS[0]

# Events on every track (ids need not be contiguous), skewed: random()^3 gives a tenth of the
# tracks about half of the events.
EVENTS_SQL = """
INSERT INTO analytics_event (id, type, track_id, listener, ts, received_at, seconds, source,
                             counted_at, reason)
SELECT gen_random_uuid(), k.kind, t.id, 'fan-' || (1 + (random() * 99999)::int), k.ts, k.ts,
       CASE WHEN k.kind = 'play' THEN 60 END, 'catalog', k.ts, ''
FROM (
    SELECT CASE WHEN random() < 0.9 THEN 'play' ELSE 'like' END AS kind,
           %(start)s::timestamptz + random() * (%(end)s::timestamptz - %(start)s::timestamptz)
               AS ts,
           floor(power(random(), 3) * %(tracks)s)::int AS n
    FROM generate_series(1, %(n)s)
) k
JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM mvsic_track) t USING (n)
"""

# What the fan pages read, as the workers keep it: hours (trending), and totals.
COUNTERS_SQL = [
    "TRUNCATE analytics_trackhour, analytics_trackstats, analytics_artiststats, "
    "analytics_trendingtrack",
    """INSERT INTO analytics_trackhour (track_id, hour, plays, likes, unlikes)
       SELECT track_id, date_trunc('hour', ts), count(*) FILTER (WHERE type = 'play'),
              count(*) FILTER (WHERE type = 'like'), 0
       FROM analytics_event WHERE reason = '' GROUP BY 1, 2 ORDER BY 1, 2""",
    # Listeners are left at 0: no fan page shows them.
    """INSERT INTO analytics_trackstats (track_id, plays, likes, listeners, updated_at)
       SELECT track_id, sum(plays), sum(likes), 0, now() FROM analytics_trackhour GROUP BY 1""",
    """INSERT INTO analytics_artiststats (artist_id, plays, likes, listeners, updated_at)
       SELECT t.artist_id, sum(s.plays), sum(s.likes), 0, now()
       FROM analytics_trackstats s JOIN mvsic_track t ON t.id = s.track_id GROUP BY 1""",
]

ANALYZED = [
    "mvsic_artist",
    "mvsic_tag",
    "mvsic_artist_tags",
    "mvsic_track",
    "analytics_event",
    "analytics_trackhour",
    "analytics_trackstats",
    "analytics_artiststats",
    "analytics_trendingtrack",
]


def catalog_add(*, artists: int, per_artist: int) -> float:
    """Add `artists` generated artists with `per_artist` tracks each; returns the seconds."""
    began = time.monotonic()
    sql(ARTISTS_SQL, {"artists": artists, "words": WORDS})
    sql(TRACKS_SQL, {"per_artist": per_artist, "words": WORDS})
    sql(TAGS_SQL[0], {"words": WORDS[:TAGS]})
    sql(TAGS_SQL[1], {})
    return time.monotonic() - began


def events_add(n: int, start: datetime, end: datetime) -> float:
    """Store n credited events on every track (skewed to a few), between start and end, in
    steps of a million; returns the seconds."""
    from analytics.partitions import partitions_between

    began = time.monotonic()
    partitions_between(start, end)
    tracks = sql("SELECT count(*) FROM mvsic_track", fetch=True)[0][0]
    step = 1_000_000
    for offset in range(0, n, step):
        sql(
            EVENTS_SQL,
            {
                "n": min(step, n - offset),
                "tracks": tracks,
                "start": start,
                "end": end,
            },
        )
    return time.monotonic() - began


def counters_rebuild() -> float:
    """The hours and totals from the stored events, then the trending ranking (the product's
    own task), with fresh planner statistics; returns the seconds."""
    from django.db import connection

    from analytics.services.trending import trending_refresh

    began = time.monotonic()
    sql("SET work_mem = '256MB'")
    for statement in COUNTERS_SQL:
        sql(statement)
    sql("RESET work_mem")
    trending_refresh()
    old = connection.get_autocommit()
    connection.set_autocommit(True)
    try:
        for table in ANALYZED:
            sql(f"VACUUM ANALYZE {table}")
        sql("CHECKPOINT")  # the bulk load's dirty pages written before the timing
    finally:
        connection.set_autocommit(old)
    return time.monotonic() - began


def catalog_drop() -> None:
    """Remove the generated artists and their tracks (after the analytics tables that refer
    to them were emptied), so that later runs on this database start from the demo."""
    generated = [f"{PREFIX}%"]
    sql(
        "DELETE FROM mvsic_artist_tags WHERE artist_id IN "
        "(SELECT id FROM mvsic_artist WHERE slug LIKE %s) "
        "OR tag_id IN (SELECT id FROM mvsic_tag WHERE slug LIKE %s)",
        generated * 2,
    )
    sql("DELETE FROM mvsic_tag WHERE slug LIKE %s", generated)
    sql(
        "DELETE FROM mvsic_track WHERE artist_id IN "
        "(SELECT id FROM mvsic_artist WHERE slug LIKE %s)",
        generated,
    )
    sql("DELETE FROM mvsic_artist WHERE slug LIKE %s", generated)
