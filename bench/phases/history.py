"""History: dashboard and stats API time with a small and with a large stored history, and
one worker's counting rate on top of the large one."""

import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.broker import publish
from bench.context import INTERRUPTIONS, log, retry
from bench.db import analytics_reset, database_copy, database_drop, event_count
from bench.history_sql import history_add
from bench.load import wrk
from bench.procs import free_port, web_start
from bench.waits import drain

GET_ROUNDS = 7  # of the dashboard and stats API timings, on each history
PERIODS = ("24h", "7d", "28d", "12m", "all")  # the stats API's, each timed


def run(args, mode, seed_info, results) -> None:
    """The same recent week of traffic with little and with a lot of older history.

    The small history is kept in a copy of the database with a gunicorn of its own, so both
    are timed in the same interleaved rounds; the ratios are the median of per-round ratios.
    """
    small, big = mode["history"]
    now = datetime.now(UTC)
    week = now - timedelta(days=7)
    analytics_reset()
    log(f"history: {small} events in the last 7 days")
    history = {"small": _history_state(small, small, week, now, seed_info, mode)}
    servers = {"small": args.port}
    small_db, small_web = f"{args.db}_small", None
    try:
        if big > small:
            args.web.stop()  # a database with sessions open cannot be copied
            database_copy(args.db, small_db)
            args.web = web_start(args)
            log(f"history: + {big - small} events over the two years before (SQL, not HTTP)")
            history["big"] = _history_state(
                big, big - small, now - timedelta(days=730), week, seed_info, mode
            )
            small_port = free_port()
            small_web = web_start(args, port=small_port, db=small_db)
            servers = {"small": small_port, "big": args.port}
        measured = pages_measure(args, mode, seed_info, servers)
    finally:
        if small_web is not None:
            small_web.stop()
            retry("dropping the copy", lambda: database_drop(small_db))
    for state in servers:
        history[state].update(measured[state])
    if big > small:
        history["ratios"] = _ratios(measured)
        if args.pipeline_at_history:
            _pipeline_rate(args, mode, seed_info, history["big"], big)
    results["history"] = history


def _history_state(
    total: int, n: int, start: datetime, end: datetime, seed_info: dict, mode: dict
) -> dict:
    """Store n more events between start and end (`total` in all); the history's size, how
    long it took to store, and the in-process selector times on it."""
    seconds = history_add(n, start, end, seed_info)
    selectors_ms = selectors_time(seed_info, *mode["selector_calls"])
    return {"events": total, "generate_seconds": seconds, "selectors_ms": selectors_ms}


def _ratios(measured: dict) -> dict:
    """Big over small p50 of each page: the median of the per-round ratios."""
    return {
        page: statistics.median(
            b / s
            for b, s in zip(
                measured["big"][page]["p50_ms_rounds"],
                measured["small"][page]["p50_ms_rounds"],
                strict=True,
            )
        )
        for page in measured["big"]
    }


def _pipeline_rate(args, mode, seed_info, big_history: dict, big: int) -> None:
    n = mode["pipeline_events"]
    log(f"history: {n} events counted by one worker on top of {big} stored")
    before = event_count()
    publish(n, seed_info)
    seconds = drain(args, before + n)
    big_history["pipeline_rate_1_worker"] = n / seconds
    log(f"  {n / seconds:.0f} events/s")


def pages_measure(args, mode, seed_info, servers: dict[str, int]) -> dict:
    """p50 of each page on each server (one per stored history), in interleaved rounds: every
    round times each page on every server back to back, so a noisy spell hits them alike."""
    token = [f"Authorization: Token {seed_info['token']}"]
    artist, track = seed_info["artist_slug"], seed_info["artist_track"]
    session = [f"Cookie: sessionid={seed_info['session']}"]
    urls = {
        "dashboard": (f"/dashboard/{artist}/", session),
        "dashboard_12m": (f"/dashboard/{artist}/?period=12m", session),
        **{
            f"artist_stats_api_{period}": (
                f"/api/v1/artists/{artist}/stats/?period={period}",
                token,
            )
            for period in PERIODS
        },
        "track_stats_api": (f"/api/v1/tracks/{track}/stats/", token),
        "track_stats_api_12m": (f"/api/v1/tracks/{track}/stats/?period=12m", token),
    }
    rounds_n = min(GET_ROUNDS, mode["get_seconds"])  # fewer, of a second each, in a short run
    seconds = mode["get_seconds"] / rounds_n
    rounds = {state: {name: [] for name in urls} for state in servers}
    for port in servers.values() if mode["warm_seconds"] else ():
        for path, headers in urls.values():  # warm every gunicorn worker's caches
            wrk(
                args,
                path,
                mode["warm_seconds"],
                script="get.lua",
                headers=headers,
                c=4,
                t=1,
                port=port,
            )
    for _ in range(rounds_n):
        for name, (path, headers) in urls.items():
            for state, port in servers.items():
                rounds[state][name].append(page_time(args, path, headers, seconds, port))
    out: dict = {}
    for state, pages in rounds.items():
        out[state] = {}
        for name, runs in pages.items():
            out[state][name] = m = _page_summary(runs)
            log(
                f"  {state:5s} {name:17s} p50 {m['p50_ms']:6.1f} ms  p99 {m['p99_ms']:6.1f} ms"
                f"  {m['rps']:.0f} req/s  rounds {m['p50_ms_rounds']}"
            )
    return out


def _page_summary(runs: list[dict]) -> dict:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
        "p50_ms_rounds": [round(r["p50_us"] / 1000, 1) for r in runs],
    }


def page_time(args, path: str, headers: list[str], seconds: float, port: int) -> dict:
    # One connection: the time one reader waits. With two, rounds where both landed on the
    # same gunicorn worker (sharing its interpreter lock) took twice as long.
    for _attempt in range(4):
        run = wrk(args, path, seconds, script="get.lua", headers=headers, c=1, t=1, port=port)
        if run["by_status"].get("200", 0) == run["requests"]:
            return run
        # The database went away under the pages (a fault test, say): time it again.
        INTERRUPTIONS.append(f"{path} answered {run['by_status']}")
        log(f"  {path} answered {run['by_status']}; measuring again")
        event_count()  # waits for the database to answer
        time.sleep(2)
    raise RuntimeError(f"{path} answered {run['by_status']}")


def selectors_time(seed_info: dict, rounds: int = 5, calls: int = 20) -> dict:
    """Milliseconds per call of the two stats selectors, for the default period and for 12
    months, in this process (no HTTP, no gunicorn): the database's share of the pages and
    the Python that shapes its rows, median of `rounds` rounds; and "cold", with nothing
    kept of the closed days (the first read after they change, analytics.closed_days)."""
    from django.core.cache import cache

    from analytics import selectors
    from mvsic.models import Artist, Track

    artist = Artist.objects.get(slug=seed_info["artist_slug"])
    track = Track.objects.select_related("artist").get(pk=seed_info["artist_track"])
    out = {}
    twelve = {"period": "12m"}
    for name, fn in (
        ("artist_stats_get", lambda: selectors.artist_stats_get(artist=artist)),
        ("track_stats_get", lambda: selectors.track_stats_get(track=track)),
        ("artist_stats_get_12m", lambda: selectors.artist_stats_get(artist=artist, params=twelve)),
        ("track_stats_get_12m", lambda: selectors.track_stats_get(track=track, params=twelve)),
    ):
        fn()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            times.append((time.perf_counter() - started) / calls * 1000)
        out[name] = round(statistics.median(times), 2)
        cold = []
        for _ in range(rounds):
            cache.clear()
            started = time.perf_counter()
            fn()
            cold.append((time.perf_counter() - started) * 1000)
        out[f"{name}_cold"] = round(statistics.median(cold), 2)
    log(f"  in-process selectors (ms per call): {out}")
    return out
