"""Pipeline: events published straight to the queue and counted by 1, 2, 4 batch workers, vs
Celery draining as many no-op tasks with the same concurrency."""

import os
import time

from bench.broker import noop_publish, publish, queue_depth
from bench.checks import counted_check, tally, tally_change
from bench.context import log
from bench.db import analytics_reset
from bench.procs import workers_running
from bench.resources import cpu_delta, cpu_snapshot, memory_sum
from bench.waits import wait_count


def run(args, mode, seed_info, results) -> None:
    """For each worker count: N events published first, then counted; then N no-ops."""
    # Counting slows as the event store grows (the history phase measures that): start from
    # an empty store, not from whatever the ingest phase happened to accept.
    analytics_reset()
    n = mode["pipeline_events"]
    pipeline = {}
    for w in args.workers or mode["workers"]:
        events = events_count(args, seed_info, n, w)
        noop = noop_drain(args, seed_info, n, w)
        log(f"  CPU µs per event: {events['cpu_us_per_event']}")
        log(f"  drained {n} no-ops in {noop['seconds']:.2f}s = {noop['rate']:.0f} tasks/s")
        log(f"  CPU µs per no-op: {noop['cpu_us_per_task']}")
        pipeline[str(w)] = {"events": events, "noop": noop, "ratio": events["rate"] / noop["rate"]}
    results["pipeline"] = pipeline


def events_count(args, seed_info, n: int, w: int) -> dict:
    """n events published, then counted by w batch worker processes."""
    log(f"pipeline: {n} events, {w} batch worker process(es)")
    before = tally()
    published = publish(n, seed_info)
    with workers_running(args, w) as (procs, ready):
        cpu_before = cpu_snapshot()
        marks = {before["events"] + n // 10: None, before["events"] + n * 9 // 10: None}
        done = wait_count(before["events"] + n, procs, timeout=args.drain_timeout, marks=marks)
        rss = {p.name: memory_sum(p.pid) for p in procs}
        cpu = cpu_delta(cpu_before, cpu_snapshot())
    change = tally_change(before, tally())
    lo, hi = sorted(marks)
    events = {
        "published": n,
        "publish_seconds": published["seconds"],
        "publish_rate": n / published["seconds"],
        "seconds": done - ready,
        "rate": n / (done - ready),
        "steady_rate": (hi - lo) / (marks[hi] - marks[lo]) if marks[hi] != marks[lo] else None,
        **counted_check(change, n),
        "plays_credited": change["plays_credited"],
        "plays_filtered": change["plays_filtered"],
        "plays_published": published["plays"],
        "rss": rss,
        "cpu_us_per_event": _us_per(cpu, n),
    }
    # Every published play is on the track counters or filtered.
    plays = events["plays_credited"] + events["plays_filtered"]
    events["exact"] = events["exact"] and plays == published["plays"]
    log(
        f"  counted {events['counted']}/{n} in {events['seconds']:.2f}s = "
        f"{events['rate']:.0f} events/s (steady {events['steady_rate'] or 0:.0f}); "
        f"{events['filtered']} filtered {events['filtered_by_reason']}; exact={events['exact']}"
    )
    return events


def noop_drain(args, seed_info, n: int, w: int) -> dict:
    """n Celery no-op tasks drained by one plain worker with concurrency w."""
    log(f"pipeline: {n} Celery no-op tasks, one plain worker --concurrency {w}")
    noop_queue = os.environ["MVSIC_BENCH_NOOP_QUEUE"]
    noop_publish(n, seed_info)
    with workers_running(args, 1, noop=True, concurrency=w) as (procs, ready):
        cpu_before = cpu_snapshot()
        deadline = time.monotonic() + args.drain_timeout
        while queue_depth(noop_queue) > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("no-op queue did not drain")
            time.sleep(0.05)
        done = time.monotonic()
        rss_noop = {p.name: memory_sum(p.pid) for p in procs}
        cpu = cpu_delta(cpu_before, cpu_snapshot())
    return {
        "tasks": n,
        "seconds": done - ready,
        "rate": n / (done - ready),
        "rss": rss_noop,
        "cpu_us_per_task": _us_per(cpu, n),
    }


def _us_per(cpu: dict[str, float], n: int) -> dict[str, float]:
    """CPU microseconds by role per one of n events or tasks."""
    return {k: round(1e6 * v / n, 1) for k, v in sorted(cpu.items())}
