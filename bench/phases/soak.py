"""Soak: one batch worker's memory before and after counting many events."""

import time

from bench.broker import publish
from bench.checks import counted_check, tally, tally_change
from bench.context import log
from bench.procs import workers_running
from bench.resources import memory, memory_sum
from bench.waits import wait_count


def run(args, mode, seed_info, results) -> None:
    """Worker RSS after a warm-up and after counting `soak_events` more events."""
    n = mode["soak_events"]
    warm_n = min(50_000, max(n // 10, 100))
    log(f"soak: one batch worker, {warm_n} warm-up events, then {n} events")
    before = tally()
    publish(warm_n, seed_info)
    with workers_running(args, 1) as (procs, _ready):
        wait_count(before["events"] + warm_n, procs, timeout=args.drain_timeout)
        time.sleep(1)
        rss_before = memory_sum(procs[0].pid)
        started = time.monotonic()
        published = publish(n, seed_info)  # the worker counts while this publishes
        done = wait_count(before["events"] + warm_n + n, procs, timeout=args.drain_timeout)
        time.sleep(1)
        rss_after = memory_sum(procs[0].pid)
        main_before = memory(procs[0].pid)[procs[0].pid]
    check = counted_check(tally_change(before, tally()), warm_n + n)
    growth = rss_after["rss_mb"] / rss_before["rss_mb"] - 1
    results["soak"] = {
        "events": n,
        "seconds": done - started,
        "rate": n / (done - started),
        "publish_seconds": published["seconds"],
        "rss_before": rss_before,
        "rss_after": rss_after,
        "main_process_after": main_before,
        "growth": growth,
        **check,
    }
    log(
        f"  worker RSS {rss_before['rss_mb']:.0f} -> {rss_after['rss_mb']:.0f} MiB "
        f"({growth:+.1%}); {n} events in {done - started:.0f}s; {check['filtered']} filtered "
        f"{check['filtered_by_reason']}; exact={check['exact']}"
    )
