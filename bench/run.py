"""The event pipeline benchmark: `make bench` (full), `make bench BENCH_ARGS=--quick`, `--smoke`.

Everything runs on this machine, side by side in one run, and is reported as ratios against
baselines measured in the same run (the machine is small and shared):

1. ingest     POST /api/v1/events/ vs a bare DRF view (ceiling) and a naive synchronous
              UPDATE view, one gunicorn configuration for all; plus arrays of 50 events.
2. pipeline   events published straight to the queue, then counted by 1, 2, 4 worker
              processes, vs Celery draining as many no-op tasks with the same concurrency.
3. freshness  lag from a 202 to the stats API showing the event, under open-loop load at
              50% and 90% of the highest rate the whole pipeline sustains here.
4. history    dashboard and stats API time with 10 thousand and 10 million stored events.
5. memory     peak RSS of web and worker processes; worker RSS before and after a soak.

Prints one table and writes bench/results/<timestamp>.json and bench/results/latest.json.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# As a script (`python bench/run.py`) Python puts bench/ first on the path: the repository root
# goes before it, so that `bench` is this package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broker import payloads_make, publish, queue_depth, queues_delete, queues_purge
from bench.context import (
    BATCH,
    BIN,
    INTERRUPTIONS,
    RESULTS,
    ROOT,
    WRK_CONNECTIONS,
    WRK_THREADS,
    configure,
    log,
    retry,
)
from bench.db import (
    analytics_reset,
    counts,
    database_copy,
    database_drop,
    database_prepare,
    event_count,
    history_add,
    seed,
)
from bench.load import openloop, post_load, wrk, wrk_ensure
from bench.procs import (
    free_port,
    process_tree,
    stop_all,
    wait_consumers,
    web_start,
    workers_start,
)
from bench.resources import cpu_delta, cpu_snapshot, memory, memory_sum
from bench.waits import broker_settle, relay_tail, settle, wait_count

MODES = {
    # seconds of each wrk run, events per pipeline run, soak events, history events, ...
    "smoke": dict(
        wrk_seconds=2, warmup=1, rounds=1, pipeline_events=300, soak_events=300, history=(200, 0),
        fresh_seconds=4, get_seconds=2, workers=[1], sustained_seconds=3,
    ),
    "quick": dict(
        wrk_seconds=3, warmup=1, rounds=2, pipeline_events=5_000, soak_events=10_000,
        history=(10_000, 100_000), fresh_seconds=5, get_seconds=3, workers=[1, 2],
        sustained_seconds=4,
    ),
    "full": dict(
        wrk_seconds=8, warmup=3, rounds=4, pipeline_events=40_000, soak_events=1_000_000,
        history=(10_000, 10_000_000), fresh_seconds=30, get_seconds=15, workers=[1, 2, 4],
        sustained_seconds=20,
    ),
}  # fmt: skip

GET_ROUNDS = 7  # of the dashboard and stats API timings, on each history


# --- phases ---------------------------------------------------------------------------------
def phase_ingest(args, mode, seed_info, results) -> tuple[int, int]:
    """Closed-loop wrk against each endpoint, no worker running, in interleaved rounds (so
    drift on a shared machine hits every endpoint alike). Returns events (accepted, sent)."""
    log(f"ingest: the capture endpoint and its baselines, {mode['rounds']} rounds")
    endpoints = [
        ("bare", "/bench/bare/", 1),
        ("durable", "/bench/durable/", 1),
        ("naive", "/bench/naive/", 1),
        ("events", "/api/v1/events/", 1),
        ("bare_batch", "/bench/bare/", BATCH),
        ("events_batch", "/api/v1/events/", BATCH),
    ]
    accepted = sent = 0
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in endpoints}
    cpu: dict[str, dict[str, float]] = {name: {} for name, _, _ in endpoints}
    for round_ in range(mode["rounds"]):
        for name, path, per_request in endpoints:
            if round_ == 0:
                warm = post_load(args, path, mode["warmup"], per_request, seed_info)
                relay_tail()
                broker_settle()
            before = cpu_snapshot()
            loads = [post_load(args, path, mode["wrk_seconds"], per_request, seed_info)]
            if path.startswith("/api/"):
                # A 202 means the events are in the spool: the run lasts until the relays have
                # handed them all to the broker. The broker's writing after that is charged
                # to this run's CPU, never to the next endpoint's run.
                load = loads[0]
                load["relay_tail_us"] = round(relay_tail() * 1e6)
                load["duration_us"] += load["relay_tail_us"]
                load["rps"] = load["requests"] / (load["duration_us"] / 1e6)
                broker_settle()
            for role, seconds in cpu_delta(before, cpu_snapshot()).items():
                cpu[name][role] = cpu[name].get(role, 0.0) + seconds
            if round_ == 0:
                loads.insert(0, warm)
            if path.startswith("/api/"):
                for load in loads:
                    accepted += load["by_status"].get("202", 0) * per_request
                    # Requests in flight when wrk stops are served but never read by wrk.
                    sent += load["events_sent"]
            runs[name].append(loads[-1])
    ingest = {}
    path_of = {name: path for name, path, _ in endpoints}
    for name, _, per_request in endpoints:
        rounds = runs[name]
        seconds = sum(r["duration_us"] for r in rounds) / 1e6
        ok = sum(r["ok"] for r in rounds)
        by_status: dict[str, int] = {}
        for r in rounds:
            for code, n in r["by_status"].items():
                by_status[code] = by_status.get(code, 0) + n
        ingest[name] = {
            "per_request": per_request,
            "rps": sum(r["requests"] for r in rounds) / seconds,
            "events_per_s": ok * per_request / seconds,
            "p50_us": statistics.median(r["p50_us"] for r in rounds),
            "p99_us": statistics.median(r["p99_us"] for r in rounds),
            "rps_rounds": [round(r["rps"]) for r in rounds],
            # Capture only: how long the relays took to hand over the rest after wrk stopped.
            "relay_tail_ms_rounds": [round(r.get("relay_tail_us", 0) / 1000) for r in rounds],
            # CPU milliseconds per request spent by each role (2 cores = 2000 ms per second).
            "cpu_ms_per_request": {
                role: round(1000 * sec / max(1, sum(r["requests"] for r in rounds)), 3)
                for role, sec in sorted(cpu[name].items())
            },
            "by_status": by_status,
            "errors": [r["errors"] for r in rounds],
        }
        run = ingest[name]
        log(
            f"  {name:13s} {run['rps']:8.0f} req/s  {run['events_per_s']:8.0f} events/s  "
            f"p50 {run['p50_us'] / 1000:6.1f} ms  p99 {run['p99_us'] / 1000:6.1f} ms  "
            f"rounds {run['rps_rounds']}  statuses {run['by_status']}"
        )
        if path_of[name].startswith("/api/"):
            log(f"      relay tail after wrk stopped (ms): {run['relay_tail_ms_rounds']}")
        log(f"      CPU ms per request: {run['cpu_ms_per_request']}")
    results["ingest"] = ingest
    return accepted, sent


def phase_pipeline(args, mode, seed_info, results) -> None:
    """For each worker count: N events published first, then counted; then N no-ops."""
    from django.conf import settings

    # Counting slows as the event store grows (the history phase measures that): start from
    # an empty store, not from whatever the ingest phase happened to accept.
    analytics_reset()
    n = mode["pipeline_events"]
    pipeline = {}
    for w in args.workers or mode["workers"]:
        log(f"pipeline: {n} events, {w} batch worker process(es)")
        before = counts()
        published = publish(n, seed_info)
        procs = workers_start(args, w)
        try:
            ready = wait_consumers(settings.MVSIC_EVENTS_QUEUE, w, procs)
            cpu_before = cpu_snapshot()
            marks = {before["events"] + n // 10: None, before["events"] + n * 9 // 10: None}
            done = wait_count(before["events"] + n, procs, timeout=args.drain_timeout, marks=marks)
            rss = {p.name: memory_sum(p.pid) for p in procs}
            cpu = cpu_delta(cpu_before, cpu_snapshot())
        finally:
            stop_all(procs)
        after = counts()
        lo, hi = sorted(marks)
        events = {
            "published": n,
            "publish_seconds": published["seconds"],
            "publish_rate": n / published["seconds"],
            "seconds": done - ready,
            "rate": n / (done - ready),
            "steady_rate": (hi - lo) / (marks[hi] - marks[lo]) if marks[hi] != marks[lo] else None,
            "counted": after["events"] - before["events"],
            "plays_counted": after["plays"] - before["plays"],
            "plays_published": published["plays"],
            "rss": rss,
            "cpu_us_per_event": {k: round(1e6 * v / n, 1) for k, v in sorted(cpu.items())},
        }
        events["exact"] = events["counted"] == n and events["plays_counted"] == published["plays"]
        log(
            f"  counted {events['counted']}/{n} in {events['seconds']:.2f}s = "
            f"{events['rate']:.0f} events/s (steady {events['steady_rate'] or 0:.0f}); "
            f"exact={events['exact']}"
        )

        log(f"pipeline: {n} Celery no-op tasks, one plain worker --concurrency {w}")
        noop_queue = os.environ["MVSIC_BENCH_NOOP_QUEUE"]
        publish(n, seed_info, queue=noop_queue)
        procs = workers_start(args, 1, noop=True, concurrency=w)
        try:
            ready = wait_consumers(noop_queue, 1, procs)
            cpu_before = cpu_snapshot()
            deadline = time.monotonic() + args.drain_timeout
            while queue_depth(noop_queue) > 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("no-op queue did not drain")
                time.sleep(0.05)
            done = time.monotonic()
            rss_noop = {p.name: memory_sum(p.pid) for p in procs}
            cpu = cpu_delta(cpu_before, cpu_snapshot())
        finally:
            stop_all(procs)
        noop = {
            "tasks": n,
            "seconds": done - ready,
            "rate": n / (done - ready),
            "rss": rss_noop,
            "cpu_us_per_task": {k: round(1e6 * v / n, 1) for k, v in sorted(cpu.items())},
        }
        log(f"  CPU µs per event: {events['cpu_us_per_event']}")
        log(f"  drained {n} no-ops in {noop['seconds']:.2f}s = {noop['rate']:.0f} tasks/s")
        log(f"  CPU µs per no-op: {noop['cpu_us_per_task']}")
        pipeline[str(w)] = {"events": events, "noop": noop, "ratio": events["rate"] / noop["rate"]}
    results["pipeline"] = pipeline


def phase_sustained(args, mode, seed_info, results) -> float:
    """Closed-loop single-event load with one batch worker counting alongside: the rate the
    whole pipeline keeps up with on this machine."""
    from django.conf import settings

    log("sustained: single-event load with a worker counting at the same time")
    procs = workers_start(args, args.fresh_workers)
    try:
        wait_consumers(settings.MVSIC_EVENTS_QUEUE, args.fresh_workers, procs)
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
    finally:
        stop_all(procs)
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


def phase_freshness(args, mode, seed_info, results, sustained: float) -> None:
    from django.conf import settings

    freshness = {}
    procs = workers_start(args, args.fresh_workers)
    try:
        wait_consumers(settings.MVSIC_EVENTS_QUEUE, args.fresh_workers, procs)
        for share in (0.5, 0.9):
            rate = max(1.0, sustained * share)
            log(f"freshness: open-loop {rate:.0f} events/s ({share:.0%} of sustained)")
            settle(procs)
            base = event_count()
            result = openloop(args, mode, seed_info, rate)
            # Every request got an answer: the count must move by exactly the 202s.
            accepted = result["by_status"].get("202", 0) + result["markers_accepted"]
            wait_count(base + accepted, procs, timeout=args.drain_timeout)
            settle(procs)
            result["counted"] = event_count() - base
            result["accepted"] = accepted
            result["exact"] = result["counted"] == accepted
            result["share"] = share
            freshness[f"{int(share * 100)}"] = result
            log(
                f"  achieved {result['rate_achieved']:.0f}/s, late p99 "
                f"{result['late_p99_ms']:.0f} ms, {result['samples']} markers: lag p50 "
                f"{result['lag_p50_ms'] or 0:.0f} p95 {result['lag_p95_ms'] or 0:.0f} "
                f"p99 {result['lag_p99_ms'] or 0:.0f} ms"
            )
        results["web_memory_after_freshness"] = memory_sum(args.web.pid)
    finally:
        stop_all(procs)
    results["freshness"] = freshness


def phase_soak(args, mode, seed_info, results) -> None:
    """Worker RSS after a warm-up and after counting `soak_events` more events."""
    from django.conf import settings

    n = mode["soak_events"]
    warm_n = min(50_000, max(n // 10, 100))
    log(f"soak: one batch worker, {warm_n} warm-up events, then {n} events")
    before = counts()
    publish(warm_n, seed_info)
    procs = workers_start(args, 1)
    try:
        wait_consumers(settings.MVSIC_EVENTS_QUEUE, 1, procs)
        wait_count(before["events"] + warm_n, procs, timeout=args.drain_timeout)
        time.sleep(1)
        rss_before = memory_sum(procs[0].pid)
        started = time.monotonic()
        published = publish(n, seed_info)  # the worker counts while this publishes
        done = wait_count(before["events"] + warm_n + n, procs, timeout=args.drain_timeout)
        time.sleep(1)
        rss_after = memory_sum(procs[0].pid)
        main_before = memory(procs[0].pid)[procs[0].pid]
    finally:
        stop_all(procs)
    after = counts()
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
        "counted": after["events"] - before["events"],
        "exact": after["events"] - before["events"] == warm_n + n,
    }
    log(
        f"  worker RSS {rss_before['rss_mb']:.0f} -> {rss_after['rss_mb']:.0f} MiB "
        f"({growth:+.1%}); {n} events in {done - started:.0f}s; exact={results['soak']['exact']}"
    )


def history_measure(args, mode, seed_info, servers: dict[str, int]) -> dict:
    """p50 of each page on each server (one per stored history), in interleaved rounds: every
    round times each page on every server back to back, so a noisy spell hits them alike."""
    urls = {
        "dashboard": (
            f"/dashboard/{seed_info['artist_slug']}/",
            [f"Cookie: sessionid={seed_info['session']}"],
        ),
        "artist_stats_api": (
            f"/api/v1/artists/{seed_info['artist_slug']}/stats/",
            [f"Authorization: Token {seed_info['token']}"],
        ),
        "track_stats_api": (
            f"/api/v1/tracks/{seed_info['artist_track']}/stats/",
            [f"Authorization: Token {seed_info['token']}"],
        ),
    }
    seconds = mode["get_seconds"] / GET_ROUNDS
    rounds = {state: {name: [] for name in urls} for state in servers}
    for port in servers.values():
        for path, headers in urls.values():  # warm every gunicorn worker's caches
            wrk(args, path, 2, script="get.lua", headers=headers, c=4, t=1, port=port)
    for _ in range(GET_ROUNDS):
        for name, (path, headers) in urls.items():
            for state, port in servers.items():
                rounds[state][name].append(page_time(args, path, headers, seconds, port))
    out: dict = {}
    for state, pages in rounds.items():
        out[state] = {}
        for name, runs in pages.items():
            out[state][name] = {
                "rps": statistics.median(r["rps"] for r in runs),
                "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
                "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
                "p50_ms_rounds": [round(r["p50_us"] / 1000, 1) for r in runs],
            }
            m = out[state][name]
            log(
                f"  {state:5s} {name:17s} p50 {m['p50_ms']:6.1f} ms  p99 {m['p99_ms']:6.1f} ms"
                f"  {m['rps']:.0f} req/s  rounds {m['p50_ms_rounds']}"
            )
    return out


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
    """Milliseconds per call of the two stats selectors, in this process (no HTTP, no
    gunicorn): the database's share of the pages, median of `rounds` rounds."""
    from analytics import selectors
    from mvsic.models import Artist, Track

    artist = Artist.objects.get(slug=seed_info["artist_slug"])
    track = Track.objects.select_related("artist").get(pk=seed_info["artist_track"])
    out = {}
    for name, fn in (
        ("artist_stats_get", lambda: selectors.artist_stats_get(artist=artist)),
        ("track_stats_get", lambda: selectors.track_stats_get(track=track)),
    ):
        fn()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            times.append((time.perf_counter() - started) / calls * 1000)
        out[name] = round(statistics.median(times), 2)
    log(f"  in-process selectors (ms per call): {out}")
    return out


def phase_history(args, mode, seed_info, results) -> None:
    """The same recent week of traffic with little and with a lot of older history.

    The small history is kept in a copy of the database with a gunicorn of its own, so both
    are timed in the same interleaved rounds; the ratios are the median of per-round ratios.
    """
    small, big = mode["history"]
    now = datetime.now(UTC)
    week = now - timedelta(days=7)
    analytics_reset()
    log(f"history: {small} events in the last 7 days")
    seconds = history_add(small, week, now, seed_info)
    history = {"small": {"events": small, "generate_seconds": seconds}}
    history["small"]["selectors_ms"] = selectors_time(seed_info)
    servers = {"small": args.port}
    small_db, small_web = f"{args.db}_small", None
    try:
        if big > small:
            args.web.stop()  # a database with sessions open cannot be copied
            database_copy(args.db, small_db)
            args.web = web_start(args)
            log(f"history: + {big - small} events over the two years before (SQL, not HTTP)")
            seconds = history_add(big - small, now - timedelta(days=730), week, seed_info)
            history["big"] = {"events": big, "generate_seconds": seconds}
            history["big"]["selectors_ms"] = selectors_time(seed_info)
            small_port = free_port()
            small_web = web_start(args, port=small_port, db=small_db)
            servers = {"small": small_port, "big": args.port}
        measured = history_measure(args, mode, seed_info, servers)
    finally:
        if small_web is not None:
            small_web.stop()
            retry("dropping the copy", lambda: database_drop(small_db))
    for state in servers:
        history[state].update(measured[state])
    if big > small:
        history["ratios"] = {
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
        if args.pipeline_at_history:
            n = mode["pipeline_events"]
            log(f"history: {n} events counted by one worker on top of {big} stored")
            from django.conf import settings

            before = event_count()
            publish(n, seed_info)
            procs = workers_start(args, 1)
            try:
                ready = wait_consumers(settings.MVSIC_EVENTS_QUEUE, 1, procs)
                done = wait_count(before + n, procs, timeout=args.drain_timeout)
            finally:
                stop_all(procs)
            history["big"]["pipeline_rate_1_worker"] = n / (done - ready)
            log(f"  {n / (done - ready):.0f} events/s")
    results["history"] = history


# --- micro: where a request's time goes -----------------------------------------------------
def phase_micro(seed_info, results) -> None:
    """In-process costs of each step of the capture path and of counting, per event."""
    from django.conf import settings
    from django.utils import timezone

    from analytics import publisher, services, validation

    raw = {
        "id": str(uuid.uuid4()),
        "type": "play",
        "track": seed_info["first_track"],
        "listener": "fan-1",
        "seconds": 31.5,
        "source": "bench",
    }
    body = json.dumps(raw).encode()
    now, skew = timezone.now(), timedelta(seconds=300)
    micro = {}

    def per_call(fn, n=20_000):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - started) / n * 1e6

    micro["json_parse_us"] = per_call(lambda: json.loads(body))
    micro["validate_us"] = per_call(
        lambda: validation.event_validate(raw, listener_cookie=None, now=now, max_skew=skew)
    )
    payload = validation.event_validate(raw, listener_cookie=None, now=now, max_skew=skew)[0]
    micro["task_message_us"] = per_call(lambda: publisher.task_message(payload))
    framer = publisher.TaskFramer(1, "", settings.MVSIC_EVENTS_QUEUE, 131072)
    micro["task_frames_us"] = per_call(lambda: framer.frames([payload]))
    hundred = payloads_make(100, 1, 1)
    micro["group_frames_100_us_per_event"] = per_call(lambda: framer.frames(hundred), 2000) / 100
    broker = publisher.BrokerPublisher(
        settings.CELERY_BROKER_URL, settings.MVSIC_EVENTS_QUEUE, timeout=10, pause=1
    )
    for group in (1, 8, 50):
        rounds = 200
        started = time.perf_counter()
        for _ in range(rounds):
            broker.publish(payloads_make(group, 1, 1))  # as the relay does: one framed message
        micro[f"confirm_round_trip_{group}_ms"] = (time.perf_counter() - started) / rounds * 1e3
    for size in (1, 50, 500):
        batch = payloads_make(size * 20, seed_info["first_track"], seed_info["last_track"])
        started = time.perf_counter()
        for i in range(20):
            services.events_count(payloads=batch[i * size : (i + 1) * size])
        micro[f"events_count_batch_{size}_us_per_event"] = (
            (time.perf_counter() - started) / (20 * size) * 1e6
        )
    queues_purge()  # the confirm round trips queued a few events for the one track
    results["micro"] = micro
    log("micro: " + ", ".join(f"{k} {v:.1f}" for k, v in micro.items()))


# --- profile ----------------------------------------------------------------------------------
def profile(args, pids: list[int], seconds: float, name: str, idle: bool = True):
    """Start py-spy on the given processes (when installed) for `seconds`; returns its output."""
    spy = shutil.which("py-spy") or (BIN / "py-spy" if (BIN / "py-spy").exists() else None)
    if not spy:
        log("profile: py-spy is not installed (pip install py-spy); skipped")
        return None
    outs = []
    for pid in pids:
        out = args.run_dir / f"profile-{name}-{pid}.txt"
        outs.append(
            subprocess.Popen(
                [
                    str(spy),
                    "record",
                    "-p",
                    str(pid),
                    "-d",
                    str(int(seconds)),
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "-r",
                    "200",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        )
    return outs


def profile_summary(run_dir: Path, name: str, top: int = 25) -> dict:
    """Inclusive and self shares of samples per function, over all profiled processes."""
    total = 0
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    for path in run_dir.glob(f"profile-{name}-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
            own[frames[-1]] = own.get(frames[-1], 0) + n

    def shares(counts: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        return [(frame, round(n / total, 3)) for frame, n in ranked[:top]] if total else []

    return {"samples": total, "inclusive": shares(inclusive), "self": shares(own)}


WEB_PARTS = {
    "events_capture (analytics/api.py)": [
        "BoundedJSONParser.parse (analytics/api.py)",
        "event_validate (analytics/validation.py)",
        "track_ids_existing (analytics/selectors.py)",
        "Spool.append (analytics/publisher.py)",
        "Spool._sync (analytics/publisher.py)",
        "BrokerPublisher.publish (analytics/publisher.py)",
        "_json_response (analytics/api.py)",
    ],
    "_Process._relay_run (analytics/publisher.py)": [
        "Spool.take (analytics/publisher.py)",
        "Spool.segments (analytics/publisher.py)",
        "BrokerPublisher.publish (analytics/publisher.py)",
    ],
    "BrokerPublisher._run (analytics/publisher.py)": [
        "Channel.basic_publish_confirm (amqp/channel.py)",
        "Channel._basic_publish (amqp/channel.py)",
        "Connection.drain_events (kombu/connection.py)",
        "Condition.wait (threading.py)",
    ],
    "ThreadWorker.handle (gunicorn/workers/gthread.py)": [
        "WSGIHandler.__call__ (django/core/handlers/wsgi.py)",
        "EventCaptureMiddleware.__call__ (analytics/middleware.py)",
        "events_capture (analytics/api.py)",
    ],
}
WORKER_PARTS = {
    "Consumer.start (celery/worker/consumer/consumer.py)": [
        "EventBatchConsumer.flush (analytics/consumer.py)",
        "EventBatchConsumer.on_message (analytics/consumer.py)",
        "Consumer._receive_callback (kombu/messaging.py)",
        "EpollSelector.poll (kombu/utils/eventio.py)",
    ],
    "events_count (analytics/services.py)": [
        "_payload_parse (analytics/services.py)",
        "_stats_lock (analytics/services.py)",
        "_insert_returning (analytics/services.py)",
        "_counters_apply (analytics/services.py)",
        "Atomic.__exit__ (django/db/transaction.py)",
        "CursorWrapper._execute (django/db/backends/utils.py)",
    ],
}


def profile_breakdown(run_dir: Path, name: str, parts: dict[str, list[str]]) -> dict:
    """For each root frame: its share of all samples, and each part's share of the root's."""
    totals = {root: 0 for root in parts}
    hits = {root: dict.fromkeys(children, 0) for root, children in parts.items()}
    total = 0
    for path in run_dir.glob(f"profile-{name}-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
            for root, children in parts.items():
                if root in frames:
                    below = frames[frames.index(root) + 1 :]
                    totals[root] += n
                    for child in children:
                        if child in below:
                            hits[root][child] += n
    return {
        root: {
            "share_of_samples": round(totals[root] / total, 3) if total else 0,
            **{c: round(h / totals[root], 3) if totals[root] else 0 for c, h in hits[root].items()},
        }
        for root in parts
    }


# --- report -----------------------------------------------------------------------------------
def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def table(results: dict) -> tuple[str, list[dict]]:
    rows: list[tuple[str, str, str, str]] = []
    targets = []

    def target(name: str, value: float | None, goal: str, ok: bool | None) -> None:
        targets.append({"target": name, "value": value, "goal": goal, "result": verdict(ok)})

    ing = results.get("ingest", {})
    if ing:
        for name in ("events", "bare", "durable", "naive", "events_batch", "bare_batch"):
            r = ing[name]
            rows.append(
                (
                    f"ingest {name}",
                    f"{r['rps']:.0f} req/s, {r['events_per_s']:.0f} ev/s",
                    f"p50 {r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms",
                    str(r["by_status"]),
                )
            )

        # Median of the per-round ratios: endpoints of one round ran within a minute of each
        # other, so a busy spell on the shared machine cancels out of each ratio.
        def ratio(a: str, b: str) -> float:
            pairs = zip(ing[a]["rps_rounds"], ing[b]["rps_rounds"], strict=True)
            return statistics.median(x / y for x, y in pairs)

        # What bounds any answer that means "durably accepted": the bare view plus an
        # fsync'd write, against the bare view and the naive one.
        rows.append(
            (
                "ingest ratios (req/s)",
                f"durable / bare {ratio('durable', 'bare'):.2f}",
                f"durable / naive {ratio('durable', 'naive'):.2f}",
                f"events / durable {ratio('events', 'durable'):.2f}",
            )
        )
        vs_naive, vs_bare = ratio("events", "naive"), ratio("events", "bare")
        target("ingest single / naive (req/s)", vs_naive, ">= 1.5", vs_naive >= 1.5)
        target("ingest single / bare DRF (req/s)", vs_bare, ">= 0.75", vs_bare >= 0.75)
        batched = ing["events_batch"]["events_per_s"]
        target("ingest batched events/s", batched, ">= 10000", batched >= 10_000)
    pipe = results.get("pipeline", {})
    for w, p in pipe.items():
        rows.append(
            (
                f"pipeline {w} worker(s)",
                f"{p['events']['rate']:.0f} ev/s (steady {p['events']['steady_rate'] or 0:.0f})",
                f"no-op {p['noop']['rate']:.0f} tasks/s",
                f"ratio {p['ratio']:.2f}, exact {p['events']['exact']}",
            )
        )
    if "1" in pipe:
        ratio = pipe["1"]["ratio"]
        target("pipeline 1 worker / Celery no-op", ratio, ">= 1.5", ratio >= 1.5)
    for w, p in pipe.items():
        if w != "1":
            ratio = p["ratio"]
            target(f"pipeline {w} workers / Celery no-op", ratio, ">= 1.5", ratio >= 1.5)
    if "sustained" in results:
        s = results["sustained"]
        rows.append(
            (
                "sustained (web + worker)",
                f"{s['rate']:.0f} ev/s",
                f"accepted {s['accepted_rate']:.0f}/s, counted {s['counted_rate']:.0f}/s",
                f"backlog at end {s['backlog_at_end']}",
            )
        )
    for share, goal in (("50", 1000), ("90", 2000)):
        f = results.get("freshness", {}).get(share)
        if f:
            rows.append(
                (
                    f"freshness at {share}%",
                    f"{f['rate_achieved']:.0f} ev/s offered",
                    f"lag p50 {f['lag_p50_ms'] or 0:.0f} / p95 {f['lag_p95_ms'] or 0:.0f} / "
                    f"p99 {f['lag_p99_ms'] or 0:.0f} ms",
                    f"{f['samples']} samples, send late p99 {f['late_p99_ms']:.0f} ms",
                )
            )
            p99 = f["lag_p99_ms"]
            target(
                f"freshness p99 at {share}% (ms)",
                p99,
                f"<= {goal}",
                p99 is not None and p99 <= goal,
            )
    hist = results.get("history", {})
    for size in ("small", "big"):
        h = hist.get(size)
        if h:
            rows.append(
                (
                    f"history {h['events']:,} events",
                    f"dashboard p50 {h['dashboard']['p50_ms']:.1f} ms",
                    f"artist API p50 {h['artist_stats_api']['p50_ms']:.1f} ms, "
                    f"track API p50 {h['track_stats_api']['p50_ms']:.1f} ms",
                    f"generated in {h['generate_seconds']:.0f}s",
                )
            )
    if hist.get("big", {}).get("pipeline_rate_1_worker") and "1" in pipe:
        rate, fresh = hist["big"]["pipeline_rate_1_worker"], pipe["1"]["events"]["rate"]
        rows.append(
            (
                f"pipeline on {hist['big']['events']:,} events",
                f"1 worker {rate:.0f} ev/s",
                f"vs {fresh:.0f} ev/s in the pipeline phase (<1M stored)",
                f"ratio {rate / fresh:.2f}",
            )
        )
    if "small" in hist and "big" in hist and "selectors_ms" in hist["small"]:
        small, big = hist["small"]["selectors_ms"], hist["big"]["selectors_ms"]
        rows.append(
            (
                "history selectors, in-process",
                " / ".join(f"{small[k]:.1f} -> {big[k]:.1f} ms" for k in small),
                "artist_stats_get / track_stats_get",
                "ratio " + " / ".join(f"{big[k] / small[k]:.2f}" for k in small),
            )
        )
    if "small" in hist and "big" in hist:
        for page in ("dashboard", "artist_stats_api", "track_stats_api"):
            # Median of per-round ratios; a report of a run before those: ratio of medians.
            ratio = hist.get("ratios", {}).get(page)
            if ratio is None:
                ratio = hist["big"][page]["p50_ms"] / hist["small"][page]["p50_ms"]
            target(f"history {page} p50 big / small", ratio, "<= 1.2", ratio <= 1.2)
    mem = results.get("memory", {})
    if mem:
        rows.append(
            (
                "memory web (all gunicorn)",
                f"peak {mem['web']['hwm_mb']:.0f} MiB",
                f"largest process {mem['web']['max_process_hwm_mb']:.0f} MiB",
                f"{mem['web']['processes']} processes",
            )
        )
    soak = results.get("soak")
    if soak:
        rows.append(
            (
                f"soak {soak['events']:,} events",
                f"worker RSS {soak['rss_before']['rss_mb']:.0f} -> "
                f"{soak['rss_after']['rss_mb']:.0f} MiB",
                f"peak {soak['rss_after']['hwm_mb']:.0f} MiB, {soak['rate']:.0f} ev/s",
                f"exact {soak['exact']}",
            )
        )
        target("worker RSS growth over soak", soak["growth"], "< 0.10", soak["growth"] < 0.10)
    widths = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    for t in targets:
        value = t["value"]
        shown = "-" if value is None else f"{value:,.2f}"
        lines.append(f"{t['result']:4s}  {t['target']:40s} {shown:>12s}  target {t['goal']}")
    if ing:
        lines.append("")
        lines.append("CPU per request (ms; whole machine, by process role):")
        for name in ("events", "bare", "durable", "naive", "events_batch", "bare_batch"):
            shares = ", ".join(f"{k} {v:.2f}" for k, v in ing[name]["cpu_ms_per_request"].items())
            lines.append(f"  {name:13s} {shares}")
    if pipe:
        lines.append("CPU per event counted (µs; whole machine, by process role):")
        for w, p in pipe.items():
            shares = ", ".join(f"{k} {v:.0f}" for k, v in p["events"]["cpu_us_per_event"].items())
            noop = ", ".join(f"{k} {v:.0f}" for k, v in p["noop"]["cpu_us_per_task"].items())
            lines.append(f"  {w} worker(s): {shares}")
            lines.append(f"  no-op, concurrency {w}: {noop}")
    for name, error in results.get("errors", {}).items():
        lines.append(f"phase {name} FAILED: {error}")
    for name, what in results.get("interruptions", {}).items():
        lines.append(
            f"phase {name}: a service went away {len(what)} time(s); its timings are suspect"
        )
    checks = exactness(results)
    lines.append("")
    lines.append("exact counts: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    return "\n".join(lines), targets


def exactness(results: dict) -> dict:
    checks = {}
    if "http_drain" in results:
        d = results["http_drain"]
        checks["http"] = d["exact"]
    for w, p in results.get("pipeline", {}).items():
        checks[f"pipeline_{w}"] = p["events"]["exact"]
    for share, f in results.get("freshness", {}).items():
        checks[f"freshness_{share}"] = f["exact"]
    if "soak" in results:
        checks["soak"] = results["soak"]["exact"]
    return checks


def machine() -> dict:
    def version(command: list[str]) -> str:
        with contextlib.suppress(Exception):
            out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        return "?"

    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    import celery
    import django
    import gunicorn
    import kombu

    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--short", "--untracked-files=no", "analytics", "mvsic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "?",
        ),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.__version__,
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "gunicorn": gunicorn.__version__,
        "postgresql": version(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"]
        ),
        "rabbitmq": version(["rabbitmqctl", "version"]),
        "wrk": version(["wrk", "--version"]),
        "git": git,
        "app_files_modified": [f for f in dirty if f.endswith(".py")],
    }


# --- main -------------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick")
    mode.add_argument("--smoke", action="store_const", dest="mode", const="smoke")
    parser.set_defaults(mode="full")
    parser.add_argument("--db", default="mvsic_bench", help="PostgreSQL database (recreated data)")
    parser.add_argument("--tag", default="bench", help="queue and spool names: mvsic.<tag>.*")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (0: a free one)")
    parser.add_argument("--web-workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--web-threads", type=int, default=8, help="WEB_THREADS")
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=None,
        help="worker process counts for the pipeline measurement, e.g. 1,2,4",
    )  # fmt: skip
    parser.add_argument("--fresh-workers", type=int, default=1, help="workers for freshness")
    parser.add_argument(
        "--only", default="", help="comma-separated phases: ingest,pipeline,freshness,soak,history"
    )
    parser.add_argument("--rounds", type=int, default=None, help="interleaved ingest rounds")
    parser.add_argument("--soak-events", type=int, default=None)
    parser.add_argument("--history-events", type=int, default=None, help="the large history")
    parser.add_argument("--no-pipeline-at-history", dest="pipeline_at_history",
                        action="store_false")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="py-spy the web and worker")
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="seconds a count may stand still"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--report", type=Path, default=None, help="print the table of a result")
    return parser.parse_args(argv)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    if args.report:
        print(table(json.loads(args.report.read_text()))[0])
        return 0
    mode = dict(MODES[args.mode])
    if args.rounds is not None:
        mode["rounds"] = args.rounds
    if args.soak_events is not None:
        mode["soak_events"] = args.soak_events
    if args.history_events is not None:
        mode["history"] = (mode["history"][0], args.history_events)
    phases = set(args.only.split(",")) if args.only else {
        "micro", "ingest", "pipeline", "freshness", "soak", "history"
    }  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    args.run_dir = Path(f"/tmp/mvsic-{args.tag}-{stamp}")
    args.run_dir.mkdir(parents=True)
    args.port = args.port or free_port()
    args.wrk = wrk_ensure()
    configure(args)
    log(f"mode {args.mode}; database {args.db}; logs in {args.run_dir}")
    database_prepare(args)
    results: dict = {
        "mode": args.mode,
        "started": stamp,
        "machine": machine(),
        "config": {
            "web_workers": args.web_workers,
            "web_threads": args.web_threads,
            "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS}",
            **{k: v for k, v in mode.items() if k != "history"},
            "history": list(mode["history"]),
        },
    }
    for directory in ("MVSIC_SPOOL_DIR", "MVSIC_BENCH_DURABLE_DIR"):
        shutil.rmtree(os.environ[directory], ignore_errors=True)
    analytics_reset()
    queues_purge()
    seed_info = seed()
    started = time.monotonic()
    args.web = web_start(args)

    def ingest():
        base = event_count()
        accepted, sent = phase_ingest(args, mode, seed_info, results)
        results["memory"] = {"web": memory_sum(args.web.pid)}
        log(f"draining the {accepted} events accepted over HTTP (one worker)")
        d = drain_http(args, base, accepted, sent)
        results["http_drain"] = d
        log(
            f"  counted {d['counted']} of {d['sent']} sent ({d['accepted']} answered 202): "
            f"{d['rate']:.0f} ev/s"
        )

    def freshness():
        sustained = phase_sustained(args, mode, seed_info, results)
        phase_freshness(args, mode, seed_info, results, sustained)

    steps = [
        ("micro", lambda: phase_micro(seed_info, results)),
        ("ingest", ingest),
        ("profile", lambda: profile_phase(args, mode, seed_info, results)),
        ("freshness", freshness),
        ("pipeline", lambda: phase_pipeline(args, mode, seed_info, results)),
        ("soak", lambda: phase_soak(args, mode, seed_info, results)),
        ("history", lambda: phase_history(args, mode, seed_info, results)),
    ]
    if args.profile:
        phases.add("profile")
    try:
        for name, step in steps:
            if name not in phases:
                continue
            INTERRUPTIONS.clear()
            try:
                step()
            except Exception as exc:
                # A service another test stopped, say: report it, clean up, go on.
                log(f"phase {name} failed: {type(exc).__name__}: {exc}")
                results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
                retry("purging after a failed phase", queues_purge)
            if INTERRUPTIONS:
                results.setdefault("interruptions", {})[name] = list(INTERRUPTIONS)
            if name == "soak":
                results.setdefault("memory", {})["web"] = memory_sum(args.web.pid)
    finally:
        args.web.stop()  # the history phase restarts it
        shutil.rmtree(os.environ["MVSIC_BENCH_DURABLE_DIR"], ignore_errors=True)
        results["seconds"] = time.monotonic() - started
        with contextlib.suppress(Exception):
            queues_delete()
    text, targets = table(results)
    results["targets"] = targets
    results["exact"] = exactness(results)
    results["table"] = text
    # A smoke run with --json keeps bench/results/ for real runs.
    keep = not (args.mode == "smoke" and args.json)
    paths = [RESULTS / f"{stamp}.json", RESULTS / "latest.json"] if keep else []
    for path in [*paths, args.json]:
        if path:
            path.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(text)
    print(f"\nresults: {(paths or [args.json])[0]} ({results['seconds'] / 60:.1f} min)")
    return 0 if all(results["exact"].values()) and not results.get("errors") else 1


def drain_http(args, base: int, accepted: int, sent: int) -> dict:
    """Count what the ingest phase accepted. wrk stops with requests in flight (served, never
    read), so the count must land between the 202s it read and the requests it generated."""
    from django.conf import settings

    procs = workers_start(args, 1)
    try:
        ready = wait_consumers(settings.MVSIC_EVENTS_QUEUE, 1, procs)
        wait_count(base + accepted, procs, timeout=args.drain_timeout)
        done = settle(procs)
    finally:
        stop_all(procs)
    counted = event_count() - base
    return {
        "accepted": accepted,
        "sent": sent,
        "counted": counted,
        "seconds": done - ready,
        "rate": counted / (done - ready),
        "exact": accepted <= counted <= sent,
    }


def profile_phase(args, mode, seed_info, results) -> None:
    """py-spy the gunicorn workers under single-event load, then a worker counting events."""
    from django.conf import settings

    seconds = max(5, mode["wrk_seconds"] // 2)
    web_pids = [p for p in process_tree(args.web.pid) if p != args.web.pid]
    spies = profile(args, web_pids, seconds, "web")
    if spies is None:
        return
    before = event_count()
    run = post_load(args, "/api/v1/events/", seconds, 1, seed_info)
    for spy in spies:
        spy.wait(timeout=60)
    web = profile_summary(args.run_dir, "web")
    # The same for arrays of 50 events: where a batched request's time goes.
    spies = profile(args, web_pids, seconds, "webbatch")
    batch_run = post_load(args, "/api/v1/events/", seconds, BATCH, seed_info)
    for spy in spies:
        spy.wait(timeout=60)
    web_batch = profile_summary(args.run_dir, "webbatch")
    web_batch["breakdown"] = profile_breakdown(args.run_dir, "webbatch", WEB_PARTS)
    # At least the 202s wrk read; settle() then waits for any in flight when it stopped.
    accepted = run["by_status"].get("202", 0) + batch_run["by_status"].get("202", 0) * BATCH
    n = max(mode["pipeline_events"], 20_000)
    publish(n, seed_info)
    procs = workers_start(args, 1)
    try:
        wait_consumers(settings.MVSIC_EVENTS_QUEUE, 1, procs)
        spies = profile(args, [procs[0].pid], seconds, "worker")
        wait_count(before + accepted + n, procs, timeout=args.drain_timeout)
        settle(procs)
        for spy in spies:
            spy.wait(timeout=60)
    finally:
        stop_all(procs)
    worker = profile_summary(args.run_dir, "worker")
    web["breakdown"] = profile_breakdown(args.run_dir, "web", WEB_PARTS)
    worker["breakdown"] = profile_breakdown(args.run_dir, "worker", WORKER_PARTS)
    results["profile"] = {
        "web": web,
        "web_batch": web_batch,
        "worker": worker,
        "files": str(args.run_dir),
    }
    for label, summary in (("web", web), ("web, arrays of 50", web_batch), ("worker", worker)):
        log(f"profile {label}: {summary['samples']} samples; inclusive share:")
        for root, shares in summary["breakdown"].items():
            log(f"  {root}: {shares['share_of_samples']:.1%} of samples; of which")
            for part, share in shares.items():
                if part != "share_of_samples":
                    log(f"    {share:6.1%}  {part}")


if __name__ == "__main__":
    sys.exit(main())
