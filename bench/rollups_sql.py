# ruff: noqa: S608 -- the statements are built from constants; values are parameters.
"""The local-time rollups of a bulk-loaded history, rebuilt in SQL (as
analytics.services.rebuild does in Python): the bench's artists keep UTC days, and every
history event has the same breakdown values, which are computed by the product's code."""

from analytics.placed import FLOOR, MIX, TRACK_MONTHLY, Placed, dimensions_of, mix_value
from analytics.reach import EPOCH, SIZE

BITS = SIZE.bit_length()  # the Fenwick update chain's length, at most

CREDITED = "e.reason = '' AND e.type IN ('play', 'like', 'unlike')"
DAY = "(e.ts AT TIME ZONE 'UTC')::date"


def rollup_statements() -> list[tuple[str, dict]]:
    """(SQL, params) to run in order after the counters are rebuilt."""
    sample = Placed(
        type="play", track_id=0, artist_id=0, listener="", hour=None, day=None, reason="",
        seconds=None, heard=None, duration=0.0, source="history",
    )  # fmt: skip
    dims = dimensions_of(sample)
    dim_values = ", ".join(f"(%(d{i})s, %(v{i})s)" for i in range(len(dims)))
    params = {f"d{i}": d for i, (d, _) in enumerate(dims)} | {
        f"v{i}": v for i, (_, v) in enumerate(dims)
    }
    scoped = (
        "SELECT s.scope, CASE s.scope WHEN 'a' THEN t.artist_id ELSE e.track_id END AS key, "
        f"{DAY} AS day, e.type, e.reason, e.listener FROM analytics_event e "
        "JOIN mvsic_track t ON t.id = e.track_id CROSS JOIN (VALUES ('a'), ('t')) s(scope)"
    )
    return [
        (
            "TRUNCATE analytics_rollup, analytics_reachcell, analytics_listenerday, "
            "analytics_breakdownlistener",
            {},
        ),
        # Plays, likes, unlikes and filtered events by day, then the breakdowns of plays.
        (
            f"""INSERT INTO analytics_rollup (scope, key, span, start, metric, value, n)
            SELECT scope, key, 'd', day,
                   CASE WHEN reason <> '' THEN 'filtered' ELSE type || 's' END,
                   reason, count(*)
            FROM ({scoped}) x GROUP BY 1, 2, 4, 5, 6 ORDER BY 1, 2, 4""",
            {},
        ),
        (
            """INSERT INTO analytics_rollup (scope, key, span, start, metric, value, n)
            SELECT r.scope, r.key, 'd', r.start, %(mix)s, %(mix_value)s, r.n
            FROM analytics_rollup r WHERE r.metric = 'plays'""",
            {"mix": MIX, "mix_value": mix_value(dims)},
        ),
        (
            """INSERT INTO analytics_listenerday (scope, key, listener, day)
            SELECT DISTINCT scope, key, listener, day FROM ("""
            + scoped
            + """) x
            WHERE type = 'play' AND reason = ''""",
            {},
        ),
        # Each listener day with its previous day, counted by (key, day, previous), then
        # added to the Fenwick cells of the previous day's position.
        (
            f"""INSERT INTO analytics_reachcell (scope, key, span, start, cell, n)
            SELECT scope, key, 'd', day, cell, sum(n)
            FROM (
                SELECT DISTINCT scope, key, day, pos, n,
                       CASE WHEN pos = 0 THEN 0 ELSE ((pos - 1) | ((1 << k) - 1)) + 1 END
                           AS cell
                FROM (
                    SELECT scope, key, day, CASE WHEN pos < 0 THEN 0 ELSE greatest(pos, 1) END
                           AS pos, count(*) AS n FROM (
                        SELECT scope, key, day,
                               coalesce(lag(day) OVER w - %(epoch)s + 1, -1) AS pos
                        FROM analytics_listenerday
                        WINDOW w AS (PARTITION BY scope, key, listener ORDER BY day)
                    ) p GROUP BY 1, 2, 3, 4
                ) pairs CROSS JOIN generate_series(0, {BITS}) k
            ) cells WHERE cell <= {SIZE} GROUP BY 1, 2, 4, 5""",
            {"epoch": EPOCH},
        ),
        # Breakdown floors: up to FLOOR listeners per track, day and value.
        (
            f"""INSERT INTO analytics_breakdownlistener (track_id, day, dimension, value, listener)
            SELECT key, day, d.dim, d.value, listener FROM (
                SELECT key, day, listener,
                       row_number() OVER (PARTITION BY key, day ORDER BY listener) AS rn
                FROM analytics_listenerday WHERE scope = 't'
            ) l CROSS JOIN (VALUES {dim_values}) d(dim, value) WHERE rn <= {FLOOR}""",
            params,
        ),
        (
            """INSERT INTO analytics_rollup (scope, key, span, start, metric, value, n)
            SELECT 't', track_id, 'd', day, '~' || dimension, value, count(*)
            FROM analytics_breakdownlistener GROUP BY 2, 4, 5, 6""",
            {},
        ),
        (
            """INSERT INTO analytics_rollup (scope, key, span, start, metric, value, n)
            SELECT 'a', t.artist_id, 'd', r.start, r.metric, r.value, max(r.n)
            FROM analytics_rollup r JOIN mvsic_track t ON t.id = r.key
            WHERE r.scope = 't' AND r.span = 'd' AND r.metric LIKE '~%%'
            GROUP BY 2, 4, 5, 6""",
            {},
        ),
        # Months (artists', and tracks' for the artist's table): sums of their days, the most of
        # any day for floors.
        (
            """INSERT INTO analytics_rollup (scope, key, span, start, metric, value, n)
            SELECT scope, key, 'm', date_trunc('month', start)::date, metric, value,
                   CASE WHEN metric LIKE '~%%' THEN max(n) ELSE sum(n) END
            FROM analytics_rollup WHERE span = 'd' AND (scope = 'a' OR metric = ANY(%(monthly)s))
            GROUP BY 1, 2, 4, 5, 6""",
            {"monthly": sorted(TRACK_MONTHLY)},
        ),
        (
            """INSERT INTO analytics_reachcell (scope, key, span, start, cell, n)
            SELECT scope, key, 'm', date_trunc('month', start)::date, cell, sum(n)
            FROM analytics_reachcell WHERE span = 'd' AND scope = 'a' GROUP BY 1, 2, 4, 5""",
            {},
        ),
    ]
