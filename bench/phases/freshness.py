"""Sustained rate and freshness: the rate the whole pipeline keeps up with here, then the lag
from a 202 to the stats API showing the event under open-loop load at 50% and 90% of it."""

import time

from bench.checks import counted_check, tally, tally_change
from bench.context import log
from bench.db import event_count
from bench.load import openloop, post_load
from bench.procs import workers_running
from bench.resources import memory_sum
from bench.waits import settle, wait_count


def run(args, mode, seed_info, results) -> None:
    sustained = sustained_measure(args, mode, seed_info, results)
    freshness_measure(args, mode, seed_info, results, sustained)


def sustained_measure(args, mode, seed_info, results) -> float:
    """Closed-loop single-event load with one batch worker counting alongside: the rate the
    whole pipeline keeps up with on this machine."""
    log("sustained: single-event load with a worker counting at the same time")
    with workers_running(args, args.fresh_workers) as (procs, _ready):
        start_count = event_count()
        warm = post_load(args, "/api/v1/events/", mode["warmup"], 1, seed_info)
        counted_before = event_count()
        run = post_load(args, "/api/v1/events/", mode["sustained_seconds"], 1, seed_info)
        counted_after = event_count()
        seconds = run["duration_us"] / 1e6
        accepted_rate = run["by_status"].get("202", 0) / seconds
        counted_rate = (counted_after - counted_before) / seconds
        expected = start_count + warm["by_status"].get("202", 0) + run["by_status"].get("202", 0)
        backlog = expected - counted_after
        done = wait_count(expected, procs, timeout=args.drain_timeout)
        web_mem = memory_sum(args.web.pid)
    keeps_up = backlog <= accepted_rate * 2
    sustained = accepted_rate if keeps_up else counted_rate
    results["sustained"] = {
        "accepted_rate": accepted_rate,
        "counted_rate": counted_rate,
        "backlog_at_end": backlog,
        "drained_seconds_after": done - time.monotonic(),
        "rate": sustained,
        "keeps_up": keeps_up,
        "p50_ms": run["p50_us"] / 1000,
        "p99_ms": run["p99_us"] / 1000,
        "web_memory": web_mem,
    }
    log(
        f"  accepted {accepted_rate:.0f}/s, counted {counted_rate:.0f}/s, backlog {backlog}: "
        f"sustained {sustained:.0f} events/s"
    )
    return sustained


def freshness_measure(args, mode, seed_info, results, sustained: float) -> None:
    freshness = {}
    with workers_running(args, args.fresh_workers) as (procs, _ready):
        for share in (0.5, 0.9):
            freshness[f"{int(share * 100)}"] = _share_run(
                args, mode, seed_info, procs, max(1.0, sustained * share), share
            )
        results["web_memory_after_freshness"] = memory_sum(args.web.pid)
    results["freshness"] = freshness


def _share_run(args, mode, seed_info, procs, rate: float, share: float) -> dict:
    """Open-loop load at `rate` (`share` of the sustained rate), then every event counted."""
    log(f"freshness: open-loop {rate:.0f} events/s ({share:.0%} of sustained)")
    settle(procs)
    before = tally()
    result = openloop(args, mode, seed_info, rate)
    # Every request got an answer: the stored events must move by exactly the 202s.
    accepted = result["by_status"].get("202", 0) + result["markers_accepted"]
    wait_count(before["events"] + accepted, procs, timeout=args.drain_timeout)
    settle(procs)
    result.update(counted_check(tally_change(before, tally()), accepted))
    result["accepted"] = accepted
    result["share"] = share
    log(
        f"  achieved {result['rate_achieved']:.0f}/s, late p99 "
        f"{result['late_p99_ms']:.0f} ms, {result['samples']} markers: lag p50 "
        f"{result['lag_p50_ms'] or 0:.0f} p95 {result['lag_p95_ms'] or 0:.0f} "
        f"p99 {result['lag_p99_ms'] or 0:.0f} ms (a stats read p50 "
        f"{result['read_p50_ms'] or 0:.0f} p99 {result['read_p99_ms'] or 0:.0f} ms); "
        f"{accepted} accepted, "
        f"{result['filtered']} filtered {result['filtered_by_reason']}; exact={result['exact']}"
    )
    return result
