"""Counting on a large history with PostgreSQL's stock settings and with the tuned ones
(deploy/postgresql/mvsic.conf), each on a fresh server of the bench's own: one worker's
rate on an empty store and on top of the large history, and the disk the history takes.

Each rate is timed after as many events again were counted untimed: the history's bulk load
ends with a checkpoint, after which a page's first change writes the whole page to the WAL;
the warm-up leaves the timing to the steady state that the settings decide."""

from datetime import UTC, datetime, timedelta

from bench.broker import publish
from bench.context import log
from bench.db import analytics_reset, database_prepare, event_count, seed, sql
from bench.history_sql import history_add
from bench.postgres import server
from bench.waits import drain


def run(args, mode, seed_info, results) -> None:
    n, big = mode["settings_events"], mode["history"][1]
    if not big:
        log("settings: no large history in this mode (--history-events)")
        return
    out = {}
    for name in args.postgres_settings:
        with server(name):
            database_prepare(args)
            analytics_reset()
            info = seed()
            small_rate = _rate(args, n, info)
            size = _database_bytes()
            now = datetime.now(UTC)
            log(f"settings {name}: + {big} events over the two years before (SQL)")
            seconds = history_add(big, now - timedelta(days=730), now - timedelta(days=1), info)
            grown = _database_bytes() - size
            big_rate = _rate(args, n, info)
            out[name] = {
                "events_counted": n,
                "rate_small": small_rate,
                "rate_big": big_rate,
                "ratio": big_rate / small_rate,
                "history_events": big,
                "generate_seconds": seconds,
                "mb_per_million_events": grown / big,  # bytes per event
            }
            log(
                f"  {name}: {small_rate:.0f} events/s empty, {big_rate:.0f} on {big} stored"
                f" ({big_rate / small_rate:.2f}x); {grown / big:.0f} bytes per stored event"
            )
    results["settings"] = out


def _rate(args, n: int, seed_info: dict) -> float:
    """One worker counting n events after n untimed ones; events per second."""
    for _ in range(2):
        before = event_count()
        publish(n, seed_info)
        seconds = drain(args, before + n)
    log(f"  counted {n} events in {seconds:.1f}s (after {n} untimed)")
    return n / seconds


def _database_bytes() -> int:
    return sql("SELECT pg_database_size(current_database())", fetch=True)[0][0]
